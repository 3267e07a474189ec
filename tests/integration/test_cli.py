"""The command line (issue 8, points 4, 5 and 8): `peerchain testnet`, the client commands
over the HTTP API (status, peers, block, tx, mempool, mine, addpeer, events) and
`peerchain wallet send`, against real peerchain processes on loopback."""

import json
import os
import re
import select
import signal
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from harness import BINARY, NODE_ENV_NAMES, NodeTestCase, wait_until

COIN = 100_000_000
MATURITY = 100


def clean_env():
    env = dict(os.environ)
    for name in NODE_ENV_NAMES:
        env.pop(name, None)
    return env


def run(*args, timeout=60):
    """Runs `peerchain ARGS...`; returns (exit code, stdout, stderr)."""
    out = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout,
                         env=clean_env())
    return out.returncode, out.stdout, out.stderr


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


class Testnet:
    """A `peerchain testnet` process and the node lines it printed."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([BINARY, "testnet", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=clean_env())
        self.lines = []

    def read_nodes(self, timeout=90):
        """Reads stdout up to the Ctrl-C line; returns [(url, p2p, data_dir)]."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("testnet ended before it was up:\n" + self.proc.stderr.read())
            self.lines.append(line)
            if "Ctrl-C" in line:
                break
        nodes = []
        for line in self.lines:
            m = re.search(r"(http://127\.0\.0\.1:\d+/)\s+p2p (\S+)\s+data (\S+)", line)
            if m:
                nodes.append((m.group(1), m.group(2), m.group(3)))
        return nodes

    def interrupt(self, timeout=60):
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class TheTestnetCommand(NodeTestCase):
    def start_testnet(self, *args):
        net = Testnet(*args)
        self.addCleanup(net.kill)
        return net

    def test_three_nodes_start_link_and_stop_on_sigint(self):
        net = self.start_testnet("--nodes", "3")
        nodes = net.read_nodes()
        self.assertEqual(len(nodes), 3, "".join(net.lines))
        root = os.path.dirname(nodes[0][2])
        self.assertTrue(os.path.isdir(root))
        pids = []
        for url, p2p, data_dir in nodes:
            self.assertTrue(p2p.startswith("ws://127.0.0.1:"))
            with open(os.path.join(data_dir, "node.json")) as f:
                info = json.load(f)
            self.assertEqual(url, f"http://127.0.0.1:{info['httpPort']}/")
            pids.append(info["pid"])
            self.assertEqual(get_json(url + "status")["network"], "regtest")

        # Linked: every node reaches both others, the two told only of the first through
        # its gossip; a block mined on the last reaches the first.
        def linked():
            return all(len([p for p in get_json(url + "peers") if p.get("handshake")]) >= 2
                       for url, _, _ in nodes)
        wait_until(linked, timeout=60, what="each node to link to the two others")
        mined = json.loads(urllib.request.urlopen(urllib.request.Request(
            nodes[2][0] + "mineBlock", data=b'{"data": "across"}', method="POST",
            headers={"Content-Type": "application/json"}), timeout=30).read())
        wait_until(lambda: get_json(nodes[0][0] + "blocks/latest")["hash"] == mined["hash"],
                   what="the block to reach the first node")

        code, out, err = net.interrupt()
        self.assertEqual(code, 0, err)
        self.assertIn("stopped", out)
        for pid in pids:
            self.assertFalse(os.path.exists(f"/proc/{pid}"), f"node {pid} still runs")
        self.assertFalse(os.path.exists(root), "the temporary folder was left behind")

    def test_dir_is_kept_and_fixed_ports_count_up(self):
        root = self.tmpdir()
        net = self.start_testnet("--nodes", "2", "--dir", root, "--mine")
        nodes = net.read_nodes()
        self.assertEqual(len(nodes), 2)
        self.assertIn("(mining)", net.lines[0])
        wait_until(lambda: get_json(nodes[1][0] + "status")["height"] >= 1,
                   what="the mining node's blocks to reach the other")
        code, _, err = net.interrupt()
        self.assertEqual(code, 0, err)
        for k in (1, 2):
            self.assertTrue(os.path.isdir(os.path.join(root, f"node-{k}")))
            with open(os.path.join(root, f"node-{k}.log")) as log:
                self.assertIn("stopped", log.read())

    def test_a_node_that_cannot_start_is_reported_with_its_reason(self):
        # A data dir of another network: the node refuses it and says so in its log.
        root = self.tmpdir()
        net = self.start_testnet("--nodes", "1", "--dir", root)
        net.read_nodes()
        self.assertEqual(net.interrupt()[0], 0)
        code, out, err = run("testnet", "--nodes", "2", "--dir", root, "--network", "dev")
        self.assertEqual(code, 1, out + err)
        self.assertIn("node-1", err)
        self.assertIn("another network", err)
        self.assertNotIn("Ctrl-C", out)

    def test_node_count_is_bounded(self):
        for bad in ("0", "65", "x"):
            code, _, err = run("testnet", "--nodes", bad)
            self.assertNotEqual(code, 0, bad)
            self.assertTrue(err.strip(), bad)


class TheClientCommands(NodeTestCase):
    def setUp(self):
        super().setUp()
        self.a = self.start_node("A")
        self.b = self.start_node("B", peers=[self.a.ws_url])
        self.da = ["--data-dir", self.a.data_dir]
        self.db = ["--data-dir", self.b.data_dir]
        wait_until(lambda: self.a.handshaken(), what="B to link to A")

    def cli(self, *args, ok=True):
        code, out, err = run(*args)
        if ok:
            self.assertEqual(code, 0, f"{args}: {out}{err}")
        return code, out, err

    def test_status_peers_block_tx_mempool_as_tables_and_json(self):
        self.a.mine_many(2, "hello")
        _, out, _ = self.cli("status", *self.da)
        self.assertRegex(out, r"network\s+regtest\n")
        self.assertRegex(out, r"height\s+2\n")
        _, out, _ = self.cli("status", *self.da, "--json")
        self.assertEqual(json.loads(out)["tipHash"], self.a.tip())

        _, out, _ = self.cli("peers", *self.da)
        self.assertIn("DIRECTION", out)
        self.assertIn("inbound", out)
        _, out, _ = self.cli("peers", *self.da, "--json")
        self.assertEqual(len(json.loads(out)), 1)

        block = self.a.get("/blocks/2")
        _, out, _ = self.cli("block", "2", *self.da)
        self.assertIn(block["hash"], out)
        self.assertIn('"hello 1"', out)
        _, out, _ = self.cli("block", block["hash"], *self.da, "--json")
        self.assertEqual(json.loads(out)["index"], 2)

        coinbase = block["transactions"][0]["txid"]
        _, out, _ = self.cli("tx", coinbase, *self.db)
        self.assertIn("in block 2", out)
        self.assertIn("coinbase", out)
        _, out, _ = self.cli("tx", coinbase, *self.db, "--json")
        self.assertEqual(json.loads(out)["blockHeight"], 2)

        _, out, _ = self.cli("mempool", *self.da)
        self.assertEqual(out, "the pool is empty\n")
        _, out, _ = self.cli("mempool", *self.da, "--json")
        self.assertEqual(json.loads(out), [])

    def test_errors_are_one_line_and_exit_1(self):
        code, out, err = run("block", "99999", *self.da)
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn("unknown-block", err)

        code, out, err = run("tx", "ab" * 32, *self.da)
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn("unknown-transaction", err)

        code, out, err = run("block", "not-a-block", *self.da)
        self.assertEqual((code, out), (2, ""))
        self.assertEqual(err.count("\n"), 1, err)

        stopped = self.start_node("S")
        stopped.stop()
        for args in (["status"], ["peers", "--json"], ["mine", "3"], ["events"],
                     ["wallet", "balance"]):
            code, out, err = run(*args, "--data-dir", stopped.data_dir, timeout=30)
            self.assertEqual(code, 1, args)
            self.assertEqual(out, "", args)
            self.assertEqual(err.count("\n"), 1, f"{args}: {err}")
            self.assertIn("no node is running", err, args)
            self.assertNotIn("terminate", err, args)

    def test_mine_n_to_an_address_and_addpeer(self):
        to = self.b.address()
        _, out, _ = self.cli("mine", "3", "--to", to, *self.da)
        self.assertIn("mined 3 blocks", out)
        self.assertEqual(self.a.height(), 3)
        for h in (1, 2, 3):
            self.assertEqual(self.a.get(f"/blocks/{h}")["transactions"][0]["outputs"][0]
                             ["address"], to)
            self.assertIn(self.a.get(f"/blocks/{h}")["hash"], out)
        _, out, _ = self.cli("mine", *self.da, "--json")
        self.assertEqual(json.loads(out)["blocks"][0]["height"], 4)
        wait_until(lambda: self.b.balance()["immature"] == 3 * 50 * COIN,
                   what="B's wallet to count the 3 blocks mined to it")

        code, _, err = run("mine", "2", "--to", "pcrt1notanaddress", *self.da)
        self.assertEqual(code, 1)
        self.assertIn("bad-address", err)
        self.assertEqual(self.a.height(), 4)

        c = self.start_node("C")
        _, out, _ = self.cli("addpeer", c.ws_url, *self.da)
        self.assertIn(c.ws_url, out)
        wait_until(lambda: self.a.outbound_to(c), what="A to dial C")

    def test_wallet_send_splits_txid_and_fee_and_a_chosen_coin_double_spend_is_refused(self):
        self.a.post("/mineBlock", {"count": MATURITY + 1})
        wait_until(lambda: self.b.height() == MATURITY + 1, what="B to sync")
        to = self.b.address()

        code, out, err = run("wallet", "send", to, "10", "--data", "rent", *self.da)
        self.assertEqual(code, 0, err)
        txid = out.strip()
        self.assertRegex(out, r"^[0-9a-f]{64}\n$")
        self.assertRegex(err, r"^fee 0\.\d{8}\n$")
        tx = self.a.get(f"/transactions/{txid}")
        self.assertEqual(err, f"fee 0.{tx['fee']:08d}\n")

        code, out, err = run("wallet", "send", to, "1", *self.da, "--json")
        self.assertEqual(code, 0, err)
        answer = json.loads(out)
        self.assertEqual(set(answer), {"txid", "fee"})
        self.assertEqual(err, "")

        # The coin the first payment spends, named again: the pool refuses the double spend.
        coin = tx["inputs"][0]["txid"] + ":" + str(tx["inputs"][0]["index"])
        code, out, err = run("wallet", "utxos", *self.da)
        self.assertRegex(out, re.escape(coin) + r".*spent-in-pool")
        code, out, err = run("wallet", "send", to, "5", "--coin", coin, *self.da)
        self.assertEqual((code, out), (1, ""))
        self.assertIn("txn-mempool-conflict", err)
        wait_until(lambda: txid in self.b.mempool_txids(), what="the payment to reach B")
        self.assertEqual(len(self.a.mempool_txids()), 2)

        code, _, err = run("wallet", "send", to, "5", "--coin", "ab" * 32 + ":0", *self.da)
        self.assertEqual(code, 1)
        self.assertIn("unknown-coin", err)

        # Mined: the coin is gone from the wallet.
        self.cli("mine", *self.db)
        wait_until(lambda: not self.a.mempool_txids(), what="A's pool to empty")
        code, _, err = run("wallet", "send", to, "5", "--coin", coin, *self.da)
        self.assertEqual(code, 1)
        self.assertIn("unknown-coin", err)

    def test_events_follow_the_stream(self):
        try:
            urllib.request.urlopen(self.a.url + "/events?since=0&types=peer", timeout=2).close()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                self.skipTest("this build serves no /events yet")
            raise
        except OSError:
            pass  # the stream stays open: the read timed out, as it should
        hashes = [b["hash"] for b in self.a.post("/mineBlock", {"count": 3})["blocks"]]
        # --since 0: from the first event the node still holds, so none is missed whenever
        # the command connects.
        code, out, err = run("events", "--json", "--types", "block", "--since", "0",
                             "--count", "3", *self.da, timeout=30)
        self.assertEqual(code, 0, err)
        events = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([e["type"] for e in events], ["block"] * 3)
        self.assertEqual([e.get("hash") for e in events], hashes)

        code, out, err = run("events", "--types", "block", "--since", "0", "--count", "1",
                             *self.da, timeout=30)
        self.assertEqual(code, 0, err)
        self.assertIn("block", out)
        self.assertIn(hashes[0], out)


    def test_events_reconnect_with_the_last_id_when_the_node_restarts(self):
        # A node without peers: its only events are the blocks mined here.
        e = self.start_node("E")
        try:
            urllib.request.urlopen(e.url + "/events?since=0&types=peer", timeout=2).close()
        except urllib.error.HTTPError as error:
            if error.code == 404:
                self.skipTest("this build serves no /events yet")
            raise
        except OSError:
            pass
        e.pin_ports()
        proc = subprocess.Popen([BINARY, "events", "--json", "--types", "block", "--since", "0",
                                 "--count", "3", "--data-dir", e.data_dir],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=clean_env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def next_line():
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            self.assertTrue(ready, "no event within 30 s")
            return proc.stdout.readline()

        first = e.mine("before")["hash"]
        line = next_line()  # the client has it: now the node goes away
        self.assertEqual(json.loads(line)["hash"], first, line)
        e.stop()
        e.start()
        # The client reconnects with the last id it saw, which the restarted node never
        # gave: it answers with a reset, never a silent gap.
        reset = next_line()
        self.assertEqual(json.loads(reset)["type"], "reset", reset)
        second = e.mine("after")["hash"]
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        events = [json.loads(l) for l in (line + reset + out).splitlines()]
        self.assertEqual([ev["type"] for ev in events], ["block", "reset", "block"], out)
        self.assertEqual(events[2]["hash"], second)
        self.assertIn("reconnecting", err)


if __name__ == "__main__":
    unittest.main()
