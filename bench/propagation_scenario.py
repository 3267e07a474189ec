#!/usr/bin/env python3
"""Scenario benchmark: how fast a new block reaches every node of a network that found its
own peers.

Starts a seed, then N-1 nodes on loopback that each know only the seed (--peers), and
waits until every node is linked to at least --min-peers nodes besides the seed, the
nodes stay connected without the seed, and no link has changed for 3 s. Links in either
direction count, once per pair of nodes (two nodes that each dialed the other, as
nodes do, are one link of the graph); the automatic outbound counts are printed. What
happens to the seed then (--seed-mode):

  demote (default)  every node forgets the seed as a manual peer (DELETE /peers/...), which
                    drops those links; the seed stays on as an ordinary node, linked by
                    whatever it and the others dial from their books. N nodes.
  keep              the seed stays every node's manual peer: a hub linked to all. N nodes.
  stop              the seed is stopped. N-1 nodes.

Then mines --blocks blocks one at a time, each on a random node (POST /mineBlock), waiting
for every node to take a block as its tip before the next. Times come from the nodes' own
logs, not from polling their APIs: each node logs "new tip <hash>" with a millisecond
timestamp when a block becomes its tip, so the script reads log files only and adds no
load while a block travels. For each block:

  latency of node i = (time node i logged the block) - (time the miner logged it)
  propagation       = the largest latency, over every node

and each node's hop distance from the miner, by BFS over the /peers graph taken just
before the block was mined. Reports the median, p99 and spread of the propagation, the
distribution of the farthest hop, the latency by hop distance (the first is the time per
hop), the CPU time all nodes spent per block, and the loopback round trip on this machine
(a TCP echo of 64-byte messages between two processes, and the nodes' own pingMs) to state
the time per hop in round trips.

  bench/propagation_scenario.py --build build [--nodes 20] [--blocks 50] [--runs 1]
                                [--max-outbound 8] [--seed-mode demote] [--rng-seed S]

--breakdown runs the nodes at --log-level debug and splits each hop by the receiver's log:
the announcement (miner's tip to the receiver's getdata), the fetch (getdata to the block
connected) and the tip (connected to "new tip", which is logged after the new tip has
been announced to the receiver's own peers). Debug logging costs time of its own: use it
to see where the time goes, not for the headline figures.

Every node's process and data directory is removed at the end, also on failure or ^C.
"""

import argparse
import collections
import datetime
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Node, wait_until  # noqa: E402

STAMP = rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) "
TIP_LINE = re.compile(STAMP + rb"info\s+new tip ([0-9a-f]{64}) at height (\d+)$", re.M)
# Debug lines, for --breakdown: the getdata for the block after `height`, the block
# connected, and the peer manager's view of the new tip (before it announces it).
REQUEST_LINE = re.compile(STAMP + rb"debug p2p: requesting 1 blocks from peer \d+ "
                          rb"\(after height (\d+)\)$", re.M)
CONNECTED_LINE = re.compile(STAMP + rb"debug chain: connected ([0-9a-f]{64}) ", re.M)


def log_time(stamp):
    """Seconds since the epoch of a log timestamp (spdlog's %Y-%m-%dT%H:%M:%S.%e, local)."""
    return datetime.datetime.strptime(stamp.decode(), "%Y-%m-%dT%H:%M:%S.%f").timestamp()


class NodeLog:
    """Follows a node's log: the time of the first "new tip" line of each block hash, and
    with debug lines the first getdata for each height and when each block connected."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.pending = b""
        self.tips = {}
        self.requested = {}  # height of the requested block -> time
        self.connected = {}

    def poll(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        data = self.pending + data
        cut = data.rfind(b"\n") + 1
        self.pending = data[cut:]
        whole = data[:cut]
        for m in TIP_LINE.finditer(whole):
            self.tips.setdefault(m.group(2).decode(), log_time(m.group(1)))
        for m in REQUEST_LINE.finditer(whole):
            self.requested.setdefault(int(m.group(2)) + 1, log_time(m.group(1)))
        for m in CONNECTED_LINE.finditer(whole):
            self.connected.setdefault(m.group(2).decode(), log_time(m.group(1)))

    def time_of(self, block_hash):
        return self.tips.get(block_hash)


def percentile(values, p):
    """The nearest-rank percentile: the smallest value with at least p% at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def cpu_seconds(pid):
    """CPU time the process's threads have run so far, to the nanosecond (the scheduler's
    own account in /proc/<pid>/task/*/schedstat, not /proc/<pid>/stat's 10 ms ticks)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # the thread ended meanwhile
            pass
    return total / 1e9


def total_cpu(nodes):
    return sum(cpu_seconds(n.proc.pid) for n in nodes)


# --- the network --------------------------------------------------------------------------


def snapshot(nodes):
    """Each node's handshaken peers: (graph, automatic outbound count per node). The graph is
    undirected, by node index; every link is some node's outbound connection, whose address
    is the other node's P2P port. Automatic outbound peers are those a node dialed from its
    address book (not a manual peer)."""
    by_port = {n.p2p_port: i for i, n in enumerate(nodes)}
    graph = {i: set() for i in range(len(nodes))}
    automatic = []
    for i, n in enumerate(nodes):
        count = 0
        for p in n.get("/peers"):
            if p["direction"] != "outbound" or not p["handshake"]:
                continue
            count += not p["manual"]
            j = by_port.get(int(p["address"].rsplit(":", 1)[1]))
            if j is not None and j != i:
                graph[i].add(j)
                graph[j].add(i)
        automatic.append(count)
    return graph, automatic


def distances(graph, start, without=()):
    dist = {start: 0}
    queue = collections.deque([start])
    while queue:
        i = queue.popleft()
        for j in graph[i]:
            if j not in dist and j not in without:
                dist[j] = dist[i] + 1
                queue.append(j)
    return dist


def well_linked(nodes, min_peers, seed=None):
    """(graph, automatic outbound counts) once every node but `seed` is linked to at least
    min_peers nodes other than the seed and the nodes stay connected without the seed;
    else None."""
    graph, automatic = snapshot(nodes)
    others = [i for i in range(len(nodes)) if i != seed]
    if any(len(graph[i] - {seed}) < min_peers for i in others):
        return None
    if len(distances(graph, others[0], without={seed})) != len(others):
        return None
    return graph, automatic


def settled(nodes, min_peers, seed=None, quiet=3.0, timeout=300.0, what=""):
    """Waits for well_linked() to hold with no link made or lost for `quiet` seconds."""
    state = {"edges": None, "since": 0.0}

    def check():
        linked = well_linked(nodes, min_peers, seed)
        if linked is None:
            state["edges"] = None
            return None
        edges = {(i, j) for i, js in linked[0].items() for j in js if i < j}
        if edges != state["edges"]:
            state["edges"], state["since"] = edges, time.monotonic()
        return linked if time.monotonic() - state["since"] >= quiet else None

    return wait_until(check, timeout=timeout, interval=0.5, what=what)


def describe_network(graph, automatic, seed=None):
    others = [i for i in range(len(automatic)) if i != seed]
    degrees = [len(graph[i] - {seed}) for i in others]
    outs = [automatic[i] for i in others]
    return (f"links per node min {min(degrees)}, median {statistics.median(degrees):g}, "
            f"max {max(degrees)}; automatic outbound per node min {min(outs)}, median "
            f"{statistics.median(outs):g}, max {max(outs)} "
            f"({sum(1 for o in outs if o < 4)} nodes with fewer than 4)")


def start_network(args, nodes):
    """Starts the seed and the others, appending each to `nodes` before it starts (so that
    the caller cleans up after a failure), waits for discovery and deals with the seed.
    Returns the nodes that take part in the measurement."""
    extra = ["--log-level", "debug" if args.breakdown else "info", "--miner-threads", "1",
             "--max-outbound", str(args.max_outbound)]
    seed = Node("seed", extra_args=extra)
    nodes.append(seed)
    seed.start()
    started = time.monotonic()
    for i in range(1, args.nodes):
        node = Node(f"n{i:02d}", peers=[seed.ws_url], extra_args=extra)
        nodes.append(node)
        node.start()

    graph, automatic = settled(nodes, args.min_peers, seed=0, timeout=args.discovery_timeout,
                               what=f"every node to link to {args.min_peers} others")
    print(f"discovery: {time.monotonic() - started:.1f} s from the seed's start until every "
          f"node was linked to {args.min_peers} others besides the seed and no link changed "
          f"for 3 s. Without the seed: {describe_network(graph, automatic, seed=0)}",
          flush=True)

    live = nodes
    if args.seed_mode == "stop":
        seed.stop()
        live = nodes[1:]
    elif args.seed_mode == "demote":
        seed_address = urllib.parse.quote(f"127.0.0.1:{seed.p2p_port}", safe="")
        for n in nodes[1:]:
            status, reply = n.request("DELETE", f"/peers/{seed_address}")
            assert status == 200, (n.name, status, reply)
        wait_until(lambda: not any(p["manual"] for n in nodes for p in n.get("/peers")),
                   what="every manual link to the seed to close")
    if args.seed_mode != "keep":
        # Links dropped with the seed are replaced from the books on the next ticks.
        graph, automatic = settled(live, args.min_peers, timeout=args.discovery_timeout,
                                   what="the network to settle without the seed")
        print(f"seed {args.seed_mode}: {len(live)} nodes; {describe_network(graph, automatic)}",
              flush=True)
    return live


# --- loopback round trip ----------------------------------------------------------------

ECHO_SERVER = r"""
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
"""


def loopback_rtt(rounds=2000, size=64):
    """Median and p99 round trip, in ms, of a `size`-byte message echoed by another process
    over a loopback TCP connection (Nagle off), after 200 warm-up rounds."""
    server = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE,
                              text=True)
    try:
        port = int(server.stdout.readline())
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            payload = b"x" * size
            samples = []
            for i in range(rounds + 200):
                t = time.perf_counter()
                s.sendall(payload)
                got = 0
                while got < size:
                    got += len(s.recv(65536))
                if i >= 200:
                    samples.append((time.perf_counter() - t) * 1000)
        return statistics.median(samples), percentile(samples, 99)
    finally:
        server.kill()
        server.wait()


# --- blocks -------------------------------------------------------------------------------


def mine_blocks(nodes, args, rng, idle_ms_per_s):
    """Mines args.blocks blocks on random nodes; one record per block. CPU is counted from
    the mining call until the pause after the block is everywhere ends, less what the
    network uses idle over that time (so the /peers snapshots are left out)."""
    logs = [NodeLog(n.log_path) for n in nodes]
    records = []
    for b in range(args.blocks):
        graph = snapshot(nodes)[0]
        miner = rng.randrange(len(nodes))
        cpu_before, window = total_cpu(nodes), time.monotonic()
        called = time.time()
        block = nodes[miner].mine(f"propagation {b}")
        answered = time.time()
        block_hash = block["hash"]

        def everywhere():
            for log in logs:
                if log.time_of(block_hash) is None:
                    log.poll()
            return all(log.time_of(block_hash) is not None for log in logs)

        wait_until(everywhere, timeout=60, interval=0.01,
                   what=f"block {block['index']} on every node")
        # A quiet network before the next block: nothing of this one still in flight.
        time.sleep(args.pause)
        window = time.monotonic() - window
        mined_at = logs[miner].time_of(block_hash)
        record = {
            "cpu_ms": (total_cpu(nodes) - cpu_before) * 1000 - idle_ms_per_s * window,
            "latency_ms": [(log.time_of(block_hash) - mined_at) * 1000 for log in logs],
            "dist": [distances(graph, miner).get(i) for i in range(len(nodes))],
            "api_ms": (answered - called) * 1000,
            "log_to_answer_ms": (answered - mined_at) * 1000,
        }
        record["ecc"] = max(d for d in record["dist"] if d is not None)
        if args.breakdown:
            for log in logs:
                log.poll()
            phases = []
            for i, log in enumerate(logs):
                req = log.requested.get(block["index"])
                conn = log.connected.get(block_hash)
                if i == miner or req is None or conn is None:
                    continue
                phases.append((record["dist"][i], (req - mined_at) * 1000,
                               (conn - req) * 1000, (log.time_of(block_hash) - conn) * 1000))
            record["phases"] = phases
        records.append(record)
    return records


def report(records, rtt_ms, ping_ms, idle_cpu_ms):
    props = [max(r["latency_ms"]) for r in records]
    print(f"\nblocks: {len(records)}")
    print(f"propagation to the last node: median {statistics.median(props):.1f} ms, "
          f"p99 {percentile(props, 99):.1f} ms, min {min(props):.1f}, max {max(props):.1f}, "
          f"quartiles {percentile(props, 25):.1f} .. {percentile(props, 75):.1f} ms")
    eccs = collections.Counter(r["ecc"] for r in records)
    print("farthest hop from the miner: " +
          ", ".join(f"{h} hops: {c} blocks" for h, c in sorted(eccs.items())))
    by_ecc = collections.defaultdict(list)
    for r in records:
        by_ecc[r["ecc"]].append(max(r["latency_ms"]))
    for h in sorted(by_ecc):
        print(f"  blocks whose farthest node is {h} hops away: propagation median "
              f"{statistics.median(by_ecc[h]):.1f} ms")
    by_hop = collections.defaultdict(list)
    for r in records:
        for lat, d in zip(r["latency_ms"], r["dist"]):
            if d is not None and d > 0:
                by_hop[d].append(lat)
    print("latency by hop distance from the miner (every node of every block):")
    for d in sorted(by_hop):
        v = by_hop[d]
        print(f"  {d} hops: {len(v):4d} nodes, median {statistics.median(v):.1f} ms, "
              f"quartiles {percentile(v, 25):.1f} .. {percentile(v, 75):.1f}, "
              f"p90 {percentile(v, 90):.1f}, max {max(v):.1f} ms")
    first_hop = statistics.median(by_hop[1])
    print(f"loopback round trip: TCP echo median {rtt_ms[0] * 1000:.0f} us "
          f"(p99 {rtt_ms[1] * 1000:.0f} us); the nodes' pingMs (whole ms) median {ping_ms}")
    print(f"per hop (median latency of the miner's own peers): {first_hop:.1f} ms = "
          f"{first_hop / rtt_ms[0]:.0f} TCP round trips")
    if 2 in by_hop:
        second = statistics.median(by_hop[2]) - first_hop
        print(f"second hop (2-hop median less 1-hop median): {second:.1f} ms = "
              f"{second / rtt_ms[0]:.0f} TCP round trips")
    print(f"POST /mineBlock answered {statistics.median(r['api_ms'] for r in records):.1f} ms "
          f"after the call (median), "
          f"{statistics.median(r['log_to_answer_ms'] for r in records):.1f} ms after the "
          f"miner logged the tip")
    cpu = [r["cpu_ms"] for r in records]
    print(f"CPU of all nodes a block, idle use taken out: median {statistics.median(cpu):.1f} "
          f"ms (quartiles {percentile(cpu, 25):.1f} .. {percentile(cpu, 75):.1f}), against "
          f"{statistics.median(props) * os.cpu_count():.1f} ms that the machine's "
          f"{os.cpu_count()} cores have in the median propagation time (idle network: "
          f"{idle_cpu_ms:.1f} ms a second)")
    phases = [p for r in records for p in r.get("phases", [])]
    if phases:
        print("breakdown of each node's latency (debug logs), median ms: "
              "announce = miner's tip to the receiver's getdata, fetch = getdata to the "
              "block connected, tip = connected to 'new tip' logged")
        for d in sorted({p[0] for p in phases if p[0]}):
            at = [p for p in phases if p[0] == d]
            print(f"  {d} hops ({len(at)} nodes): announce {statistics.median(p[1] for p in at):.1f}"
                  f", fetch {statistics.median(p[2] for p in at):.1f}, "
                  f"tip {statistics.median(p[3] for p in at):.1f}")
    sys.stdout.flush()


def ping_median(nodes):
    pings = [p["pingMs"] for n in nodes for p in n.get("/peers") if "pingMs" in p]
    return statistics.median(pings) if pings else None


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="the CMake build directory")
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--blocks", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1, help="networks started one after another")
    parser.add_argument("--max-outbound", type=int, default=8)
    parser.add_argument("--min-peers", type=int, default=4,
                        help="links (either direction) each node needs besides the seed")
    parser.add_argument("--seed-mode", choices=["demote", "keep", "stop"], default="demote")
    parser.add_argument("--pause", type=float, default=0.3,
                        help="seconds between one block reaching every node and the next")
    parser.add_argument("--discovery-timeout", type=float, default=300)
    parser.add_argument("--breakdown", action="store_true",
                        help="debug logs, and each hop split into its phases")
    parser.add_argument("--rng-seed", type=int, default=None)
    args = parser.parse_args()
    harness.BINARY = os.path.join(os.path.abspath(args.build), "src", "app", "peerchain")
    seed = args.rng_seed if args.rng_seed is not None else random.randrange(1 << 32)
    print(f"rng seed {seed}; load average {os.getloadavg()[0]:.2f}", flush=True)
    rng = random.Random(seed)
    # SIGTERM ends the run as ^C does, through the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    rtt = loopback_rtt()
    all_records = []
    pings, idles = [], []
    for run in range(args.runs):
        nodes = []
        try:
            live = start_network(args, nodes)
            before = total_cpu(live)
            time.sleep(5)
            idles.append((total_cpu(live) - before) / 5 * 1000)
            print(f"run {run + 1}: load average {os.getloadavg()[0]:.2f} before mining",
                  flush=True)
            records = mine_blocks(live, args, rng, idles[-1])
            pings.append(ping_median(live))
            report(records, rtt, pings[-1], idles[-1])
            print(f"load average {os.getloadavg()[0]:.2f} after mining", flush=True)
            all_records += records
        finally:
            for n in nodes:
                n.cleanup()
    if args.runs > 1:
        print(f"\nall {args.runs} runs together:")
        report(all_records, rtt, statistics.median(p for p in pings if p is not None),
               statistics.median(idles))


if __name__ == "__main__":
    main()
