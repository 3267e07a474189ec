"""Starts real peerchain processes for integration tests and talks to them over HTTP.

Every node gets a fresh temporary data directory and ephemeral loopback ports (it binds
port 0 and reports the ports it got in <data-dir>/node.json). Nodes are stopped and their
directories removed when the test ends, whatever happens.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BINARY = os.environ.get("PEERCHAIN_BIN", "peerchain")


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
    def __init__(self, name, network="regtest", peers=(), extra_args=(), data_dir=None):
        self.name = name
        self.network = network
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"peerchain-{name}-")
        self.peers = list(peers)
        self.extra_args = list(extra_args)
        self.proc = None
        self.http_port = None
        self.p2p_port = None
        self.log_path = os.path.join(self.data_dir, "node.log")

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, env_peers=None, timeout=30.0):
        info = os.path.join(self.data_dir, "node.json")
        if os.path.exists(info):
            os.remove(info)
        args = [BINARY, "node", "--network", self.network, "--data-dir", self.data_dir,
                "--http-port", "0", "--p2p-port", "0", "--p2p-bind", "127.0.0.1",
                "--log-level", "debug"]
        if self.peers:
            args += ["--peers", ",".join(self.peers)]
        args += self.extra_args
        env = dict(os.environ)
        for name in ("HTTP_PORT", "P2P_PORT", "PEERS", "DATA_DIR", "NETWORK"):
            env.pop(name, None)
        if env_peers:
            env["PEERS"] = env_peers
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                     + self.log_tail())
            with open(info) as f:
                data = json.load(f)
            return data if data.get("pid") == self.proc.pid else None

        data = wait_until(ready, timeout=timeout, what=f"{self.name} to start")
        self.http_port = data["httpPort"]
        self.p2p_port = data["p2pPort"]
        return self

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
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.p2p_port}"

    def request(self, method, path, body=None, raw=None, headers=None, timeout=60.0):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
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

    # --- the node's wallet (routes that always need the cookie token) ---------------------

    def token(self):
        with open(os.path.join(self.data_dir, ".cookie")) as f:
            return f.read().strip()

    def wallet_request(self, method, path, body=None):
        return self.request(method, path, body,
                            headers={"Authorization": "Bearer " + self.token()})

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

    def assert_same_tip(self, nodes, timeout=30.0):
        def same():
            tips = {n.tip() for n in nodes}
            return len(tips) == 1
        wait_until(same, timeout=timeout,
                   what="the same tip on " + ", ".join(n.name for n in nodes))
        return nodes[0].tip()


def raw_tcp(port, payload, read=True, timeout=2.0):
    """Sends raw bytes to 127.0.0.1:port; returns what came back before close/timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        if not read:
            return b""
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass
        return b"".join(chunks)


class RawWebSocket:
    """A bare WebSocket client for sending hostile frames to a node's P2P port."""

    def __init__(self, port, timeout=5.0):
        import base64
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the WebSocket handshake")
            reply += chunk
        if not reply.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"upgrade refused: {reply[:80]!r}")

    def send_frame(self, payload, opcode=0x2, declared_length=None):
        """Sends one masked frame; declared_length lies about the size when given."""
        length = len(payload) if declared_length is None else declared_length
        header = bytes([0x80 | opcode])
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + length.to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + length.to_bytes(8, "big")
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv_frame(self, timeout=5.0):
        """Reads one frame (unmasked, as a server sends): (opcode, payload)."""
        self.sock.settimeout(timeout)

        def exactly(n):
            data = b""
            while len(data) < n:
                chunk = self.sock.recv(n - len(data))
                if not chunk:
                    raise ConnectionError("closed")
                data += chunk
            return data

        b0, b1 = exactly(2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(exactly(2), "big")
        elif length == 127:
            length = int.from_bytes(exactly(8), "big")
        return b0 & 0x0F, exactly(length)

    def recv_message(self, timeout=5.0):
        """The payload of the next binary frame; ConnectionError on a close."""
        while True:
            opcode, payload = self.recv_frame(timeout)
            if opcode == 0x8:
                raise ConnectionError("closed by peer")
            if opcode == 0x2:
                return payload

    def send_version(self, network_magic, height=0, listen_port=0):
        """Sends our version message, announcing `listen_port` as the port we accept
        peers on."""
        import struct
        version = (bytes([1]) + network_magic + struct.pack("<IQI", 1, 1, height) +
                   b"\x00" * 32 + os.urandom(8) + struct.pack("<H", listen_port) +
                   bytes([len(b"/raw-test/")]) + b"/raw-test/" + struct.pack("<q", int(time.time())))
        self.send_frame(version)

    def handshake(self, network_magic, height=0, listen_port=0):
        """Completes the version/verack handshake of docs/PROTOCOL.md as a peer would."""
        self.send_version(network_magic, height, listen_port)
        seen = set()
        while not {1, 2} <= seen:
            seen.add(self.recv_message()[0])
        self.send_frame(bytes([2]))

    def closed_by_peer(self, timeout=5.0):
        """True when the node closes the link (close frame or EOF) within timeout; the
        messages it sends before that are skipped."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                opcode, _ = self.recv_frame(remaining)
                if opcode == 0x8:
                    return True
        except socket.timeout:
            return False
        except (ConnectionError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
