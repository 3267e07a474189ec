"""A node run with --no-index (issue 10): it mines and serves its pool, the routes that need
an index answer 503 index-disabled, and a restart without the flag rebuilds the indexes,
blocks mined without them included, so that every route answers with the right data."""

import unittest

from harness import NodeTestCase

COIN = 100_000_000
SUBSIDY = 50 * COIN
MATURITY = 100


class NoIndex(NodeTestCase):
    def assert_index_disabled(self, status, reply, what):
        self.assertEqual(status, 503, f"{what}: {reply}")
        self.assertEqual(reply["error"]["code"], "index-disabled", what)
        self.assertIn("--no-index", reply["error"]["message"], what)

    def test_routes_refuse_without_the_index_and_a_restart_with_it_rebuilds_it(self):
        node = self.start_node("N")
        miner = node.address()
        node.post("/mineBlock", {"count": MATURITY + 1})
        first_coinbase = node.get("/blocks/1")["transactions"][0]["txid"]
        # A payment to another key of the wallet (blocks are mined to the first one) waits
        # in the pool when the node stops, which saves the pool.
        payee = node.wallet("POST", "/wallet/address")["address"]
        paid = node.send(payee, 7 * COIN, data="paid while indexed")
        node.stop()

        node.extra_args = ["--no-index"]
        node.start()
        self.assertIn("running without indexes", node.log_text())
        self.assertEqual(node.status()["indexes"], {"enabled": False})
        # The pool is served as before.
        pooled = node.get(f"/transactions/{paid}")
        self.assertTrue(pooled["inMempool"])
        # A block mined without the indexes confirms the payment.
        made = node.post("/mineBlock", {"data": "mined without indexes", "to": miner})
        mined = node.get(f"/blocks/{made['blocks'][0]['hash']}")
        self.assertEqual(mined["index"], MATURITY + 2)
        self.assertIn(paid, [tx["txid"] for tx in mined["transactions"]])
        node.post("/mineBlock", {"count": 3, "to": miner})
        for path in (f"/transactions/{paid}", f"/transactions/{first_coinbase}",
                     f"/address/{payee}", f"/address/{payee}?limit=1"):
            status, reply = node.request("GET", path)
            self.assert_index_disabled(status, reply, path)
        for method, path, body in (("GET", "/wallet/balance", None),
                                   ("GET", "/wallet/utxos", None),
                                   ("POST", "/wallet/send", {"to": payee, "amount": COIN})):
            status, reply = node.wallet_request(method, path, body)
            self.assert_index_disabled(status, reply, path)
        # What needs no index still works: a malformed address is still refused as such.
        status, reply = node.request("GET", "/address/not-an-address")
        self.assertEqual(status, 400, reply)
        self.assertEqual(node.height(), MATURITY + 5)
        node.stop()

        node.extra_args = []
        node.start()
        self.assertIn("upgrading the store", node.log_text())
        tx = node.get(f"/transactions/{paid}")
        self.assertFalse(tx["inMempool"])
        self.assertEqual(tx["blockHeight"], MATURITY + 2)
        self.assertEqual(tx["blockHash"], mined["hash"])
        self.assertEqual(tx["confirmations"], 4)
        self.assertEqual(node.get(f"/transactions/{first_coinbase}")["blockHeight"], 1)
        # The payment and its change (the wallet's receive key is the new one) went to the
        # payee: one coinbase less the fee.
        fee = tx["fee"]
        to_payee = node.get(f"/address/{payee}")
        self.assertEqual(to_payee["balance"], SUBSIDY - fee)
        self.assertEqual(to_payee["utxoCount"], 2)
        self.assertEqual([(t["txid"], t["height"], t["received"], t["sent"])
                          for t in to_payee["transactions"]],
                         [(paid, MATURITY + 2, SUBSIDY - fee, 0)])
        to_miner = node.get(f"/address/{miner}?limit=1000")
        self.assertEqual(len(to_miner["transactions"]), MATURITY + 5 + 1)  # and the spend
        self.assertEqual(to_miner["transactions"][0]["height"], MATURITY + 5)

        # The wallet sees every coin again, those mined without the indexes included: 105
        # coinbases, one of them spent to pay itself; the fee came back in the coinbase of
        # block 102, which is still immature, like those of blocks 7 to 105.
        balance = node.balance()
        self.assertEqual(balance["confirmed"] + balance["immature"], (MATURITY + 5) * SUBSIDY)
        self.assertEqual(balance["immature"], (MATURITY - 1) * SUBSIDY + fee)
        again = node.send(miner, COIN)
        self.assertIn(again, node.mempool_txids())
        node.post("/mineBlock", {"count": 1, "to": miner})
        self.assertEqual(node.get(f"/transactions/{again}")["blockHeight"], MATURITY + 6)


if __name__ == "__main__":
    unittest.main()
