"""Indexes built after the sync (issue 10): a fresh node syncing a chain of signed
transactions leaves the transaction index and the address histories out while it catches
up, then builds them in the background, and from then on answers every transaction and
address route exactly as its source does. While it builds, a transaction it cannot find
yet answers 503 index-building with the height reached, never a wrong 404."""

import unittest

from harness import NodeTestCase, wait_until

BLOCKS = 600
TXS = 4000
TXS_PER_BLOCK = 20


class IndexBuild(NodeTestCase):
    def test_a_synced_node_builds_its_indexes_and_answers_like_its_source(self):
        a = self.node_with_chain("A", BLOCKS, txs=TXS, txs_per_block=TXS_PER_BLOCK)

        # Transactions from early, middle and late blocks that carry them (from 101 on),
        # and the addresses their outputs pay.
        sample = []
        addresses = set()
        for height in (101, 180, 250, 300):
            block = a.get(f"/blocks/{height}")
            for tx in block["transactions"][:3]:
                sample.append(tx["txid"])
                addresses.update(o["address"] for o in tx["outputs"])
        self.assertGreater(len(sample), 8)

        b = self.start_node("B", peers=[a.ws_url])
        wait_until(lambda: b.tip() == a.tip(), timeout=240, what="B to sync")
        for txid in sample:
            status, body = b.request("GET", f"/transactions/{txid}")
            if status == 503:
                self.assertEqual(body["error"]["code"], "index-building", body)
                self.assertIn("being built", body["error"]["message"])
            else:
                self.assertEqual(status, 200, body)
                self.assertEqual(body["blockHash"], a.get(f"/transactions/{txid}")["blockHash"])

        wait_until(lambda: "indexes built to the tip" in b.log_text(), timeout=240,
                   what="B to build its indexes")
        status = b.status()
        self.assertEqual(status["indexes"],
                         {"enabled": True, "complete": True, "height": status["height"]})
        self.assertIn("building the transaction and address indexes from height 0", b.log_text())
        for txid in sample:
            self.assertEqual(b.get(f"/transactions/{txid}"), a.get(f"/transactions/{txid}"))
        for address in sorted(addresses):
            got = b.get(f"/address/{address}?limit=1000")
            self.assertNotIn("historyHeight", got)
            self.assertEqual(got, a.get(f"/address/{address}?limit=1000"))

        # A restart finds them complete: nothing to build again.
        b.stop()
        b.start()
        self.assertEqual(b.get(f"/transactions/{sample[-1]}"), a.get(f"/transactions/{sample[-1]}"))


if __name__ == "__main__":
    unittest.main()
