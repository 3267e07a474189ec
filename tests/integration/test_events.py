"""The event stream, GET /events (issue 8, points 1 and 9): clients on real sockets follow
real regtest nodes and see blocks, payments, peers and reorgs; a client that comes back
with its last id gets what it missed, and one that fell past the ring is told so."""

import json
import queue
import socket
import threading
import time
import unittest

from harness import NodeTestCase, wait_until

COIN = 100_000_000
MATURITY = 100


class SseClient:
    """Follows GET /events over a plain socket, as `curl -N` would; a thread parses the
    server-sent events into a queue of (id, event, data) tuples, data parsed as JSON.
    Comments (keep-alive) are counted, `retry:` is remembered."""

    def __init__(self, node, query="", last_event_id=None, timeout=30.0):
        self.sock = socket.create_connection((node.host, node.http_port), timeout=timeout)
        headers = f"GET /events{query} HTTP/1.1\r\nHost: {node.host}:{node.http_port}\r\n" \
                  "Accept: text/event-stream\r\n"
        if last_event_id is not None:
            headers += f"Last-Event-ID: {last_event_id}\r\n"
        self.sock.sendall((headers + "\r\n").encode())
        self.file = self.sock.makefile("rb")
        status_line = self.file.readline().decode()
        self.status = int(status_line.split()[1])
        self.headers = {}
        while True:
            line = self.file.readline().decode().rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.events = queue.Queue()
        self.retry = None
        self.comments = 0
        self.ended = threading.Event()
        self.last_id = None
        if self.status == 200:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        else:
            self.body = self.file.read(int(self.headers.get("content-length", "0")))

    def _read(self):
        fields = {}
        try:
            for raw in self.file:
                line = raw.decode().rstrip("\n")
                if line == "":
                    if "event" in fields or "data" in fields:
                        data = json.loads(fields["data"]) if "data" in fields else None
                        self.events.put((fields.get("id"), fields.get("event"), data))
                    fields = {}
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "retry":
                        self.retry = int(value)
                    else:
                        fields[name] = value
        except (OSError, ValueError):
            pass
        self.ended.set()

    def next(self, timeout=30.0):
        event_id, event, data = self.events.get(timeout=timeout)
        if event_id is not None:
            self.last_id = event_id
        return event_id, event, data

    def take(self, count, timeout=30.0):
        return [self.next(timeout) for _ in range(count)]

    def until(self, predicate, timeout=30.0):
        """Events up to and including the first for which predicate(event, data) holds."""
        got = []
        while True:
            item = self.next(timeout)
            got.append(item)
            if predicate(item[1], item[2]):
                return got

    def assert_quiet(self, seconds=0.5):
        try:
            item = self.events.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected event {item}")

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class EventStream(NodeTestCase):
    def settle(self, node, height):
        """Waits until the node's stream holds the events of its block at `height`: the feed
        renders on its own thread, a few milliseconds after the chain. A client reading from
        the oldest held event is cut off when a burst outruns it (as any live client that
        falls past the ring is; one test keeps only 20 events): it then asks again."""
        deadline = time.monotonic() + 30
        while True:
            c = self.client(node, "?since=0&types=tx-confirmed")
            try:
                while time.monotonic() < deadline:
                    try:
                        _, _, data = c.next(0.2)
                    except queue.Empty:
                        if c.ended.is_set() and c.events.empty():
                            break  # cut off: ask again
                        continue
                    if data["height"] >= height:
                        return
                else:
                    raise AssertionError(f"the stream never reached height {height}")
            finally:
                c.close()

    def client(self, node, query="", last_event_id=None):
        c = SseClient(node, query, last_event_id)
        self.addCleanup(c.close)
        if c.status == 200:
            # The stream is registered once the first bytes came: wait for retry.
            wait_until(lambda: c.retry is not None, timeout=10, what="retry: from /events")
        return c

    def test_blocks_payments_filters_and_peers(self):
        a = self.start_node("A")
        b = self.start_node("B")
        to_b = b.address()
        every = self.client(a)
        self.assertEqual(every.headers["content-type"], "text/event-stream")
        self.assertEqual(every.headers["cache-control"], "no-cache")
        self.assertEqual(every.retry, 2000)
        paid_to_b = self.client(a, f"?address={to_b}")
        blocks_only = self.client(a, "?types=block")

        mined = a.mine_many(MATURITY + 1, "A")
        last_seq = 0
        for height, block in enumerate(mined, start=1):
            event_id, event, data = every.next()
            self.assertEqual(event, "block")
            self.assertEqual(int(event_id), data["seq"])
            self.assertGreater(data["seq"], last_seq)
            last_seq = data["seq"]
            self.assertEqual((data["type"], data["height"], data["hash"]),
                             ("block", height, block["hash"]))
            self.assertEqual(data["txCount"], 1)
            self.assertGreater(data["size"], 80)
            self.assertIn("previousHash", data)
            self.assertIn("time", data)
            _, event, confirmed = every.next()  # the coinbase
            self.assertEqual(event, "tx-confirmed")
            self.assertEqual((confirmed["blockHash"], confirmed["height"]),
                             (block["hash"], height))
        heights = [blocks_only.next()[2]["height"] for _ in mined]
        self.assertEqual(heights, list(range(1, MATURITY + 2)))

        txid = a.send(to_b, 10 * COIN, data="for the stream")
        _, event, tx = every.next()
        self.assertEqual((event, tx["txid"]), ("tx", txid))
        self.assertIn(to_b, tx["addresses"])
        self.assertEqual(tx["fee"], a.get(f"/transactions/{txid}")["fee"])
        self.assertGreater(tx["outputTotal"], 10 * COIN)  # the payment and the change
        self.assertGreater(tx["size"], 0)

        block = a.mine("takes the payment")
        got = every.until(lambda e, d: e == "tx-confirmed" and d["txid"] == txid)
        self.assertEqual(got[0][1], "block")
        self.assertEqual(got[-1][2]["blockHash"], block["hash"])
        self.assertEqual(got[-1][2]["height"], MATURITY + 2)

        # Only the payment to B: its entry into the pool and its confirmation.
        self.assertEqual([(e, d["txid"]) for _, e, d in paid_to_b.take(2)],
                         [("tx", txid), ("tx-confirmed", txid)])
        paid_to_b.assert_quiet()
        self.assertEqual(blocks_only.next()[1], "block")
        blocks_only.assert_quiet()

        # A peer that connects and goes.
        a.post("/addPeer", {"peer": b.ws_url})
        _, event, peer = every.until(lambda e, d: e == "peer")[-1]
        self.assertEqual((peer["event"], peer["direction"], peer["transport"]),
                         ("connected", "outbound", "ws"))
        self.assertTrue(peer["userAgent"].startswith("/peerchain:"))
        self.assertEqual(peer["address"], b.p2p_address)
        b.stop()
        _, event, gone = every.until(lambda e, d: e == "peer")[-1]
        self.assertEqual((gone["event"], gone["id"]), ("disconnected", peer["id"]))

    def test_bad_filters_are_refused(self):
        a = self.start_node("A")
        for query in ("?types=block,nope", "?types=", "?address=pcrt1notanaddress",
                      "?since=-1", "?since=abc"):
            c = self.client(a, query)
            self.assertEqual(c.status, 400, query)
            self.assertEqual(json.loads(c.body)["error"]["code"] in
                             ("bad-request", "bad-address"), True, c.body)
        self.assertEqual(self.client(a, "", last_event_id="x").status, 400)

    def test_a_client_that_comes_back_gets_the_50_blocks_it_missed_in_order(self):
        a = self.start_node("A")
        first = self.client(a, "?types=block")
        a.mine("before")
        event_id, _, data = first.next()
        self.assertEqual(data["height"], 1)
        first.close()
        mined = a.mine_many(50, "missed")
        again = self.client(a, "?types=block", last_event_id=event_id)
        got = again.take(50)
        self.assertEqual([d["hash"] for _, _, d in got], [b["hash"] for b in mined])
        self.assertEqual([d["height"] for _, _, d in got], list(range(2, 52)))
        ids = [int(i) for i, _, _ in got]
        self.assertEqual(ids, sorted(ids))
        self.assertGreater(ids[0], int(event_id))
        self.assertNotIn("reset", [e for _, e, _ in got])
        # ...and then it goes on live.
        live = a.mine("live")
        self.assertEqual(again.next()[2]["hash"], live["hash"])
        # ?since= does the same for a client that cannot send headers.
        by_query = self.client(a, f"?types=block&since={event_id}")
        self.assertEqual([d["height"] for _, _, d in by_query.take(51)], list(range(2, 53)))

    def test_a_client_that_fell_past_the_ring_gets_reset_first(self):
        a = self.start_node("A", extra_args=["--event-buffer", "20"])
        first = self.client(a)
        a.mine("before")
        event_id, _, _ = first.next()
        first.close()
        a.mine_many(30, "missed")  # 60 events (a block and its coinbase each)
        self.settle(a, 31)
        again = self.client(a, last_event_id=event_id)
        _, event, reset = again.next()
        self.assertEqual(event, "reset")
        self.assertEqual((reset["seq"], reset["type"]), (0, "reset"))
        first_id = int(event_id)  # numbers start at the node's start time, not at 1
        self.assertEqual(reset["last"], first_id + 61)
        self.assertEqual(reset["oldest"], first_id + 61 - 20 + 1)
        got = again.take(20)
        self.assertEqual([int(i) for i, _, _ in got],
                         list(range(first_id + 42, first_id + 62)))
        # An id this node never gave (another run of it) is a reset too, never a gap.
        stale = self.client(a, last_event_id="100000")
        self.assertEqual(stale.next()[1], "reset")
        # A restarted node numbers above everything it gave before: a client resuming
        # with an id of the earlier run gets a reset, even after many new events.
        a.stop()
        a.start()
        a.mine_many(40, "after the restart")
        resumed = self.client(a, last_event_id=str(first_id + 61))
        _, event, reset = resumed.next()
        self.assertEqual(event, "reset")
        self.assertGreater(reset["oldest"], first_id + 61)

    def test_a_reorg_is_told_after_its_blocks(self):
        a = self.start_node("A")
        b = self.start_node("B")
        a_blocks = a.mine_many(2, "a")
        b_blocks = b.mine_many(3, "b")
        self.settle(a, 2)  # "live from now" must not catch A's own blocks still on their way
        watch = self.client(a, "?types=block,block-disconnected,reorg")
        a.post("/addPeer", {"peer": b.ws_url})
        got = watch.until(lambda e, d: e == "reorg")
        kinds = [e for _, e, _ in got]
        self.assertEqual(kinds, ["block-disconnected"] * 2 + ["block"] * 3 + ["reorg"])
        self.assertEqual([d["hash"] for _, _, d in got[:2]],
                         [a_blocks[1]["hash"], a_blocks[0]["hash"]])
        self.assertEqual([d["hash"] for _, _, d in got[2:5]], [x["hash"] for x in b_blocks])
        reorg = got[-1][2]
        self.assertEqual(reorg["oldTip"], {"height": 2, "hash": a_blocks[1]["hash"]})
        self.assertEqual(reorg["newTip"], {"height": 3, "hash": b_blocks[2]["hash"]})
        self.assertEqual((reorg["forkHeight"], reorg["depth"]), (0, 2))

    def test_a_sync_is_reported_every_few_seconds_and_caught_up_once(self):
        # 100,000 blocks take seconds to sync even on a fast machine, so the node's 1 s
        # tick sees it behind.
        a = self.node_with_chain("A", 100_000)
        b = self.start_node("B")
        watch = self.client(b, "?types=sync")
        b.post("/addPeer", {"peer": a.ws_url})
        got = watch.until(lambda e, d: not d["syncing"], timeout=300)
        syncing, done = [d for _, _, d in got[:-1]], got[-1][2]
        self.assertGreaterEqual(len(syncing), 1)
        for d in syncing:
            self.assertLess(d["blocksHeight"], d["headersHeight"])
            self.assertTrue(0 <= d["progress"] < 1)
            self.assertIn("etaSeconds", d)
        self.assertEqual((done["blocksHeight"], done["headersHeight"]), (100_000, 100_000))
        self.assertEqual((done["progress"], done["etaSeconds"]), (1.0, 0))
        watch.assert_quiet(1.5)  # once
        log = b.log_text()
        self.assertEqual(log.count("caught up at height 100000"), 1)
        self.assertEqual(log.count("sync: headers"), len(syncing))
        self.assertLess(log.count("new tip"), 10)  # not a line per block


if __name__ == "__main__":
    unittest.main()
