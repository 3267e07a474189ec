"""The HTTP API as a client sees it: routes, shapes, paging, errors and access."""

import json
import os
import stat
import unittest

from harness import NodeTestCase, wait_until


class Api(NodeTestCase):
    def test_blocks_routes_and_paging(self):
        a = self.start_node("A")
        genesis = a.get("/blocks")
        self.assertEqual(len(genesis), 1)
        self.assertEqual(genesis[0]["index"], 0)
        mined = a.mine_many(25, "page")
        blocks = a.get("/blocks")
        self.assertEqual([b["index"] for b in blocks], list(range(26)))
        for key in ("index", "hash", "previousHash", "timestamp", "data", "version",
                    "merkleRoot", "bits", "nonce", "difficulty", "transactions"):
            self.assertIn(key, blocks[5])
        self.assertEqual(blocks[5]["data"], "page 4")
        self.assertIn("txid", blocks[5]["transactions"][0])
        page = a.get("/blocks?from=10&limit=5")
        self.assertEqual([b["index"] for b in page], [10, 11, 12, 13, 14])
        self.assertEqual(a.get("/blocks?limit=100000")[-1]["index"], 25)
        self.assertEqual(a.get("/blocks?from=26"), [])
        self.assertEqual(a.get("/blocks/latest")["hash"], mined[-1]["hash"])
        self.assertEqual(a.get("/blocks/7")["hash"], blocks[7]["hash"])
        self.assertEqual(a.get(f"/blocks/{blocks[7]['hash']}")["index"], 7)

    def test_aliases_of_the_seeds(self):
        a = self.start_node("A")
        self.assertEqual(a.post("/mine", {"data": "alias"})["data"], "alias")
        self.assertEqual(a.post("/mineBlock", {"data": "seed"})["index"], 2)
        b = self.start_node("B")
        b.post("/add-to-peer", {"peer": a.ws_url})
        self.assert_same_tip([a, b])

    def test_status(self):
        a = self.start_node("A")
        a.mine_many(3)
        s = a.status()
        self.assertEqual(s["network"], "regtest")
        self.assertEqual(s["height"], 3)
        self.assertEqual(s["peers"], 0)
        self.assertEqual(len(s["tipHash"]), 64)
        self.assertEqual(len(s["chainwork"]), 64)

    def test_cookie_is_private_and_guards_non_loopback_clients(self):
        a = self.start_node("A")
        cookie = os.path.join(a.data_dir, ".cookie")
        mode = stat.S_IMODE(os.stat(cookie).st_mode)
        self.assertEqual(mode, 0o600)
        token = a.token()
        self.assertEqual(len(token), 64)
        # A wrong token is refused even from loopback.
        status, body = a.request("POST", "/mineBlock", {"data": "x"},
                                 headers={"Authorization": "Bearer " + "0" * 64})
        self.assertEqual((status, body["error"]["code"]), (401, "unauthorized"))
        status, _ = a.request("POST", "/mineBlock", {"data": "x"},
                              headers={"Authorization": "Bearer " + token})
        self.assertEqual(status, 200)
        # A browser page from elsewhere cannot borrow the loopback exemption.
        status, _ = a.request("POST", "/mineBlock", {"data": "x"},
                              headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 401)

    def test_requests_are_served_while_mining(self):
        # A dev-network node mines with real difficulty; status must answer meanwhile.
        a = self.start_node("A", network="dev", extra_args=["--mine", "--miner-threads", "1"])
        wait_until(lambda: a.height() >= 3, timeout=60, what="dev blocks")
        for _ in range(20):
            self.assertGreaterEqual(a.status()["height"], 3)


if __name__ == "__main__":
    unittest.main()
