"""The HTTP API as a client sees it: routes, shapes, paging, errors and access."""

import json
import os
import re
import shutil
import stat
import subprocess
import time
import unittest
import urllib.request

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

        # A page followed by more names the next one; the last page does not.
        with urllib.request.urlopen(a.url + "/blocks?from=10&limit=5") as resp:
            self.assertEqual(resp.headers["Link"], '</blocks?from=15&limit=5>; rel="next"')
            self.assertEqual(resp.headers["X-Chain-Height"], "25")
        pages, path = [], "/blocks?limit=10"
        while path:
            with urllib.request.urlopen(a.url + path) as resp:
                pages.append([b["index"] for b in json.loads(resp.read())])
                link = resp.headers["Link"]
            path = re.match(r"<([^>]+)>; rel=\"next\"", link).group(1) if link else None
        self.assertEqual(pages, [list(range(0, 10)), list(range(10, 20)), list(range(20, 26))])

    def test_regtest_mines_thousands_of_blocks_without_running_ahead_of_the_clock(self):
        # With a time above the median required, ~750 fast blocks pushed the chain's time
        # 120 s ahead of the clock and the miner stalled at 6 blocks/s with a warning a
        # second. Regtest allows the median itself: the chain keeps the clock's time.
        a = self.start_node("A", extra_args=["--mine", "--miner-threads", "1"])
        wait_until(lambda: a.status()["height"] >= 3000, timeout=300,
                   what="3,000 blocks mined")
        tip = a.get("/blocks/latest")
        self.assertLessEqual(tip["timestamp"], time.time() + 5)
        self.assertNotIn("ahead of the clock", a.log_text())

    def test_issue9_quick_mine_block_calls_keep_block_times_with_the_clock(self):
        # 1,200 quick /mineBlock calls had pushed block times 119 s ahead: a peer whose
        # clock was a second slow refused them. Each call here mines one block at once.
        a = self.start_node("A")
        for _ in range(1200):
            a.post("/mineBlock", {"data": ""})
        self.assertEqual(a.status()["height"], 1200)
        newest = max(b["timestamp"] for b in a.get("/blocks?from=1100&limit=101"))
        self.assertLessEqual(newest, time.time() + 2)

    def test_aliases_of_the_seeds(self):
        a = self.start_node("A")
        self.assertEqual(a.post("/mine", {"data": "alias"})["data"], "alias")
        self.assertEqual(a.post("/mineBlock", {"data": "seed"})["index"], 2)
        b = self.start_node("B")
        b.post("/add-to-peer", {"peer": a.ws_url})
        self.assert_same_tip([a, b])

    def test_a_refused_peer_url_is_not_dialed_or_logged_as_dialed(self):
        a = self.start_node("A", extra_args=["--transports", "ws"])
        for url in ("http://127.0.0.1:6001", "ws://127.0.0.1:99999", "tcp://127.0.0.1:6001",
                    "ws://127.0.0.1:6001/a b"):
            status, body = a.request("POST", "/addPeer", {"peer": url})
            self.assertEqual(status, 400, url)
            self.assertEqual(body["error"]["code"], "bad-request", url)
        self.assertEqual(a.get("/peers/known")["manual"], [])
        self.assertNotIn("connecting to", a.log_text())

    def test_status(self):
        a = self.start_node("A")
        a.mine_many(3)
        s = a.status()
        self.assertEqual(s["network"], "regtest")
        self.assertEqual(s["height"], 3)
        self.assertEqual(s["peers"], 0)
        self.assertEqual(len(s["tipHash"]), 64)
        self.assertEqual(len(s["chainwork"]), 64)
        # Decimals read as people write them: 1.0, not boost's 1E0.
        with urllib.request.urlopen(a.url + "/status") as resp:
            self.assertIn('"difficulty":1.0', resp.read().decode())

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
        # The coins digest writes and reads the whole coins set: guarded the same way.
        status, _ = a.request("GET", "/chain/coins", headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 401)
        status, body = a.request("GET", "/chain/coins",
                                 headers={"Origin": "http://evil.example",
                                          "Authorization": "Bearer " + token})
        self.assertEqual((status, body["height"]), (200, 1))

    def test_requests_are_served_while_mining(self):
        # A dev-network node mines with real difficulty; status must answer meanwhile.
        a = self.start_node("A", network="dev", extra_args=["--mine", "--miner-threads", "1"])
        wait_until(lambda: a.height() >= 3, timeout=60, what="dev blocks")
        for _ in range(20):
            self.assertGreaterEqual(a.status()["height"], 3)

    def metrics(self, node):
        """GET /metrics: its Content-Type, its text, and each sample's value by series."""
        with urllib.request.urlopen(node.url + "/metrics", timeout=30) as resp:
            kind = resp.headers["Content-Type"]
            text = resp.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                values[series] = float(value)
        return kind, text, values

    def test_metrics_follow_the_chain_the_peers_and_the_api(self):
        a = self.start_node("A")
        b = self.start_node("B")
        a.mine_many(2, "a")
        b.mine_many(3, "b")
        self.assertEqual(a.request("GET", "/no/such/route")[0], 404)
        # B's heavier chain makes A reorganise two blocks deep.
        a.post("/addPeer", {"peer": b.ws_url})
        self.assert_same_tip([a, b])

        kind, text, m = self.metrics(a)
        self.assertEqual(kind, "text/plain; version=0.0.4; charset=utf-8")
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian package prometheus) is missing: "
                                       "scripts/install-deps.sh installs it")
        check = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                               capture_output=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        self.assertEqual(m["peerchain_tip_height"], 3)
        self.assertEqual(m["peerchain_headers_height"], 3)
        self.assertEqual(m["peerchain_blocks_connected_total"], 5)  # 2 own, then B's 3
        self.assertEqual(m["peerchain_blocks_disconnected_total"], 2)
        self.assertEqual(m["peerchain_block_validation_seconds_count"], 5)
        self.assertGreater(m["peerchain_block_validation_seconds_sum"], 0)
        self.assertEqual(m["peerchain_reorgs_total"], 1)
        self.assertEqual(m["peerchain_reorg_depth_blocks_sum"], 2)
        self.assertEqual(m['peerchain_peers{direction="outbound",transport="ws"}'], 1)
        self.assertEqual(m["peerchain_mempool_transactions"], 0)
        self.assertEqual(m["peerchain_mempool_min_fee_rate"], a.get("/mempool/info")["minFeeRate"])
        self.assertGreater(m["peerchain_chain_work"], 0)
        self.assertGreater(m["peerchain_process_resident_memory_bytes"], 1 << 20)
        self.assertEqual(m['peerchain_api_requests_total{route="/mineBlock",status="200"}'], 2)
        self.assertEqual(m['peerchain_api_requests_total{route="unmatched",status="404"}'], 1)
        self.assertEqual(
            m['peerchain_api_request_duration_seconds_count{route="/mineBlock"}'], 2)
        # A fetched B's three blocks (each over 100 bytes) and asked for them.
        self.assertGreater(m['peerchain_p2p_bytes_total{direction="in",command="block"}'], 300)
        self.assertGreater(m['peerchain_p2p_bytes_total{direction="out",command="getdata"}'], 0)
        self.assertGreater(m['peerchain_p2p_bytes_total{direction="out",command="version"}'], 0)
        self.assertEqual(m['peerchain_p2p_bytes_total{direction="in",command="unknown"}'], 0)
        # B counts its inbound peer; a transaction in A's pool shows at once.
        self.assertEqual(self.metrics(b)[2]['peerchain_peers{direction="inbound",transport="ws"}'], 1)
        a.mine_many(100, "mature")
        self.assertEqual(m['peerchain_mempool_fee_rate{percentile="50"}'], 0)
        txid = a.send(b.address(), 5)
        m = self.metrics(a)[2]
        self.assertEqual(m["peerchain_mempool_transactions"], 1)
        self.assertTrue(re.search(r"^peerchain_mempool_bytes [1-9]", self.metrics(a)[1], re.M))
        tx = a.get(f"/transactions/{txid}")
        for q in ("0", "50", "100"):
            self.assertAlmostEqual(m[f'peerchain_mempool_fee_rate{{percentile="{q}"}}'],
                                   tx["fee"] / tx["size"], places=6)


if __name__ == "__main__":
    unittest.main()
