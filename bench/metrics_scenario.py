#!/usr/bin/env python3
"""Scenario benchmark: what one scrape of GET /metrics costs a running node.

Starts a regtest node, mines --blocks blocks, fills its pool with --txs payments (so that
the pool's fee-rate percentiles have work to do), links a second node (so that the peer
gauges and the P2P byte counters have series), then scrapes /metrics --scrapes times over
one keep-alive connection, the way Prometheus does, and the same number of GET /status
for comparison (a small JSON answer through the same server and router). Reports per
request: the client's wall time (median, p99), the node's CPU time (user + system, from
/proc/<pid>/stat, over the whole run divided by the count) and the bytes of the answer;
and what a scrape every 15 s (Prometheus' default interval) costs as a share of one core.

  bench/metrics_scenario.py --build build [--blocks 1000] [--txs 200] [--scrapes 2000]

Both nodes' processes and data directories are removed at the end, also on failure.
"""

import argparse
import http.client
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(node, path, count):
    conn = http.client.HTTPConnection("127.0.0.1", node.http_port, timeout=30)
    times, size = [], 0
    cpu_before = cpu_seconds(node.proc.pid)
    for _ in range(count):
        start = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        times.append(time.perf_counter() - start)
        if resp.status != 200:
            raise RuntimeError(f"{path}: {resp.status} {body[:200]!r}")
        size = len(body)
    cpu = cpu_seconds(node.proc.pid) - cpu_before
    conn.close()
    times.sort()
    return {
        "median_ms": statistics.median(times) * 1e3,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1e3,
        "cpu_us": cpu / count * 1e6,
        "bytes": size,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--txs", type=int, default=200)
    parser.add_argument("--scrapes", type=int, default=2000)
    args = parser.parse_args()
    harness.BINARY = os.path.join(args.build, "src", "app", "peerchain")

    nodes = []
    try:
        a = harness.Node("A", extra_args=["--log-level", "warn"]).start()
        nodes.append(a)
        b = harness.Node("B", peers=[a.ws_url], extra_args=["--log-level", "warn"]).start()
        nodes.append(b)
        to = b.address()
        harness.wait_until(lambda: len(a.get("/peers")) == 1, what="B linked to A")
        mined = 0
        while mined < args.blocks:
            n = min(1000, args.blocks - mined)
            a.mine_many(n)
            mined += n
        for i in range(args.txs):
            a.send(to, 1000 + i, feeRate=1 + i % 50)
        pool = len(a.get("/mempool?limit=1000"))
        print(f"node A: height {a.status()['height']}, pool {pool} transactions, "
              f"{len(a.get('/peers'))} peer links")

        measure(a, "/metrics", 50)  # warm up: the first scrapes create the series
        metrics = measure(a, "/metrics", args.scrapes)
        status = measure(a, "/status", args.scrapes)
        for name, r in (("/metrics", metrics), ("/status", status)):
            print(f"{name:9} median {r['median_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  "
                  f"node CPU {r['cpu_us']:.0f} us/request  answer {r['bytes']} bytes")
        share = metrics["cpu_us"] / 15e6
        print(f"a scrape every 15 s costs {share * 100:.5f}% of one core; "
              f"/metrics costs {metrics['cpu_us'] / status['cpu_us']:.1f}x a /status")
    finally:
        for n in nodes:
            n.stop()
            n.cleanup()


if __name__ == "__main__":
    main()
