#!/usr/bin/env python3
"""Scenario benchmark: how long five nodes take to agree on one tip after a network
partition heals.

Five regtest nodes A..E, each linked to every other (node i has the nodes started before
it as --peers), share a few blocks. The network is then split into {A, B} and {C, D, E};
each side mines on its own nodes, one block at a time, the heavier side more blocks
(--light, --heavy); the split lasts --partition-seconds from the cut, plus a random part of
up to --jitter seconds (so that the heal does not always fall at the same point of the
nodes' 1-second ticks or of TCP's retransmission schedule). Then it heals, and
the clock runs from the heal until every node has the heavier side's tip: the lighter
side's nodes reorganize onto it. Times come from the nodes' logs ("new tip <hash>", with a
millisecond timestamp), so nothing polls the nodes while they converge.

Two ways to split the network (--method):

  netns (the default when run as root)
      Each node runs in its own network namespace with an address 10.78.0.11..15 on a veth
      pair to a bridge; the script talks to the nodes' HTTP ports from 10.78.0.1 on the
      bridge, with the cookie token each node writes to its data directory. The cut adds
      blackhole routes in each namespace for the other side's addresses: packets between
      the sides are dropped, as when a link goes down, and the connections stay open and
      stall (TCP keeps its unacknowledged data and retransmits with exponential backoff).
      The heal deletes the routes: what was queued gets through at TCP's next retransmission.
      Namespaces, veths and the bridge are named after this process and removed at the end,
      also on failure or ^C.
  ban
      The nodes run on loopback; the cut is POST /bans on every node against each node of
      the other side (host:port), which drops those connections at once and refuses new
      ones; the heal is DELETE /bans, after which the nodes dial each other again (a manual
      peer is redialed on the node's next tick once its ban is lifted).

  bench/partition_scenario.py --build build [--method netns|ban] [--runs 5]
                              [--light 2] [--heavy 4] [--partition-seconds 5] [--jitter 1]

Reports, for each run and as the median over runs: the time from the heal to the first and
to the last node reorganizing onto the heavier tip. Every node, data directory and (netns)
namespace is removed at the end.
"""

import argparse
import datetime
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Node, wait_until  # noqa: E402

NAMES = "ABCDE"
LIGHT_SIDE = "AB"
TIP_LINE = re.compile(rb"^(\S+) info\s+new tip ([0-9a-f]{64}) at height \d+$", re.M)


def log_time(stamp):
    """Seconds since the epoch of a log timestamp (spdlog's %Y-%m-%dT%H:%M:%S.%e, local)."""
    return datetime.datetime.strptime(stamp.decode(), "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def tip_times(node):
    """When the node logged each block as its new tip (first time), by hash."""
    with open(node.log_path, "rb") as f:
        data = f.read()
    times = {}
    for m in TIP_LINE.finditer(data):
        times.setdefault(m.group(2).decode(), log_time(m.group(1)))
    return times


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# --- nodes in network namespaces ----------------------------------------------------------


class NetnsNode(Node):
    """A node in its own network namespace, on fixed ports of the namespace's address.
    Routes that change anything are called with the node's cookie token: the script is
    not on the node's loopback."""

    def __init__(self, name, namespace, ip, peers=()):
        super().__init__(name, peers=peers)
        self.namespace = namespace
        self.ip = ip
        self.http_port = 3001
        self.p2p_port = 6001

    def start(self, env_peers=None, timeout=30.0):
        info = os.path.join(self.data_dir, "node.json")
        args = ["ip", "netns", "exec", self.namespace, harness.BINARY, "node",
                "--network", "regtest", "--data-dir", self.data_dir,
                "--http-bind", self.ip, "--http-port", str(self.http_port),
                "--p2p-bind", self.ip, "--p2p-port", str(self.p2p_port)]
        if self.peers:
            args += ["--peers", ",".join(self.peers)]
        args += self.extra_args
        with open(self.log_path, "ab") as log:
            # `ip netns exec` execs the node in place: the pid is the node's.
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                     + self.log_tail())
            with open(info) as f:
                return json.load(f).get("pid") == self.proc.pid

        wait_until(ready, timeout=timeout, what=f"{self.name} to start")
        return self

    @property
    def url(self):
        return f"http://{self.ip}:{self.http_port}"

    @property
    def ws_url(self):
        return f"ws://{self.ip}:{self.p2p_port}"

    def mine(self, data="block"):
        status, reply = self.request("POST", "/mineBlock", {"data": data},
                                     headers={"Authorization": "Bearer " + self.token()})
        if status != 200:
            raise harness.HttpError(status, reply)
        return reply


class Netns:
    """A bridge in this namespace with the script's address, and one namespace per node
    with a veth pair to it; all named after this process and removed by close()."""

    def __init__(self, subnet):
        tag = f"pcp{os.getpid() % 100000}"
        self.bridge = f"{tag}br"
        self.subnet = subnet
        self.namespaces = {}
        self.veths = []
        taken = subprocess.run(["ip", "-4", "-o", "addr"], check=True, stdout=subprocess.PIPE,
                               text=True).stdout
        if f" {subnet}." in taken:
            raise SystemExit(f"{subnet}.0/24 is already in use here (another run?); "
                             "pick another with --subnet")
        try:
            run("ip", "link", "add", self.bridge, "type", "bridge")
            run("ip", "addr", "add", f"{subnet}.1/24", "dev", self.bridge)
            run("ip", "link", "set", self.bridge, "up")
            for i, name in enumerate(NAMES):
                ns = f"{tag}-{name.lower()}"
                veth = f"{tag}{name.lower()}"
                run("ip", "netns", "add", ns)
                self.namespaces[name] = (ns, f"{subnet}.{11 + i}")
                run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                    "netns", ns)
                self.veths.append(veth)
                run("ip", "link", "set", veth, "master", self.bridge, "up")
                run("ip", "-n", ns, "addr", "add", f"{subnet}.{11 + i}/24", "dev", "eth0")
                run("ip", "-n", ns, "link", "set", "eth0", "up")
                run("ip", "-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise

    def set_cut(self, cut):
        """Adds (cut) or deletes (heal) blackhole routes between the two sides."""
        for name, (ns, _) in self.namespaces.items():
            light = name in LIGHT_SIDE
            for other, (_, ip) in self.namespaces.items():
                if (other in LIGHT_SIDE) != light:
                    run("ip", "-n", ns, "route", "add" if cut else "del", "blackhole", f"{ip}/32")

    def close(self):
        for veth in self.veths:
            subprocess.run(["ip", "link", "del", veth], stderr=subprocess.DEVNULL)
        for ns, _ in self.namespaces.values():
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", self.bridge], stderr=subprocess.DEVNULL)


# --- the scenario --------------------------------------------------------------------------


def ban_cut(nodes, cut):
    """POST /bans (cut) or DELETE /bans (heal) on every node against the other side."""
    for name, node in nodes.items():
        for other, peer in nodes.items():
            if (other in LIGHT_SIDE) == (name in LIGHT_SIDE):
                continue
            endpoint = f"127.0.0.1:{peer.p2p_port}"
            if cut:
                node.wallet("POST", "/bans", {"address": endpoint, "seconds": 3600})
            else:
                node.wallet("DELETE", "/bans/" + urllib.parse.quote(endpoint, safe=""))


def same_tip(nodes):
    tips = {n.tip() for n in nodes}
    return tips.pop() if len(tips) == 1 else None


def mine_on_side(side, count, label):
    """Mines `count` blocks on the side's nodes in turn, each reaching the whole side
    before the next; returns the last block's hash."""
    last = None
    for i in range(count):
        node = side[i % len(side)]
        last = node.mine(f"{label} {i}")["hash"]
        wait_until(lambda: all(n.tip() == last for n in side), timeout=30, interval=0.02,
                   what=f"{label} block {i} on its side")
    return last


def run_once(args, netns, run_index, rng):
    nodes = {}
    try:
        extra = ["--log-level", "info", "--miner-threads", "1"]
        for i, name in enumerate(NAMES):
            earlier = [nodes[n].ws_url for n in NAMES[:i]]
            if netns:
                ns, ip = netns.namespaces[name]
                node = NetnsNode(name, ns, ip, peers=earlier)
            else:
                node = Node(name, peers=earlier)
            node.extra_args = extra
            nodes[name] = node
            node.start()
        every = list(nodes.values())
        wait_until(lambda: all(n.peer_count() == len(NAMES) - 1 and
                               all(p["handshake"] for p in n.get("/peers")) for n in every),
                   timeout=60, what="every node linked to every other")
        base = mine_on_side(every, args.base, "shared")
        wait_until(lambda: same_tip(every) == base, what="the shared blocks everywhere")

        light = [nodes[n] for n in NAMES if n in LIGHT_SIDE]
        heavy = [nodes[n] for n in NAMES if n not in LIGHT_SIDE]
        cut_at = time.monotonic()
        if netns:
            netns.set_cut(True)
        else:
            ban_cut(nodes, True)
            wait_until(lambda: all(n.peer_count() == len(light) - 1 for n in light) and
                       all(n.peer_count() == len(heavy) - 1 for n in heavy),
                       what="the links across the cut to close")
        light_tip = mine_on_side(light, args.light, "light side")
        heavy_tip = mine_on_side(heavy, args.heavy, "heavy side")
        assert same_tip(light) == light_tip and same_tip(heavy) == heavy_tip
        apart = args.partition_seconds + rng.uniform(0, args.jitter)
        remaining = apart - (time.monotonic() - cut_at)
        if remaining > 0:
            time.sleep(remaining)

        cut_for = time.monotonic() - cut_at
        healed = time.time()
        if netns:
            netns.set_cut(False)
        else:
            ban_cut(nodes, False)
        wait_until(lambda: all(heavy_tip in tip_times(n) for n in every), timeout=600,
                   interval=0.05, what="every node on the heavier tip")
        assert same_tip(every) == heavy_tip
        reorged = sorted(tip_times(n)[heavy_tip] - healed for n in light)
        first, last = reorged[0] * 1000, reorged[-1] * 1000
        print(f"run {run_index + 1}: cut for {cut_for:.1f} s; heavier tip on the first "
              f"node of the lighter side {first:.0f} ms after the heal, on the last "
              f"{last:.0f} ms after; load average {os.getloadavg()[0]:.2f}", flush=True)
        return first, last
    finally:
        for node in nodes.values():
            node.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="the CMake build directory")
    parser.add_argument("--method", choices=["netns", "ban"],
                        default="netns" if os.geteuid() == 0 and shutil.which("ip") else "ban")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--base", type=int, default=3, help="blocks mined before the cut")
    parser.add_argument("--light", type=int, default=2, help="blocks mined on {A, B}")
    parser.add_argument("--heavy", type=int, default=4, help="blocks mined on {C, D, E}")
    parser.add_argument("--partition-seconds", type=float, default=5.0,
                        help="how long the sides stay apart, from the cut")
    parser.add_argument("--jitter", type=float, default=1.0,
                        help="up to this many seconds more, at random, for each run")
    parser.add_argument("--subnet", default="10.78.0", help="netns: the /24 to use")
    parser.add_argument("--rng-seed", type=int, default=None)
    args = parser.parse_args()
    if args.heavy <= args.light:
        parser.error("--heavy must be more than --light")
    harness.BINARY = os.path.join(os.path.abspath(args.build), "src", "app", "peerchain")
    # SIGTERM ends the run as ^C does, through the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    seed = args.rng_seed if args.rng_seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    print(f"method {args.method}; {args.light} blocks on {{A, B}}, {args.heavy} on "
          f"{{C, D, E}}, apart for {args.partition_seconds:g} s + up to {args.jitter:g} s; "
          f"rng seed {seed}; load average {os.getloadavg()[0]:.2f}", flush=True)

    netns = Netns(args.subnet) if args.method == "netns" else None
    try:
        results = [run_once(args, netns, i, rng) for i in range(args.runs)]
    finally:
        if netns:
            netns.close()
    firsts = [r[0] for r in results]
    lasts = [r[1] for r in results]
    print(f"\nall five on the heavier tip after the heal: median {statistics.median(lasts):.0f} "
          f"ms (min {min(lasts):.0f}, max {max(lasts):.0f}) over {len(results)} runs; the "
          f"first node of the lighter side: median {statistics.median(firsts):.0f} ms")


if __name__ == "__main__":
    main()
