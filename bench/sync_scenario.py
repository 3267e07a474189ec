#!/usr/bin/env python3
"""Scenario benchmark: a fresh node syncs a chain from a peer over loopback.

For each chain: writes a regtest chain into node A's data directory with
peerchain-make-chain, starts A on it, starts a fresh node B that dials A over loopback,
and times from B's start until B's tip is A's tip (every block downloaded, its proof of
work and merkle root checked, every signature verified, connected and stored). Reports
the median over the runs and the peak resident memory (VmHWM) of both processes, and
the syncing node's peak anonymous memory (RssAnon, sampled as it syncs): VmHWM also
counts the pages of LevelDB's table files, which LevelDB maps to read them.

Blocks mode (the default): chains of coinbase-only blocks of each length; reports blocks
per second, the cost per block and the CPU time each node used.

  bench/sync_scenario.py --build build [--blocks 10000 100000] [--runs 3]

Transactions mode: chains holding each given number of signed transactions besides the
coinbases, at most K a block once the first coinbases are mature (two inputs and three
outputs each, see peerchain-make-chain); reports transactions and blocks per second and
the CPU time each node used, from B's start (A's includes its own start).

  bench/sync_scenario.py --build build --txs 100000 [--txs-per-block 100] [--runs 3]

--no-index runs B with --no-index; --compare-no-index runs B with and without it, one
after the other in each run (so that a load that changes over time hits both alike), and
reports both and their ratio: the cost of the transaction and address indexes (issue 10).

--assume-valid on starts B with --assume-valid set to A's tip (issue 10): the signatures
of blocks buried under it are not checked. --assume-valid both alternates runs without and
with it, the same way, and reports each and the ratio.

--baseline PEERCHAIN alternates B between that binary (an older build: a before/after
measurement in one run, so that both see the same machine) and the build's own; A always
runs the build's.
"""

import argparse
import http.client
import json
import os
import re
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


def anon_rss_mib(pid):
    """The process's anonymous resident memory now (RssAnon): its heap and stacks, without
    the file pages it maps (LevelDB maps its table files, whose pages VmHWM also counts)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid):
    """User plus system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class HeightPoller:
    """Asks a node for its height over one kept-alive HTTP connection. A fresh connection per
    question (urllib) cost this script 7% of a core and the node an accept and a handshake
    each time, 100 times a second, on the 2 cores both nodes share."""

    def __init__(self, url):
        host, port = url.split("//", 1)[1].rsplit(":", 1)
        self.host, self.port = host, int(port.rstrip("/"))
        self.conn = None

    def height(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            self.conn.request("GET", "/status")
            resp = self.conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise OSError("status request failed")
        if resp.status != 200:
            raise ValueError(f"status {resp.status}")
        return json.loads(body)["height"]

    def close(self):
        if self.conn is not None:
            self.conn.close()


def run_once(blocks, chain_dir, b_args=(), b_binary=None, transport="ws"):
    a = Node("A", data_dir=chain_dir, extra_args=["--log-level", "warn"])
    b = Node("B", extra_args=["--log-level", "warn"], binary=b_binary)
    try:
        a.start()
        b.peers = [a.tcp_url if transport == "tcp" else a.ws_url]
        # "--assume-valid" stands for "--assume-valid <A's tip>".
        for arg in b_args:
            b.extra_args += ["--assume-valid", a.tip()] if arg == "--assume-valid" else [arg]
        start = time.monotonic()
        b.start()
        anon_peak = [0.0]
        poller = HeightPoller(b.url)

        def synced():
            anon_peak[0] = max(anon_peak[0], anon_rss_mib(b.proc.pid))
            return poller.height() == blocks

        try:
            wait_until(synced, timeout=3600, interval=0.01, what=f"B to sync {blocks} blocks")
        finally:
            poller.close()
        elapsed = time.monotonic() - start
        assert b.tip() == a.tip()
        return (elapsed, peak_rss_mib(a.proc.pid), peak_rss_mib(b.proc.pid),
                cpu_seconds(a.proc.pid), cpu_seconds(b.proc.pid), anon_peak[0])
    finally:
        a.stop()
        b.stop()
        b.cleanup()


def variants(args):
    """(label, B's extra arguments, B's binary or None) of each kind of run."""
    base = (["--no-index"] if args.no_index else []) + list(args.b_arg or [])
    if args.baseline:
        return [("baseline", base, os.path.abspath(args.baseline)), ("build", base, None)]
    if args.compare_no_index:
        return [("indexed", [], None), ("no-index", ["--no-index"], None)]
    if args.assume_valid == "both":
        return [("checked", base, None), ("assumed", base + ["--assume-valid"], None)]
    if args.assume_valid == "on":
        return [("assumed", base + ["--assume-valid"], None)]
    return [("no-index", base, None)] if args.no_index else [("indexed", base, None)]


def report(results, items, unit):
    """Prints each variant's medians and, for two variants, their ratios."""
    medians = {}
    for label, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        cpu_b = statistics.median(r[4] for r in runs)
        medians[label] = (seconds, cpu_b)
        print(f"{label:>8} {items:>8} {seconds:>8.2f} {items / seconds:>9.0f} "
              f"{seconds / items * 1e6:>8.1f} "
              f"{max(r[1] for r in runs):>10.1f} {max(r[2] for r in runs):>10.1f} "
              f"{statistics.median(r[3] for r in runs):>7.2f} {cpu_b:>7.2f} "
              f"{max(r[5] for r in runs):>10.1f}", flush=True)
    if len(medians) == 2:
        (first, (wall_1, cpu_1)), (second, (wall_2, cpu_2)) = medians.items()
        pairs = [a[0] / b[0] for a, b in zip(*results.values())]
        print(f"{first} / {second}: {wall_1 / wall_2:.3f} wall (pairs "
              f"{min(pairs):.3f}-{max(pairs):.3f}), {cpu_1 / cpu_2:.3f} B cpu", flush=True)


def header(unit):
    print(f"{'B':>8} {unit:>8} {'seconds':>8} {unit + '/s':>9} {'us/' + unit[:-1]:>8} "
          f"{'A peak MiB':>10} {'B peak MiB':>10} {'A cpu s':>7} {'B cpu s':>7} {'B anon MiB':>10}")


def sync_transactions(make_chain, args):
    print(f"{'B':>8} {'txs':>8} {'blocks':>7} {'seconds':>8} {'txs/s':>8} {'blocks/s':>9} "
          f"{'us/tx':>7} {'A peak MiB':>10} {'B peak MiB':>10} {'A cpu s':>7} {'B cpu s':>7} "
          f"{'B anon MiB':>10}")
    for txs in args.txs:
        chain_dir = tempfile.mkdtemp(prefix="peerchain-bench-")
        results = {label: [] for label, _, _ in variants(args)}
        try:
            made = subprocess.run([make_chain, "--data-dir", chain_dir, "--txs", str(txs),
                                   "--txs-per-block", str(args.txs_per_block)],
                                  check=True, stdout=subprocess.PIPE, text=True).stdout
            blocks = int(re.search(r"blocks, .* at height (\d+)", made).group(1))
            for _ in range(args.runs):
                for label, b_args, b_binary in variants(args):
                    results[label].append(run_once(blocks, chain_dir, b_args, b_binary,
                                                   args.transport))
        finally:
            shutil.rmtree(chain_dir, ignore_errors=True)
        medians = {}
        for label, runs in results.items():
            seconds = statistics.median(r[0] for r in runs)
            medians[label] = (seconds, statistics.median(r[4] for r in runs))
            print(f"{label:>8} {txs:>8} {blocks:>7} {seconds:>8.2f} {txs / seconds:>8.0f} "
                  f"{blocks / seconds:>9.0f} {seconds / txs * 1e6:>7.1f} "
                  f"{max(r[1] for r in runs):>10.1f} {max(r[2] for r in runs):>10.1f} "
                  f"{statistics.median(r[3] for r in runs):>7.2f} "
                  f"{medians[label][1]:>7.2f} {max(r[5] for r in runs):>10.1f}", flush=True)
        if len(medians) == 2:
            (first, (wall_1, cpu_1)), (second, (wall_2, cpu_2)) = medians.items()
            print(f"{first} / {second}: {wall_1 / wall_2:.3f} wall, {cpu_1 / cpu_2:.3f} B cpu",
                  flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="the CMake build directory")
    parser.add_argument("--blocks", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--txs", type=int, nargs="+",
                        help="transactions mode: chains holding these many transactions")
    parser.add_argument("--txs-per-block", type=int, default=100)
    parser.add_argument("--assume-valid", choices=["off", "on", "both"], default="off",
                        help="transactions mode: start B with --assume-valid <A's tip>")
    parser.add_argument("--no-index", action="store_true",
                        help="B runs with --no-index")
    parser.add_argument("--compare-no-index", action="store_true",
                        help="each run syncs B with, then without indexes")
    parser.add_argument("--b-arg", action="append", metavar="ARG",
                        help="one more argument for B (repeat it: --b-arg=--coins-cache "
                             "--b-arg=16)")
    parser.add_argument("--transport", choices=["ws", "tcp"], default="ws",
                        help="how B dials A (both nodes speak both)")
    parser.add_argument("--baseline", metavar="PEERCHAIN",
                        help="each run syncs B with this peerchain binary, then with the build's")
    args = parser.parse_args()
    if args.assume_valid != "off" and not args.txs:
        parser.error("--assume-valid goes with --txs")
    if sum([args.compare_no_index, args.assume_valid == "both", bool(args.baseline)]) > 1:
        parser.error("--compare-no-index, --assume-valid both, --baseline: one at a time")
    build = os.path.abspath(args.build)
    harness.BINARY = os.path.join(build, "src", "app", "peerchain")
    make_chain = os.path.join(build, "tests", "integration", "peerchain-make-chain")
    if args.txs:
        sync_transactions(make_chain, args)
        return

    header("blocks")
    for blocks in args.blocks:
        chain_dir = tempfile.mkdtemp(prefix="peerchain-bench-")
        results = {label: [] for label, _, _ in variants(args)}
        try:
            subprocess.run([make_chain, "--data-dir", chain_dir, "--blocks", str(blocks)],
                           check=True, stdout=subprocess.DEVNULL)
            for _ in range(args.runs):
                for label, b_args, b_binary in variants(args):
                    results[label].append(run_once(blocks, chain_dir, b_args, b_binary,
                                                   args.transport))
        finally:
            shutil.rmtree(chain_dir, ignore_errors=True)
        report(results, blocks, "blocks")


if __name__ == "__main__":
    main()
