"""Starts real peerchain processes for integration tests and talks to them over HTTP.

Every node gets a fresh temporary data directory and ephemeral loopback ports (it binds
port 0 and reports the ports it got in <data-dir>/node.json). Nodes are stopped and their
directories removed when the test ends, whatever happens.

Beside the nodes, the memory figures of a node's process; and, re-exported from p2p_wire,
raw peers that speak the P2P protocol of docs/PROTOCOL.md over WebSocket (RawWebSocket) or
TCP (RawTcp), encoders and decoders of its messages, and a generator of regtest header
chains.
"""

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BINARY = os.environ.get("PEERCHAIN_BIN", "peerchain")
MAKE_CHAIN = os.environ.get("PEERCHAIN_MAKE_CHAIN", "peerchain-make-chain")

# Settings `peerchain node` also reads from the environment: a test passes them explicitly,
# so none may leak in from the shell that runs the tests.
NODE_ENV_NAMES = ("HTTP_PORT", "P2P_PORT", "PEERS", "DATA_DIR", "NETWORK", "HTTP_BIND",
                  "P2P_BIND", "MINE", "MINE_TO", "MINER_THREADS", "LOG_LEVEL", "TRANSPORTS",
                  "MAX_OUTBOUND", "MAX_INBOUND", "EXTERNAL_ADDRESS", "NO_INDEX",
                  "ASSUME_VALID", "COINS_CACHE")


class HttpError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def wait_until(predicate, timeout=30.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, HttpError, ValueError):
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Node:
    """One peerchain process.

    `host` is the address the node binds its P2P port and its API to, and where the test
    reaches both (127.0.0.1, or a network namespace's own address). `netns` runs the
    process in that network namespace (`ip netns exec`) and sends the test's HTTP requests
    from inside it. `token_auth` sends the cookie token with every request, as a client
    that is not on the node's loopback must. `env` adds environment variables (the
    node's settings by their environment names). `binary` runs another build of peerchain
    (a benchmark's baseline) instead of BINARY."""

    def __init__(self, name, network="regtest", peers=(), extra_args=(), data_dir=None,
                 env=None, host="127.0.0.1", netns=None, token_auth=False, binary=None):
        self.name = name
        self.binary = binary  # None: BINARY
        self.network = network
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"peerchain-{name}-")
        self.peers = list(peers)
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.host = host
        self.netns = netns
        self.token_auth = token_auth
        # Ports to bind at the next start; None: any free port (0).
        self.fixed_http_port = None
        self.fixed_p2p_port = None
        self.proc = None
        self.http_port = None
        self.p2p_port = None
        self.log_path = os.path.join(self.data_dir, "node.log")

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def info_path(self):
        return os.path.join(self.data_dir, "node.json")

    def launch(self, env_peers=None):
        """Starts the process and returns at once; wait_started() waits for it."""
        if os.path.exists(self.info_path):
            os.remove(self.info_path)
        args = [self.binary or BINARY, "node", "--network", self.network,
                "--data-dir", self.data_dir,
                "--http-port", str(self.fixed_http_port or 0),
                "--p2p-port", str(self.fixed_p2p_port or 0),
                "--http-bind", self.host, "--p2p-bind", self.host,
                "--log-level", "debug"]
        if self.peers:
            args += ["--peers", ",".join(self.peers)]
        args += self.extra_args
        if self.netns:
            args = ["ip", "netns", "exec", self.netns] + args
        env = dict(os.environ)
        for name in NODE_ENV_NAMES:
            env.pop(name, None)
        env.update(self.env)
        if env_peers:
            env["PEERS"] = env_peers
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        return self

    def wait_started(self, timeout=30.0):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                     + self.log_tail())
            with open(self.info_path) as f:
                data = json.load(f)
            return data if data.get("pid") == self.proc.pid else None

        data = wait_until(ready, timeout=timeout, what=f"{self.name} to start")
        self.http_port = data["httpPort"]
        self.p2p_port = data["p2pPort"]
        return self

    def start(self, env_peers=None, timeout=30.0):
        self.launch(env_peers)
        return self.wait_started(timeout)

    def pin_ports(self):
        """Makes the next start bind the ports this node has now (read from node.json), so
        that peers that know its address can dial it again after a restart."""
        with open(self.info_path) as f:
            data = json.load(f)
        self.fixed_http_port = data["httpPort"]
        self.fixed_p2p_port = data["p2pPort"]

    def stop(self, timeout=20.0):
        """SIGTERM, as an operator would; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not stop within {timeout}s:\n" + self.log_tail())

    def kill(self):
        """SIGKILL: no chance to flush or close anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        self.kill()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    # --- HTTP ----------------------------------------------------------------------------

    @property
    def url(self):
        return f"http://{self.host}:{self.http_port}"

    @property
    def p2p_address(self):
        """host:port, as the node's peers and /peers name it."""
        return f"{self.host}:{self.p2p_port}"

    @property
    def ws_url(self):
        return f"ws://{self.host}:{self.p2p_port}"

    @property
    def tcp_url(self):
        return f"tcp://{self.host}:{self.p2p_port}"

    def request(self, method, path, body=None, raw=None, headers=None, timeout=60.0):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        headers = dict(headers or {})
        if self.token_auth and "Authorization" not in headers:
            headers["Authorization"] = "Bearer " + self.token()
        for k, v in headers.items():
            req.add_header(k, v)
        try:
            with in_netns(self.netns), urllib.request.urlopen(req, timeout=timeout) as resp:
                text = resp.read()
                return resp.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return e.code, parsed

    def get(self, path):
        status, body = self.request("GET", path)
        if status != 200:
            raise HttpError(status, body)
        return body

    def post(self, path, body):
        status, reply = self.request("POST", path, body)
        if status not in (200, 202):
            raise HttpError(status, reply)
        return reply

    def mine(self, data="block"):
        return self.post("/mineBlock", {"data": data})

    def mine_many(self, n, prefix="block"):
        return [self.mine(f"{prefix} {i}") for i in range(n)]

    def status(self):
        return self.get("/status")

    def height(self):
        return self.status()["height"]

    def tip(self):
        return self.status()["tipHash"]

    def peer_count(self):
        return len(self.get("/peers"))

    # --- peers -----------------------------------------------------------------------------

    def peers_info(self):
        return self.get("/peers")

    def handshaken(self, direction=None):
        """Peers past the handshake, of one direction when given."""
        return [p for p in self.peers_info()
                if p.get("handshake") and direction in (None, p["direction"])]

    def outbound_to(self, other):
        """Our handshaken outbound link to `other` (a Node, or its host:port), or None."""
        address = other.p2p_address if isinstance(other, Node) else other
        for p in self.handshaken("outbound"):
            if p["address"] == address:
                return p
        return None

    def known(self, limit=100_000):
        """GET /peers/known: the address book and the manual peers."""
        return self.get(f"/peers/known?limit={limit}")

    def token_request(self, method, path, body=None):
        """A request with the cookie token, which some routes need from every client."""
        return self.request(method, path, body, headers={"Authorization": "Bearer " + self.token()})

    # --- the process ---------------------------------------------------------------------

    def proc_status(self):
        """The kB figures of /proc/<pid>/status (VmHWM, VmRSS, ...), by name."""
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                parts = value.split()
                if len(parts) == 2 and parts[1] == "kB":
                    out[name] = int(parts[0])
        return out

    def vm_hwm_kb(self):
        """The peak resident set size of the process, in kB, since it started or since
        reset_peak_memory()."""
        return self.proc_status()["VmHWM"]

    def reset_peak_memory(self):
        """Lowers VmHWM to the present VmRSS (Linux 4.0 and later), so that a peak
        measured from here is one reached from here, not at start-up; returns it."""
        with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
            f.write("5")
        return self.vm_hwm_kb()

    def vm_rss_kb(self):
        return self.proc_status()["VmRSS"]

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # --- the node's wallet (routes that always need the cookie token) ---------------------

    def token(self):
        with open(os.path.join(self.data_dir, ".cookie")) as f:
            return f.read().strip()

    def wallet_request(self, method, path, body=None):
        return self.token_request(method, path, body)

    def wallet(self, method, path, body=None):
        status, reply = self.wallet_request(method, path, body)
        if status != 200:
            raise HttpError(status, reply)
        return reply

    def address(self):
        return self.wallet("GET", "/wallet/address")["address"]

    def balance(self):
        return self.wallet("GET", "/wallet/balance")

    def send(self, to, amount, **extra):
        return self.wallet("POST", "/wallet/send", {"to": to, "amount": amount, **extra})["txid"]

    def mempool_txids(self):
        return {e["txid"] for e in self.get("/mempool")}


class NodeTestCase(unittest.TestCase):
    """Tracks every node a test starts and always cleans up, printing logs on failure."""

    def setUp(self):
        self.nodes = []

    def tearDown(self):
        result = self._outcome.result
        failed = any(test is self for test, _ in result.failures + result.errors)
        for node in self.nodes:
            if failed:
                print(f"\n===== log of {node.name} =====\n{node.log_tail()}")
            node.cleanup()

    def start_node(self, name, **kwargs):
        env_peers = kwargs.pop("env_peers", None)
        node = Node(name, **kwargs)
        self.nodes.append(node)
        return node.start(env_peers=env_peers)

    def start_nodes(self, nodes, timeout=60.0):
        """Starts several nodes at once (launch all, then wait for each)."""
        self.nodes.extend(nodes)
        for node in nodes:
            node.launch()
        for node in nodes:
            node.wait_started(timeout)
        return nodes

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="peerchain-it-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def make_chain(self, data_dir, blocks, tag=None, txs=None, txs_per_block=None):
        """Writes a `blocks`-long regtest chain into data_dir (tests/integration/
        make_chain.cpp); the same blocks and tag give the same chain. With `txs`, signed
        transactions, at most `txs_per_block` a block, from the first mature coinbase on."""
        args = [MAKE_CHAIN, "--network", "regtest", "--data-dir", data_dir,
                "--blocks", str(blocks)]
        if tag:
            args += ["--tag", tag]
        if txs:
            args += ["--txs", str(txs), "--txs-per-block", str(txs_per_block or 1)]
        subprocess.run(args, check=True, timeout=300, capture_output=True)
        return data_dir

    def node_with_chain(self, name, blocks, tag=None, txs=None, txs_per_block=None, **kwargs):
        """A started node whose data directory got a make_chain chain first."""
        data_dir = self.make_chain(self.tmpdir(), blocks, tag, txs, txs_per_block)
        node = Node(name, data_dir=data_dir, **kwargs)
        self.nodes.append(node)
        return node.start()

    def assert_same_tip(self, nodes, timeout=30.0):
        def same():
            tips = {n.tip() for n in nodes}
            return len(tips) == 1
        wait_until(same, timeout=timeout,
                   what="the same tip on " + ", ".join(n.name for n in nodes))
        return nodes[0].tip()


# --- network namespaces ------------------------------------------------------------------

_CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def in_netns(name):
    """Runs the body with the calling thread in network namespace `name` (/run/netns/NAME,
    as `ip netns add` makes it), so that the sockets it opens live there; then returns the
    thread to its own namespace. None: stays where it is. Needs CAP_SYS_ADMIN."""
    if name is None:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            if libc.setns(target, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns into {name}: {os.strerror(err)}")
        finally:
            os.close(target)
        try:
            yield
        finally:
            if libc.setns(own, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                # A thread left in another namespace would send every later request there.
                raise SystemExit(f"cannot return from network namespace {name}: "
                                 f"{os.strerror(err)}")
    finally:
        os.close(own)


from p2p_wire import *  # noqa: E402,F401,F403  (re-exported for the tests)
