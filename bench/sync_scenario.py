#!/usr/bin/env python3
"""Scenario benchmark: a fresh node syncs a chain of coinbase-only blocks from a peer.

For each length: writes a regtest chain into node A's data directory with
peerchain-make-chain, starts A on it, starts a fresh node B that dials A over loopback,
and times from B's start until B's tip is A's tip (every block downloaded, its proof of
work and merkle root checked, connected and stored). Reports blocks per second, the cost
per block, and the peak resident memory (VmHWM) of both processes.

  bench/sync_scenario.py --build build [--blocks 10000 100000] [--runs 3]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Node, wait_until  # noqa: E402


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_once(make_chain, blocks, chain_dir):
    a = Node("A", data_dir=chain_dir, extra_args=["--log-level", "warn"])
    b = Node("B", extra_args=["--log-level", "warn"])
    try:
        a.start()
        b.peers = [a.ws_url]
        start = time.monotonic()
        b.start()
        wait_until(lambda: b.height() == blocks, timeout=3600, interval=0.01,
                   what=f"B to sync {blocks} blocks")
        elapsed = time.monotonic() - start
        assert b.tip() == a.tip()
        return elapsed, peak_rss_mib(a.proc.pid), peak_rss_mib(b.proc.pid)
    finally:
        a.stop()
        b.stop()
        b.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="the CMake build directory")
    parser.add_argument("--blocks", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    harness.BINARY = os.path.join(build, "src", "app", "peerchain")
    make_chain = os.path.join(build, "tests", "integration", "peerchain-make-chain")

    print(f"{'blocks':>8} {'seconds':>8} {'blocks/s':>10} {'us/block':>9} "
          f"{'A peak MiB':>10} {'B peak MiB':>10}")
    for blocks in args.blocks:
        chain_dir = tempfile.mkdtemp(prefix="peerchain-bench-")
        try:
            subprocess.run([make_chain, "--data-dir", chain_dir, "--blocks", str(blocks)],
                           check=True, stdout=subprocess.DEVNULL)
            results = [run_once(make_chain, blocks, chain_dir) for _ in range(args.runs)]
        finally:
            shutil.rmtree(chain_dir, ignore_errors=True)
        seconds = statistics.median(r[0] for r in results)
        print(f"{blocks:>8} {seconds:>8.2f} {blocks / seconds:>10.0f} "
              f"{seconds / blocks * 1e6:>9.1f} {max(r[1] for r in results):>10.1f} "
              f"{max(r[2] for r in results):>10.1f}", flush=True)


if __name__ == "__main__":
    main()
