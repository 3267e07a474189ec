#!/usr/bin/env python3
"""Scenario benchmark: GET /status against a bare Boost.Beast server (issue 10, point 5).

Starts a regtest node and mines a few blocks, measures the size of its /status answer,
then starts peerchain-http-bench's bare server with a body of that size and as many
threads as the node's HTTP server (2). The same load generator (--connections keep-alive
connections, one request in flight on each) runs --seconds against each, alternating,
--runs times. Reports each run's requests a second and the ratio of the medians: what the
node's HTTP server, router and /status handler cost over Beast answering a fixed body.

  bench/api_scenario.py --build build [--connections 8] [--seconds 5] [--runs 3]
                        [--peerchain OTHER_BINARY]

The node, the bare server and the node's data directory are removed at the end, also on
failure. Both servers share the 2 cores with the load generator; the ratio holds that
constant.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402


def run_load(tool, port, path, connections, seconds):
    out = subprocess.run([tool, "load", "--port", str(port), "--path", path, "--connections",
                          str(connections), "--seconds", str(seconds)],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    if result["errors"]:
        raise RuntimeError(f"load on port {port}: {result['errors']} errors")
    return result["per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peerchain", help="another peerchain binary to measure (A/B runs); "
                        "default: the one in --build")
    args = parser.parse_args()
    harness.BINARY = args.peerchain or os.path.join(args.build, "src", "app", "peerchain")
    tool = os.path.join(args.build, "bench", "peerchain-http-bench")

    node, bare = None, None
    try:
        node = harness.Node("A", extra_args=["--log-level", "warn"]).start()
        node.mine_many(10)
        body = len(json.dumps(node.status(), separators=(",", ":")))
        bare = subprocess.Popen([tool, "serve", "--threads", "2", "--body-bytes", str(body)],
                                stdout=subprocess.PIPE, text=True)
        bare_port = int(bare.stdout.readline().split()[1])
        print(f"/status answers about {body} bytes; the bare server the same")

        run_load(tool, node.http_port, "/status", args.connections, 1)  # warm up
        run_load(tool, bare_port, "/", args.connections, 1)
        ours, theirs = [], []
        for i in range(args.runs):
            ours.append(run_load(tool, node.http_port, "/status", args.connections,
                                 args.seconds))
            theirs.append(run_load(tool, bare_port, "/", args.connections, args.seconds))
            print(f"run {i + 1}: node {ours[-1]:,.0f} requests/s, bare Beast "
                  f"{theirs[-1]:,.0f} requests/s ({ours[-1] / theirs[-1]:.2f}x)")
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"median: node {statistics.median(ours):,.0f}, bare Beast "
              f"{statistics.median(theirs):,.0f} requests/s: {ratio:.2f}x")
    finally:
        if bare is not None:
            bare.kill()
            bare.wait()
        if node is not None:
            node.stop()
            node.cleanup()


if __name__ == "__main__":
    main()
