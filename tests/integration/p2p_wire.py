"""The P2P protocol of docs/PROTOCOL.md as the integration tests speak it: encoders and
decoders of its messages, a generator of regtest header chains, and raw peers over
WebSocket (RawWebSocket) or TCP (RawTcp) for sending what an honest node never would.
Python's standard library only.
"""

import hashlib
import os
import socket
import struct
import time


# --- P2P messages (docs/PROTOCOL.md, section 3) ------------------------------------------

REGTEST_MAGIC = b"pcrt"

MSG_VERSION = 1
MSG_VERACK = 2
MSG_PING = 3
MSG_PONG = 4
MSG_GETADDR = 5
MSG_ADDR = 6
MSG_INV = 7
MSG_GETDATA = 8
MSG_NOTFOUND = 9
MSG_GETHEADERS = 10
MSG_HEADERS = 11
MSG_BLOCK = 12
MSG_TX = 13
MSG_MEMPOOL = 14
MSG_SENDADDRV2 = 15
MSG_ADDRV2 = 16
MSG_REJECT = 17

# The transports bit field of an addrv2 entry.
TRANSPORT_WS = 1
TRANSPORT_TCP = 2

MAX_ADDRESSES = 1000  # per addr/addrv2 message
MAX_HEADERS = 2000    # per headers message


def compact_size(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def read_compact_size(data, pos):
    """(value, position after it)."""
    first = data[pos]
    if first < 0xFD:
        return first, pos + 1
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    return int.from_bytes(data[pos + 1:pos + 1 + size], "little"), pos + 1 + size


def host_string(host):
    raw = host.encode("ascii")
    if not 1 <= len(raw) <= 255:
        raise ValueError(f"host {host!r}: 1 to 255 characters")
    return compact_size(len(raw)) + raw


def msg_version(network_magic=REGTEST_MAGIC, height=0, listen_port=0, nonce=None,
                best_work=b"\x00" * 32, user_agent=b"/raw-test/", services=1, when=None):
    nonce = nonce if nonce is not None else int.from_bytes(os.urandom(8), "little") | 1
    return (bytes([MSG_VERSION]) + network_magic + struct.pack("<IQI", 1, services, height) +
            best_work + struct.pack("<QH", nonce, listen_port) +
            compact_size(len(user_agent)) + user_agent +
            struct.pack("<q", int(time.time()) if when is None else when))


def msg_verack():
    return bytes([MSG_VERACK])


def msg_sendaddrv2():
    return bytes([MSG_SENDADDRV2])


def msg_getaddr():
    return bytes([MSG_GETADDR])


def msg_ping(nonce):
    return bytes([MSG_PING]) + struct.pack("<Q", nonce)


def msg_pong(nonce):
    return bytes([MSG_PONG]) + struct.pack("<Q", nonce)


def msg_addr(entries):
    """entries: (host, port, last_seen)."""
    out = bytearray([MSG_ADDR]) + compact_size(len(entries))
    for host, port, last_seen in entries:
        out += host_string(host) + struct.pack("<Hq", port, last_seen)
    return bytes(out)


def msg_addrv2(entries):
    """entries: (host, port, last_seen, transports), transports a TRANSPORT_* bit field."""
    out = bytearray([MSG_ADDRV2]) + compact_size(len(entries))
    for host, port, last_seen, transports in entries:
        out += host_string(host) + struct.pack("<HqB", port, last_seen, transports)
    return bytes(out)


def msg_headers(headers):
    return bytes([MSG_HEADERS]) + compact_size(len(headers)) + b"".join(headers)


def msg_getheaders(locator, stop=b"\x00" * 32):
    return bytes([MSG_GETHEADERS]) + compact_size(len(locator)) + b"".join(locator) + stop


def decode_addr(message):
    """The entries of an addr (host, port, last_seen) or addrv2 (host, port, last_seen,
    transports) message, type byte included."""
    v2 = message[0] == MSG_ADDRV2
    count, pos = read_compact_size(message, 1)
    out = []
    for _ in range(count):
        length, pos = read_compact_size(message, pos)
        host = message[pos:pos + length].decode("ascii")
        pos += length
        port, last_seen = struct.unpack_from("<Hq", message, pos)
        pos += 10
        if v2:
            out.append((host, port, last_seen, message[pos]))
            pos += 1
        else:
            out.append((host, port, last_seen))
    return out


def msg_reject(inv_type, item_hash, reason, detail):
    """A reject message: inv_type (1 transaction, 2 block), the item's 32-byte hash, and
    the reason and detail as ASCII text."""
    reason, detail = reason.encode("ascii"), detail.encode("ascii")
    return (bytes([MSG_REJECT, inv_type]) + item_hash + compact_size(len(reason)) + reason +
            compact_size(len(detail)) + detail)


def decode_reject(message):
    """(inv_type, hash, reason, detail) of a reject message, type byte included."""
    inv_type, item_hash = message[1], message[2:34]
    length, pos = read_compact_size(message, 34)
    reason = message[pos:pos + length].decode("ascii")
    pos += length
    length, pos = read_compact_size(message, pos)
    return inv_type, item_hash, reason, message[pos:pos + length].decode("ascii")


def decode_headers(message):
    count, pos = read_compact_size(message, 1)
    return [message[pos + 80 * i:pos + 80 * (i + 1)] for i in range(count)]


def decode_getheaders(message):
    """(locator hashes, stop hash) of a getheaders message."""
    count, pos = read_compact_size(message, 1)
    locator = [message[pos + 32 * i:pos + 32 * (i + 1)] for i in range(count)]
    pos += 32 * count
    return locator, message[pos:pos + 32]


# --- regtest headers (docs/PROTOCOL.md, section 1) ---------------------------------------

GENESIS_TIME = 1735689600
REGTEST_BITS = 0x207FFFFF
REGTEST_TARGET = 0x7FFFFF << (8 * (0x20 - 3))
REGTEST_GENESIS_HEADER = bytes.fromhex(
    "01000000" + "00" * 32 +
    "bc9baa428efd9d1840fc9f2340c25e06ed440b207ad3432b4ce355f89a57c6d6" +
    "80857467" + "ffff7f20" + "02000000")


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def block_id(header):
    """The id of an 80-byte header in wire order; .hex() of it reversed is the API's."""
    return sha256d(header)


REGTEST_GENESIS_ID = block_id(REGTEST_GENESIS_HEADER)


def regtest_headers(count, prev=REGTEST_GENESIS_ID, first_time=GENESIS_TIME + 1, tag=b"junk"):
    """`count` regtest headers in a chain on `prev` (genesis by default), each with valid
    proof of work for the regtest bits (about two tries each) and a merkle root made from
    `tag` and its position, so different tags give different chains. Times go up by one
    second from first_time, which keeps every header above the median time past of the
    ones before it; from genesis they stay in early 2025, never in the future. The blocks
    behind them do not exist: these are headers only."""
    headers = []
    for i in range(count):
        merkle = hashlib.sha256(tag + i.to_bytes(8, "little")).digest()
        base = struct.pack("<I", 1) + prev + merkle + struct.pack("<II", first_time + i,
                                                                   REGTEST_BITS)
        nonce = 0
        while True:
            header = base + struct.pack("<I", nonce)
            digest = sha256d(header)
            if int.from_bytes(digest, "little") <= REGTEST_TARGET:
                break
            nonce += 1
        headers.append(header)
        prev = digest
    return headers


# --- raw peers ---------------------------------------------------------------------------

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


class RawPeer:
    """A scripted peer: the protocol of docs/PROTOCOL.md sections 3-4 on top of a framing
    that a subclass provides (send_message, recv_message)."""

    sock = None

    def send_message(self, message):
        raise NotImplementedError

    def recv_message(self, timeout=5.0):
        """The next message (type byte first). ConnectionError when the node closed the
        link, socket.timeout when nothing came within timeout."""
        raise NotImplementedError

    def local_address(self):
        """host:port of our end, as the node sees it for this connection."""
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    def send_version(self, network_magic=REGTEST_MAGIC, height=0, listen_port=0):
        """Sends our version message, announcing `listen_port` as the port we accept
        peers on."""
        self.send_message(msg_version(network_magic, height, listen_port))

    def handshake(self, network_magic=REGTEST_MAGIC, height=0, listen_port=0, addrv2=False,
                  timeout=10.0):
        """Completes the version/verack handshake of docs/PROTOCOL.md as a peer would,
        announcing addrv2 (sendaddrv2 between version and verack) when asked. Returns the
        messages the node sent before its verack; `peer_addrv2` says whether it sent
        sendaddrv2."""
        self.send_version(network_magic, height, listen_port)
        if addrv2:
            self.send_message(msg_sendaddrv2())
        self.peer_addrv2 = False
        received = []
        seen = set()
        deadline = time.monotonic() + timeout
        while not {MSG_VERSION, MSG_VERACK} <= seen:
            message = self.recv_message(max(0.01, deadline - time.monotonic()))
            seen.add(message[0])
            self.peer_addrv2 = self.peer_addrv2 or message[0] == MSG_SENDADDRV2
            received.append(message)
        self.send_message(msg_verack())
        return received

    def pump(self, timeout, until=None, on_message=None):
        """Reads messages for up to `timeout` seconds, answering pings, and returns them.
        Stops early once until(message) is true (that message is included). on_message
        sees each message first."""
        received = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return received
            try:
                message = self.recv_message(remaining)
            except socket.timeout:
                return received
            if message[:1] == bytes([MSG_PING]) and len(message) == 9:
                self.send_message(msg_pong(struct.unpack_from("<Q", message, 1)[0]))
            if on_message is not None:
                on_message(message)
            received.append(message)
            if until is not None and until(message):
                return received

    def sync_with_ping(self, timeout=60.0, on_message=None):
        """Sends a ping and waits for its pong: the node handles a peer's messages in
        order, so everything sent before has been handled. Returns what came meanwhile;
        AssertionError when no pong came in time."""
        nonce = int.from_bytes(os.urandom(8), "little")
        pong = msg_pong(nonce)
        self.send_message(msg_ping(nonce))
        received = self.pump(timeout, until=lambda m: m == pong, on_message=on_message)
        if not received or received[-1] != pong:
            raise AssertionError(f"no pong within {timeout}s")
        return received

    def closed_by_peer(self, timeout=5.0):
        """True when the node closes the link within timeout (EOF, a reset, or on
        WebSocket a close frame: recv_message raises ConnectionError for each); the
        messages it sends before that are skipped."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.recv_message(remaining)
        except socket.timeout:
            return False
        except (ConnectionError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class RawTcp(RawPeer):
    """A peer over TCP framing (docs/PROTOCOL.md section 2): length:u32 then the message."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = bytearray()

    def send_message(self, message):
        self.sock.sendall(struct.pack("<I", len(message)) + message)

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self, need, deadline):
        # Keeps what arrived when it times out, so a later call resumes in step.
        while len(self.buffer) < need:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("timed out")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed by peer")
            self.buffer += chunk

    def recv_message(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        self._fill(4, deadline)
        length = struct.unpack_from("<I", self.buffer)[0]
        self._fill(4 + length, deadline)
        message = bytes(self.buffer[4:4 + length])
        del self.buffer[:4 + length]
        return message

    def read_until_closed(self, timeout=5.0):
        """Every byte the node sends until it closes (returned) or timeout (None)."""
        deadline = time.monotonic() + timeout
        data = bytes(self.buffer)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.sock.settimeout(remaining)
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return data
                data += chunk
        except socket.timeout:
            return None
        except (ConnectionError, OSError):
            return data


class RawWebSocket(RawPeer):
    """A bare WebSocket client for sending hostile frames to a node's P2P port."""

    def __init__(self, port, timeout=5.0, host="127.0.0.1"):
        import base64
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n"
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
        if payload:
            # XOR with the repeated mask as one big integer: fast for large frames.
            stream = (mask * (len(payload) // 4 + 1))[:len(payload)]
            masked = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(
                len(payload), "big")
        else:
            masked = b""
        self.sock.sendall(header + mask + masked)

    def send_message(self, message):
        self.send_frame(message)

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
            if opcode == 0x9:  # a WebSocket ping: a live client answers it
                self.send_frame(payload, opcode=0xA)
            if opcode == 0x2:
                return payload
