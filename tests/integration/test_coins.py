"""Coins that move (issue 3, point 8): wallets, payments, the pool, relay, double spends and
reorgs, with real peerchain processes on loopback."""

import os
import shutil
import stat
import subprocess
import unittest

from harness import BINARY, NodeTestCase, RawWebSocket, wait_until

COIN = 100_000_000
SUBSIDY = 50 * COIN
MATURITY = 100


def total(balance):
    return balance["confirmed"] + balance["pending"] + balance["immature"]


class CoinsThatMove(NodeTestCase):
    def start_isolated_copy(self, name, source, wallet_from=None):
        """A node that syncs `source`'s chain and stops, to be restarted alone later.
        With `wallet_from`, it gets that node's wallet file first (the same keys)."""
        node = self.start_node(name, peers=[source.ws_url])
        if wallet_from is not None:
            node.stop()
            shutil.copy(os.path.join(wallet_from.data_dir, "wallet.json"),
                        os.path.join(node.data_dir, "wallet.json"))
            node.start()
        wait_until(lambda: node.tip() == source.tip(), what=f"{name} to sync")
        node.stop()
        node.peers = []
        return node

    def test_a_payment_crosses_three_nodes_is_mined_survives_a_reorg_and_no_double_spend(self):
        a = self.start_node("A")
        b = self.start_node("B", peers=[a.ws_url])
        c = self.start_node("C", peers=[b.ws_url])

        # A mines past coinbase maturity: at tip 101 the coinbases of heights 1 and 2 may be
        # spent by the next block.
        a.mine_many(MATURITY + 1, "A")
        self.assert_same_tip([a, b, c])
        before = a.balance()
        self.assertEqual(before["confirmed"], 2 * SUBSIDY)
        self.assertEqual(before["immature"], (MATURITY - 1) * SUBSIDY)
        self.assertEqual(b.balance(), {"confirmed": 0, "pending": 0, "immature": 0})

        # Two nodes that know this chain and go quiet: E holds a copy of A's wallet (its
        # payment will double-spend A's), D will later mine a longer branch without A's
        # payment.
        e = self.start_isolated_copy("E", a, wallet_from=a)
        d = self.start_isolated_copy("D", a)

        # A pays 10 coins to B, with a note; every node's pool has it within a moment.
        to_b = b.address()
        txid = a.send(to_b, 10 * COIN, data="rent for March")
        for node in (a, b, c):
            wait_until(lambda node=node: txid in node.mempool_txids(),
                       what=f"the payment in {node.name}'s pool")
        pooled = c.get(f"/transactions/{txid}")
        self.assertTrue(pooled["inMempool"])
        self.assertNotIn("blockHash", pooled)
        fee = pooled["fee"]
        self.assertGreater(fee, 0)
        wait_until(lambda: b.balance()["pending"] == 10 * COIN, what="B to see the payment")
        self.assertEqual(b.balance()["confirmed"], 0)

        # E, alone, spends A's two mature coins elsewhere: a double spend of A's payment.
        e.start()
        e_txid = e.send(e.address(), 60 * COIN)
        double = e.get(f"/transactions/{e_txid}")["hex"]
        for node in (a, b, c):
            status, reply = node.request("POST", "/transactions", {"hex": double})
            self.assertEqual(status, 409, f"{node.name}: {reply}")
            self.assertEqual(reply["error"]["code"], "txn-mempool-conflict")
            self.assertIn("double spend", reply["error"]["message"])
            self.assertIn(txid, reply["error"]["message"])

        # C mines the payment; the fee goes to C's coinbase.
        block = c.mine("C takes the payment")
        self.assertIn(txid, [t["txid"] for t in block["transactions"]])
        self.assertEqual(block["transactions"][0]["outputs"][0]["amount"], SUBSIDY + fee)
        tip = self.assert_same_tip([a, b, c])
        self.assertEqual(tip, block["hash"])
        for node in (a, b, c):
            wait_until(lambda node=node: txid not in node.mempool_txids(),
                       what=f"the payment to leave {node.name}'s pool")

        self.assertEqual(b.balance(), {"confirmed": 10 * COIN, "pending": 0, "immature": 0})
        after = a.balance()
        self.assertEqual(total(before) - total(after), 10 * COIN + fee)

        mined = a.get(f"/transactions/{txid}")
        self.assertEqual(mined["blockHash"], block["hash"])
        self.assertEqual(mined["confirmations"], 1)
        self.assertEqual(mined["data"], "rent for March")
        self.assertEqual(mined["fee"], fee)
        self.assertIn(to_b, [o["address"] for o in mined["outputs"]])

        # Once mined, the double spend is refused as spending spent outputs.
        for node in (a, b, c):
            status, reply = node.request("POST", "/transactions", {"hex": double})
            self.assertEqual(status, 400, f"{node.name}: {reply}")
            self.assertEqual(reply["error"]["code"], "bad-txns-inputs-missingorspent")
            self.assertIn("double spend", reply["error"]["message"])

        # D mines two blocks alone and joins: its branch has more work, the block with
        # the payment is disconnected everywhere and the payment returns to the pools.
        d.start()
        d.mine_many(2, "D")
        d.post("/addPeer", {"peer": a.ws_url})
        self.assert_same_tip([a, b, c, d])
        self.assertEqual(a.height(), MATURITY + 3)
        for node in (a, b, c):
            wait_until(lambda node=node: txid in node.mempool_txids(),
                       what=f"the payment back in {node.name}'s pool")
        self.assertEqual(b.balance(), {"confirmed": 0, "pending": 10 * COIN, "immature": 0})

        # ... and it is mined again.
        again = a.mine("A takes it again")
        self.assertIn(txid, [t["txid"] for t in again["transactions"]])
        self.assert_same_tip([a, b, c, d])
        self.assertEqual(c.get(f"/transactions/{txid}")["blockHash"], again["hash"])
        self.assertEqual(b.balance()["confirmed"], 10 * COIN)
        e.stop()

    def test_a_peer_relaying_a_forged_transaction_is_dropped(self):
        a = self.start_node("A")
        a.mine_many(MATURITY + 1, "A")
        b = self.start_isolated_copy("B", a)
        txid = a.send(a.address(), COIN)
        forged = bytearray.fromhex(a.get(f"/transactions/{txid}")["hex"])
        forged[4 + 1 + 32 + 4 + 63] ^= 1  # the last byte of input 0's signature
        b.start()

        liar = RawWebSocket(b.p2p_port)
        liar.handshake(network_magic=b"pcrt", height=MATURITY + 1, listen_port=45678)
        liar.send_frame(bytes([13]) + bytes(forged))
        self.assertTrue(liar.closed_by_peer(), "the forger was not dropped")
        liar.close()
        wait_until(lambda: "bad-txns-signature" in open(b.log_path, errors="replace").read(),
                   what="B to log the reason")
        self.assertEqual(b.mempool_txids(), set())

        # A local peer is disconnected, never discouraged (on loopback every node of the
        # machine shares the host, and the port is the peer's to claim): the operator bans
        # it by the listening port it gave, and then it is refused.
        self.assertEqual(b.wallet("GET", "/bans"), [])
        b.wallet("POST", "/bans", {"address": "127.0.0.1:45678", "seconds": 3600})
        again = RawWebSocket(b.p2p_port)
        again.send_version(network_magic=b"pcrt", height=MATURITY + 1, listen_port=45678)
        self.assertTrue(again.closed_by_peer(), "the banned peer got back in")
        again.close()

        # An honest peer is still welcome, and the genuine transaction still goes through.
        self.assertEqual(b.post("/transactions", {"hex": a.get(f"/transactions/{txid}")["hex"]})
                         ["txid"], txid)

    def test_wallet_routes_need_the_token_even_from_loopback(self):
        a = self.start_node("A")
        for path, method in (("/wallet/address", "GET"), ("/wallet/balance", "GET"),
                             ("/wallet/send", "POST")):
            status, reply = a.request(method, path, {"to": "x", "amount": 1})
            self.assertEqual(status, 401, path)
            self.assertEqual(reply["error"]["code"], "unauthorized")
            status, reply = a.request(method, path, {"to": "x", "amount": 1},
                                      headers={"Authorization": "Bearer " + "0" * 64})
            self.assertEqual(status, 401, path)
        self.assertTrue(a.address().startswith("pcrt1"))

        wallet = os.path.join(a.data_dir, "wallet.json")
        self.assertEqual(stat.S_IMODE(os.stat(wallet).st_mode), 0o600)

    def test_hostile_payments_are_refused_with_a_reason(self):
        a = self.start_node("A")
        b = self.start_node("B")
        a.mine_many(MATURITY + 1, "A")
        to_b = b.address()

        def refused(body, code=None):
            status, reply = a.wallet_request("POST", "/wallet/send", body)
            # 400: a malformed request; 422: well formed, but the wallet cannot do it.
            self.assertIn(status, (400, 422), f"{body}: {reply}")
            if code is not None:
                self.assertEqual(reply["error"]["code"], code, body)
            return reply

        refused({"to": to_b, "amount": -5 * COIN})
        refused({"to": to_b, "amount": 0})
        refused({"to": to_b, "amount": "10"})
        refused({"to": to_b, "amount": 10.5})
        refused({"to": to_b, "amount": 10 ** 30})
        refused({"to": to_b, "amount": 1000 * COIN}, "insufficient-funds")
        refused({"to": "pc1" + to_b[5:], "amount": COIN})  # another network's prefix
        refused({"to": to_b, "amount": COIN, "data": "x" * 70000})

        # A valid payment, then its bytes tampered with: a negative output mints nothing.
        txid = a.send(to_b, COIN)
        raw = bytearray.fromhex(a.get(f"/transactions/{txid}")["hex"])
        n_in = raw[4]
        first_amount = 4 + 1 + n_in * 100 + 1
        raw[first_amount:first_amount + 8] = (2 ** 64 - COIN).to_bytes(8, "little")
        status, reply = a.request("POST", "/transactions", {"hex": raw.hex()})
        self.assertEqual(status, 400)
        self.assertEqual(reply["error"]["code"], "bad-txns-vout-negative")

        # The same output raised: the signature no longer matches.
        raw[first_amount:first_amount + 8] = (2 * COIN).to_bytes(8, "little")
        # (Its inputs are those of the pooled original, so the pool may name the conflict
        # before it checks the signature.)
        status, reply = a.request("POST", "/transactions", {"hex": raw.hex()})
        expected = {"bad-txns-signature": 400, "txn-mempool-conflict": 409}
        self.assertIn(reply["error"]["code"], expected)
        self.assertEqual(status, expected[reply["error"]["code"]])

        for bad in ("zz", "00", "", "ab" * 200_001):
            status, reply = a.request("POST", "/transactions", {"hex": bad})
            self.assertIn(status, (400, 413), bad[:10])
            self.assertIn("error", reply)
        self.assertEqual(a.mempool_txids(), {txid})

    def test_the_pool_survives_a_clean_restart(self):
        a = self.start_node("A")
        a.mine_many(MATURITY + 1, "A")
        txid = a.send(a.address(), 3 * COIN, data="kept")
        a.stop()
        a.start()
        self.assertIn(txid, a.mempool_txids())
        self.assertEqual(a.get(f"/transactions/{txid}")["data"], "kept")

    def test_mine_to_pays_another_address(self):
        b = self.start_node("B")
        a = self.start_node("A", peers=[b.ws_url], extra_args=["--mine-to", b.address()])
        block = a.mine("for B")
        wait_until(lambda: b.height() == 1, what="B to get the block")
        self.assertEqual(b.balance()["immature"], SUBSIDY)
        self.assertEqual(total(a.balance()), 0)
        self.assertEqual(block["transactions"][0]["outputs"][0]["address"], b.address())

        bad = self.start_node("C")
        bad.stop()
        bad.extra_args = ["--mine-to", "pc1notanaddress"]
        with self.assertRaises(AssertionError):
            bad.start(timeout=10)

    def test_command_line_wallet(self):
        a = self.start_node("A")
        b = self.start_node("B", peers=[a.ws_url])
        a.mine_many(MATURITY + 1, "A")

        def cli(node, *args):
            out = subprocess.run(
                [BINARY, "wallet", *args, "--network", "regtest", "--data-dir", node.data_dir],
                capture_output=True, text=True, timeout=30)
            return out.returncode, out.stdout + out.stderr

        code, out = cli(b, "address")
        self.assertEqual(code, 0, out)
        to_b = out.strip().split()[-1]
        self.assertEqual(to_b, b.address())

        code, out = cli(a, "send", to_b, "2.5", "--data", "from the command line")
        self.assertEqual(code, 0, out)
        wait_until(lambda: b.balance()["pending"] == 250_000_000, what="B to see 2.5 coins")

        code, out = cli(b, "balance", "--json")
        self.assertEqual(code, 0, out)
        self.assertIn("250000000", out)

        code, out = cli(a, "send", to_b, "100000")
        self.assertNotEqual(code, 0)
        self.assertIn("insufficient", out)

        stopped = self.start_node("S")
        stopped.stop()
        code, out = cli(stopped, "balance")
        self.assertNotEqual(code, 0)
        self.assertIn("no node is running", out)


if __name__ == "__main__":
    unittest.main()
