#!/usr/bin/env python3
"""Scenario benchmark: the event stream (GET /events) with many clients.

One regtest node on loopback (started with --miner-threads 1, so that mining leaves the
machine's other core to the node and the clients).

1. Live delivery. --clients stream clients follow GET /events (one Python thread reads
   them all through selectors, counting frames); the script mines --blocks blocks through
   POST /mineBlock, one after the other (each answer comes when the chain has accepted the
   block). Each block gives two events (`block` and its coinbase's `tx-confirmed`).
   Reports the events delivered per second to all clients together, from the first
   request until the last client has its last event, and checks that every client got
   every event, in order.
2. Catch-up delivery. --clients new clients connect with ?since=0 and read everything the
   ring holds; reports events per second delivered to them together.
3. Block connection with stream clients. Mines --blocks blocks with no stream client,
   then --blocks with --clients clients that read, then --blocks with --clients clients
   that send their request and never read (a small receive buffer; the kernel's buffers
   on both ends take what is written until they fill, then the server's write waits for
   its timeout). Reports, for each, the median time of POST /mineBlock (mining a regtest
   block takes a couple of hashes, so this is the chain's acceptance plus the API, which
   shares the I/O threads with the streams' writes) and the mean block validation time
   from /metrics (peerchain_block_validation_seconds: checking and connecting, on the
   chain executor).

  bench/events_scenario.py --build build [--clients 100] [--blocks 200] [--runs 3]
"""

import argparse
import os
import re
import selectors
import socket
import statistics
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Node  # noqa: E402

FRAME_ID = re.compile(rb"(?:^|\n)id: (\d+)\n")


def open_stream(node, query="", rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((node.host, node.http_port))
    s.sendall(f"GET /events{query} HTTP/1.1\r\nHost: {node.host}\r\n\r\n".encode())
    return s


class Readers:
    """Reads many streams in one thread; counts event frames and checks their ids rise."""

    def __init__(self, socks):
        self.sel = selectors.DefaultSelector()
        self.state = {}
        for s in socks:
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
            self.state[s] = {"buf": b"", "count": 0, "last": 0, "ordered": True}

    def pump(self, until, timeout):
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError("stream clients did not get every event")
            for key, _ in self.sel.select(timeout=0.5):
                st = self.state[key.fileobj]
                data = key.fileobj.recv(1 << 20)
                if not data:
                    self.sel.unregister(key.fileobj)
                    continue
                buf = st["buf"] + data
                cut = buf.rfind(b"\n\n")
                if cut < 0:
                    st["buf"] = buf
                    continue
                for m in FRAME_ID.finditer(buf[:cut + 2]):
                    seq = int(m.group(1))
                    st["ordered"] = st["ordered"] and seq > st["last"]
                    st["last"] = seq
                    st["count"] += 1
                st["buf"] = buf[cut + 2:]

    def counts(self):
        return [st["count"] for st in self.state.values()]

    def all_ordered(self):
        return all(st["ordered"] for st in self.state.values())


def metrics(node):
    with urllib.request.urlopen(node.url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def mine_timed(node, blocks, tag):
    times = []
    for i in range(blocks):
        t = time.perf_counter()
        node.mine(f"{tag} {i}")
        times.append(time.perf_counter() - t)
    return times


def validation_mean_ms(before, after):
    n = after["peerchain_block_validation_seconds_count"] - \
        before["peerchain_block_validation_seconds_count"]
    s = after["peerchain_block_validation_seconds_sum"] - \
        before["peerchain_block_validation_seconds_sum"]
    return 1000 * s / n if n else float("nan")


def run(args):
    node = Node("events-bench", extra_args=["--miner-threads", "1"])
    node.start()
    try:
        # 1. Live.
        socks = [open_stream(node) for _ in range(args.clients)]
        readers = Readers(socks)
        time.sleep(0.5)  # every stream registered (retry: sent)
        want = 2 * args.blocks
        start = time.perf_counter()
        mine_timed(node, args.blocks, "live")
        readers.pump(lambda: min(readers.counts()) >= want, timeout=300)
        live_s = time.perf_counter() - start
        assert readers.all_ordered() and max(readers.counts()) == want, readers.counts()
        for s in socks:
            s.close()

        # 2. Catch-up.
        held = 2 * args.blocks
        socks = [open_stream(node, "?since=0") for _ in range(args.clients)]
        readers = Readers(socks)
        start = time.perf_counter()
        readers.pump(lambda: min(readers.counts()) >= held, timeout=300)
        catchup_s = time.perf_counter() - start
        assert readers.all_ordered(), "catch-up out of order"
        for s in socks:
            s.close()

        # 3. Block connection: no clients, N clients that read, N that never read.
        m0 = metrics(node)
        quiet = mine_timed(node, args.blocks, "quiet")
        m1 = metrics(node)
        socks = [open_stream(node) for _ in range(args.clients)]
        readers = Readers(socks)
        stop = threading.Event()
        pumping = threading.Thread(target=readers.pump, args=(stop.is_set, 600))
        pumping.start()
        time.sleep(0.5)
        reading = mine_timed(node, args.blocks, "reading")
        m2 = metrics(node)
        stop.set()
        pumping.join()
        for s in socks:
            s.close()
        slow = [open_stream(node, rcvbuf=4096) for _ in range(args.clients)]
        time.sleep(0.5)
        loaded = mine_timed(node, args.blocks, "slow")
        m3 = metrics(node)
        for s in slow:
            s.close()
        return {
            "live_events_per_s": want * args.clients / live_s,
            "live_s": live_s,
            "catchup_events_per_s": held * args.clients / catchup_s,
            "quiet_median_ms": 1000 * statistics.median(quiet),
            "quiet_validation_ms": validation_mean_ms(m0, m1),
            "reading_median_ms": 1000 * statistics.median(reading),
            "reading_validation_ms": validation_mean_ms(m1, m2),
            "slow_median_ms": 1000 * statistics.median(loaded),
            "slow_validation_ms": validation_mean_ms(m2, m3),
        }
    finally:
        node.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="the CMake build directory")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    harness.BINARY = os.path.abspath(os.path.join(args.build, "src", "app", "peerchain"))
    print(f"{args.clients} clients, {args.blocks} blocks a phase, {args.runs} runs; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    results = []
    for i in range(args.runs):
        r = run(args)
        results.append(r)
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.items()), flush=True)
    print("median over runs:")
    for key in results[0]:
        print(f"  {key}: {statistics.median(r[key] for r in results):.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
