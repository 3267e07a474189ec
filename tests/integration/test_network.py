"""Multi-node scenarios with real peerchain processes on loopback (issue 2, point 8)."""

import os
import re
import struct
import time
import unittest
import urllib.request

from harness import NodeTestCase, Node, RawWebSocket, raw_tcp, wait_until


class SeedNetwork(NodeTestCase):
    def test_three_nodes_reach_the_same_tip_and_blocks_flow_back(self):
        a = self.start_node("A")
        mined = a.mine_many(20, "from A")
        self.assertEqual(a.height(), 20)
        self.assertEqual(mined[-1]["index"], 20)

        # B learns of A from the seeds' environment variable, as in the tutorials.
        b = self.start_node("B", env_peers=a.ws_url)
        # C is joined to B at run time with POST /addPeer.
        c = self.start_node("C")
        reply = c.post("/addPeer", {"peer": b.ws_url})
        self.assertEqual(reply["peer"], b.ws_url)

        tip = self.assert_same_tip([a, b, c])
        self.assertEqual(tip, mined[-1]["hash"])
        self.assertEqual(c.height(), 20)
        wait_until(lambda: b.peer_count() == 2, what="B to see both peers")
        directions = sorted(p["direction"] for p in b.get("/peers"))
        self.assertEqual(directions, ["inbound", "outbound"])

        # (b) a block mined on C reaches A through B.
        block = c.mine("from C")
        wait_until(lambda: a.tip() == block["hash"], what="C's block on A")
        got = a.get(f"/blocks/{block['hash']}")
        self.assertEqual(got["data"], "from C")
        self.assertEqual(got["index"], 21)

    def test_two_chains_mined_apart_converge_on_the_most_work(self):
        a = self.start_node("A")
        b = self.start_node("B")
        a.mine_many(5, "short")
        long_branch = b.mine_many(8, "long")
        a.post("/addPeer", {"peer": b.ws_url})
        tip = self.assert_same_tip([a, b])
        self.assertEqual(tip, long_branch[-1]["hash"])
        self.assertEqual(a.height(), 8)
        self.assertEqual(a.get("/blocks/5")["data"], "long 4")
        # The node that reorganized keeps serving and mining on the winning branch.
        nxt = a.mine("after reorg")
        self.assertEqual(nxt["previousHash"], long_branch[-1]["hash"])
        wait_until(lambda: b.tip() == nxt["hash"], what="the post-reorg block on B")

    def test_a_node_killed_mid_sync_restarts_and_finishes(self):
        total = 60000
        source_dir = os.path.join(self.tmpdir(), "source")
        os.makedirs(source_dir)
        self.make_chain(source_dir, total)
        a = Node("A", data_dir=source_dir)
        self.nodes.append(a)
        a.start()
        self.assertEqual(a.height(), total)

        b = self.start_node("B", peers=[a.ws_url])
        # Past a few sync batches, so that what the restart keeps is worth checking.
        killed_at = wait_until(lambda: b.height() > 2500 and b.height(), timeout=60,
                               interval=0.001, what="B to sync a few batches")
        b.kill()
        self.assertLess(killed_at, total, "the kill came after the sync had finished")
        b.start()
        # During initial sync B writes the blocks it connects in batches of up to 1000
        # (docs/STORAGE.md, section 3); every batch written before the kill survives it, so
        # B restarts at most two batches behind where it was seen (the one it gathered and
        # the one its writer had not yet written), at a block it has whole, and fetches the
        # rest again.
        self.assertGreaterEqual(b.height(), max(0, killed_at - 2000))
        self.assertLessEqual(b.height(), total)
        wait_until(lambda: b.height() == total, timeout=120, what="B to finish syncing")
        self.assertEqual(b.tip(), a.tip())
        # The store is whole: blocks from the middle read back the same on both.
        for height in (1, killed_at, (killed_at + total) // 2, total):
            self.assertEqual(b.get(f"/blocks/{height}")["hash"], a.get(f"/blocks/{height}")["hash"])

    def test_a_peer_serving_faster_than_blocks_are_handled_is_slowed_not_dropped(self):
        # Blocks of 1,000 signed transactions (about 250 KB each) against a 64 KiB receive
        # buffer: B's queue of unhandled messages passes it with every block A sends. B
        # stops reading from A until it has caught up (TCP then holds A back), as Bitcoin
        # Core pauses a peer at -maxreceivebuffer; before, such a peer was dropped as
        # flooding however honest it was.
        a = self.node_with_chain("A", 101, txs=20_000, txs_per_block=1_000)
        total = a.height()
        self.assertGreater(total, 120)
        b = self.start_node("B", peers=[a.tcp_url], extra_args=["--max-receive-buffer", "64"])
        wait_until(lambda: b.handshaken("outbound"), what="B's link to A")
        link = b.handshaken("outbound")[0]["id"]
        wait_until(lambda: b.height() == total, timeout=120, what="B to sync the large blocks")
        self.assertEqual(b.tip(), a.tip())
        # The same link all along, and it was paused.
        self.assertEqual([p["id"] for p in b.handshaken("outbound")], [link])
        self.assertNotIn("flooding", b.log_text())
        self.assertNotIn("flooding", a.log_text())
        with urllib.request.urlopen(b.url + "/metrics", timeout=30) as resp:
            metrics = resp.read().decode()
        pauses = re.search(r"^peerchain_p2p_receive_pauses_total (\d+)", metrics, re.M)
        self.assertIsNotNone(pauses)
        self.assertGreater(int(pauses.group(1)), 0)

    def test_a_clean_stop_keeps_the_chain(self):
        a = self.start_node("A")
        a.mine_many(7)
        tip = a.tip()
        self.assertEqual(a.stop(), 0)
        self.assertFalse(os.path.exists(os.path.join(a.data_dir, ".cookie")))
        a.start()
        self.assertEqual(a.tip(), tip)
        self.assertEqual(a.height(), 7)

    def test_kill_9_right_after_mining_keeps_a_consistent_tip(self):
        a = self.start_node("A")
        a.mine_many(12)
        a.kill()
        a.start()
        self.assertEqual(a.height(), 12)
        # Everything the node says about its chain agrees with itself.
        blocks = a.get("/blocks")
        self.assertEqual(len(blocks), 13)
        for parent, child in zip(blocks, blocks[1:]):
            self.assertEqual(child["previousHash"], parent["hash"])
        a.mine("after restart")
        self.assertEqual(a.height(), 13)

    def test_a_second_node_on_a_data_dir_in_use_leaves_the_first_ones_files(self):
        # Issue 7: the second process failed on the store's lock, as it should, but took
        # the running node's node.json with it, so the CLI could no longer find the node.
        import subprocess
        a = self.start_node("A")
        info = os.path.join(a.data_dir, "node.json")
        with open(info) as f:
            before = f.read()
        second = subprocess.run(
            [os.environ.get("PEERCHAIN_BIN", "peerchain"), "node", "--network", "regtest",
             "--data-dir", a.data_dir, "--http-port", "0", "--p2p-port", "0"],
            capture_output=True, timeout=60)
        self.assertNotEqual(second.returncode, 0)
        with open(info) as f:
            self.assertEqual(f.read(), before)
        self.assertTrue(os.path.exists(os.path.join(a.data_dir, ".cookie")))
        cli = subprocess.run(
            [os.environ.get("PEERCHAIN_BIN", "peerchain"), "wallet", "address", "--network",
             "regtest", "--data-dir", a.data_dir], capture_output=True, text=True, timeout=60)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertTrue(cli.stdout.strip().startswith("pcrt1"))

    # --- helpers -----------------------------------------------------------------------

    def tmpdir(self):
        import tempfile, shutil
        d = tempfile.mkdtemp(prefix="peerchain-it-")
        self.addCleanup(shutil.rmtree, d, True)
        return d


def regtest_header(prev, valid_pow):
    """An 80-byte regtest header on `prev` with a junk merkle root and a time a minute ahead
    (above the median time past of a quickly mined chain, within the allowed drift),
    whose proof of work meets (or, when valid_pow is false, misses) the regtest target."""
    import hashlib
    target = 0x7FFFFF << (8 * (0x20 - 3))
    for nonce in range(1 << 20):
        header = (struct.pack("<I", 1) + prev + b"\x11" * 32 +
                  struct.pack("<III", int(time.time()) + 60, 0x207FFFFF, nonce))
        digest = hashlib.sha256(hashlib.sha256(header).digest()).digest()
        if (int.from_bytes(digest, "little") <= target) == valid_pow:
            return header
    raise AssertionError("no nonce found")


class HostileInput(NodeTestCase):
    def test_garbage_on_the_p2p_port_leaves_the_node_serving_its_peers(self):
        a = self.start_node("A")
        b = self.start_node("B", peers=[a.ws_url])
        wait_until(lambda: a.peer_count() == 1 and b.peer_count() == 1, what="A and B linked")

        raw_tcp(a.p2p_port, b"\x00\xff" * 5000)                     # not HTTP at all
        raw_tcp(a.p2p_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")   # HTTP, no upgrade
        for frame in (b"", b"\xff\xfe\xfd", b"\x0b" + os.urandom(300), os.urandom(4096)):
            ws = RawWebSocket(a.p2p_port)
            ws.send_frame(frame)
            self.assertTrue(ws.closed_by_peer(), f"frame {frame[:8]!r} did not get us dropped")
            ws.close()
        ws = RawWebSocket(a.p2p_port)
        ws.send_frame(b"x", declared_length=1 << 40)  # claims a terabyte
        self.assertTrue(ws.closed_by_peer())
        ws.close()
        ws = RawWebSocket(a.p2p_port)
        ws.send_frame(b"hello", opcode=0x1)  # text frames are not peer messages
        self.assertTrue(ws.closed_by_peer())
        ws.close()

        # A is alive, B is still its peer, and blocks still flow.
        self.assertTrue(a.alive())
        self.assertEqual(b.peer_count(), 1)
        block = a.mine("still here")
        wait_until(lambda: b.tip() == block["hash"], what="the block on B")

    def test_malformed_http_bodies_get_json_errors_and_the_node_goes_on(self):
        a = self.start_node("A")
        cases = [
            ("POST", "/mineBlock", b"{not json"),
            ("POST", "/mineBlock", b"[1,2,3]"),
            ("POST", "/mineBlock", b'{"data": 5}'),
            ("POST", "/mineBlock", b'{"count": 0}'),
            ("POST", "/mineBlock", b'{"colour": "red"}'),
            ("POST", "/addPeer", b'{"peer": "http://example"}'),
            ("POST", "/addPeer", b'{"peer": "ws://127.0.0.1:99999"}'),
            ("POST", "/addPeer", b'{}'),
            ("GET", "/blocks?from=-1", None),
            ("GET", "/blocks?limit=abc", None),
            ("GET", "/blocks/zzzz", None),
            ("GET", "/blocks/" + "g" * 64, None),
        ]
        for method, path, raw in cases:
            status, body = a.request(method, path, raw=raw)
            self.assertEqual(status, 400, f"{method} {path} {raw!r}: {status} {body}")
            self.assertIn("code", body["error"])
            self.assertIn("message", body["error"])
        status, body = a.request("GET", "/nowhere")
        self.assertEqual((status, body["error"]["code"]), (404, "not-found"))
        status, body = a.request("DELETE", "/blocks")
        self.assertEqual((status, body["error"]["code"]), (405, "method-not-allowed"))
        status, body = a.request("GET", "/blocks/999")
        self.assertEqual((status, body["error"]["code"]), (404, "unknown-block"))
        status, body = a.request("POST", "/mineBlock", raw=b'{"data": "' + b"x" * 2_000_000 + b'"}')
        self.assertEqual(status, 413)
        status, body = a.request("POST", "/stop", {})
        self.assertEqual(status, 404)
        self.assertTrue(a.alive())
        # naivecoin's call carries no body at all: it mines one block.
        status, body = a.request("POST", "/mineBlock", raw=b"")
        self.assertEqual((status, body["index"]), (200, 1))
        self.assertEqual(a.mine("fine")["index"], 2)

    def test_a_peer_that_sends_an_invalid_block_is_dropped_and_others_stay(self):
        a = self.start_node("A")
        b = self.start_node("B", peers=[a.ws_url])
        a.mine_many(3)
        wait_until(lambda: b.height() == 3, what="B to sync")
        tip = bytes.fromhex(a.tip())[::-1]

        # Two liars, each after a real handshake: a block on A's tip whose proof of work
        # fails, and one whose proof of work holds but which has no transactions at all.
        for valid_pow, reason in ((False, "high-hash"), (True, "bad-cb-missing")):
            liar = RawWebSocket(a.p2p_port)
            liar.handshake(network_magic=b"pcrt")
            liar.send_frame(bytes([12]) + regtest_header(tip, valid_pow) + b"\x00")
            self.assertTrue(liar.closed_by_peer(), f"the liar ({reason}) was not dropped")
            liar.close()
            wait_until(lambda: reason in open(a.log_path, errors="replace").read(),
                       what=f"A to log {reason}")

        self.assertEqual(a.height(), 3)
        # A logs the reason as it drops a liar, but forgets the peer only once its
        # connection has closed, so /peers may list the last liar for a moment.
        wait_until(lambda: a.peer_count() == 1, what="A to forget the liars")
        block = a.mine("after the liar")
        wait_until(lambda: b.tip() == block["hash"], what="the honest block on B")

    def test_a_message_before_the_handshake_gets_the_peer_dropped(self):
        a = self.start_node("A")
        a.mine_many(3)
        ws = RawWebSocket(a.p2p_port)
        ws.send_frame(b"\x0d" + b"\x00" * 81)  # a headers message before any handshake
        self.assertTrue(ws.closed_by_peer())
        ws.close()
        self.assertEqual(a.height(), 3)


if __name__ == "__main__":
    unittest.main()
