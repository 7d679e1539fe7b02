"""The REST server's limits against hostile clients: bodies are bounded however they are framed,
credentials are checked before a body is read, slow clients cost no workers, a request must
arrive whole within the deadline, and one address gets only so many connections.

Raw sockets on loopback only (127.0.0.1 as the server; 127.0.0.2-5 as further client addresses
where a test needs more than one), every socket closed at the end.
"""
import base64
import json
import selectors
import socket
import threading
import time

from conftest import HOST

MIB = 1 << 20
ADMIN = "Basic " + base64.b64encode(b"t1/admin:t1-admin-pass").decode()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def connect(port, source=None, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((HOST, port))
    return s


def parse_response(raw):
    """(status, body bytes) of a raw HTTP/1.1 answer; status None when there was none."""
    if not raw.startswith(b"HTTP/1."):
        return None, raw
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def read_response(s, timeout=10):
    """Everything the server sends until it closes (or a full Content-Length body arrived)."""
    s.settimeout(timeout)
    raw = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        except socket.timeout:
            break
        if not chunk:
            break
        raw += chunk
        head, sep, body = raw.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and len(body) >= int(value):
                    return raw
    return raw


def send_request(port, head, body_pieces=(), source=None):
    """Sends `head`, then the body pieces as long as the server reads them and has not answered.
    Returns (status, body, body bytes sent)."""
    s = connect(port, source)
    sent = 0
    try:
        s.sendall(head)
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_READ)
        for piece in body_pieces:
            if sel.select(timeout=0):  # answered (or closed) before the body was read
                break
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                break
            sent += len(piece)
        sel.close()
        status, body = parse_response(read_response(s))
        return status, body, sent
    finally:
        s.close()


def chunked(pieces):
    for p in pieces:
        yield b"%x\r\n" % len(p) + p + b"\r\n"
    yield b"0\r\n\r\n"


def post_head(path, length=None, auth=ADMIN):
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}", "Content-Type: application/json"]
    if auth:
        lines.append(f"Authorization: {auth}")
    lines.append("Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def big_event(source, size):
    """A valid event whose custom fragment makes the JSON `size` bytes or more, in 64 KiB
    pieces."""
    yield b'{"source": {"id": "%s"}, "type": "c8y_Big", "time": "2024-01-01T00:00:00.000Z", ' \
          b'"text": "big", "c8y_Blob": {"data": "' % source.encode()
    for _ in range(size // 65536 + 1):
        yield b"x" * 65536
    yield b'"}}'


def new_device(broker):
    st, mo = broker.rest("/inventory/managedObjects", method="POST", body={"name": "limits"})
    assert st == 201, mo
    return mo["id"]


def test_chunked_body_is_bounded_and_stores_nothing(broker):
    """A 10 MiB body gets 413 with Transfer-Encoding: chunked exactly as with Content-Length,
    and nothing of it is stored; a chunked body under the limit is served normally."""
    src = new_device(broker)
    st, body, _ = send_request(broker.rest_port, post_head("/event/events"),
                               chunked(big_event(src, 10 * MIB)))
    assert st == 413, body[:300]
    assert json.loads(body)["error"] == "general/413"
    pieces = list(big_event(src, 10 * MIB))
    st, body, sent = send_request(broker.rest_port,
                                  post_head("/event/events", sum(map(len, pieces))), pieces)
    assert st == 413, body[:300]
    assert sent < 10 * MIB  # answered from Content-Length alone
    st, events = broker.rest(f"/event/events?source={src}&pageSize=100")
    assert st == 200 and events["events"] == [], events
    # Chunked framing itself is fine.
    small = json.dumps({"source": {"id": src}, "type": "c8y_Small", "text": "chunked",
                        "time": "2024-01-01T00:00:00.000Z"}).encode()
    st, body, _ = send_request(broker.rest_port, post_head("/event/events"),
                               chunked([small[:20], small[20:]]))
    assert st == 201, body
    assert json.loads(body)["text"] == "chunked"


def test_body_is_not_read_without_credentials(broker):
    """A large chunked POST without (or with wrong) credentials is answered 401 from its head:
    the broker neither reads nor buffers the body."""
    pid = broker.proc.pid
    before = rss_kb(pid)
    total = 128 * MIB
    piece = b"y" * (256 * 1024)
    st, body, sent = send_request(broker.rest_port, post_head("/event/events", auth=None),
                                  chunked([piece] * (total // len(piece))))
    assert st == 401, body[:300]
    assert json.loads(body)["error"] == "security/Unauthorized"
    assert sent < total // 2, sent  # the server answered long before the body ended
    bad = "Basic " + base64.b64encode(b"t1/admin:wrong-password").decode()
    st, body, sent = send_request(broker.rest_port, post_head("/alarm/alarms", total, auth=bad),
                                  [piece] * (total // len(piece)))
    assert st == 401, body[:300]
    assert sent < total // 2, sent
    time.sleep(0.5)
    grown = rss_kb(pid) - before
    assert grown < 8 * 1024, f"broker RSS grew by {grown} kB"


class SlowClients:
    """Connections that send a request line, then one header line every `interval` seconds and
    never finish the head (slow loris). Spread over several client addresses."""

    def __init__(self, port, count, sources, interval=2.5):
        self.interval = interval
        self.opened = time.monotonic()
        self.socks = []
        self.closed_at = {}  # socket -> seconds after opening when the server closed it
        try:
            for i in range(count):
                s = connect(port, sources[i % len(sources)])
                self.socks.append(s)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: slow\r\n")
                s.setblocking(False)
        except BaseException:
            for s in self.socks:
                s.close()
            raise
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        sel = selectors.DefaultSelector()
        for s in self.socks:
            sel.register(s, selectors.EVENT_READ)
        next_send = time.monotonic() + self.interval
        n = 0
        while not self.stop.is_set() and len(self.closed_at) < len(self.socks):
            for key, _ in sel.select(timeout=0.1):
                self.mark(sel, key.fileobj)
            if time.monotonic() >= next_send:
                n += 1
                for s in self.socks:
                    if s in self.closed_at:
                        continue
                    try:
                        s.send(b"X-Slow-%d: still typing\r\n" % n)
                    except OSError:
                        self.mark(sel, s)
                next_send += self.interval
        sel.close()

    def mark(self, sel, s):
        if s in self.closed_at:
            return
        try:
            s.recv(4096)  # end of stream (or an answer, which an unfinished head must not get)
        except BlockingIOError:
            return
        except OSError:
            pass
        self.closed_at[s] = time.monotonic() - self.opened
        sel.unregister(s)

    def open_count(self):
        return len(self.socks) - len(self.closed_at)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for s in self.socks:
            s.close()


def timed_get(port, path, auth=None):
    s = connect(port, timeout=2)
    try:
        t0 = time.monotonic()
        head = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n"
        if auth:
            head += f"Authorization: {auth}\r\n"
        s.sendall((head + "\r\n").encode())
        status, body = parse_response(read_response(s, timeout=2))
        return status, body, time.monotonic() - t0
    finally:
        s.close()


def test_slow_clients_do_not_block_the_api(broker):
    """200 slow-loris connections (from four client addresses) are held while /health and an
    authenticated request are answered promptly; the request deadline (30 s by default) then
    closes every slow connection."""
    slow = SlowClients(broker.rest_port, 200, ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"])
    try:
        for _ in range(4):
            time.sleep(1.5)
            st, body, took = timed_get(broker.rest_port, "/health")
            assert st == 200 and took < 2, (st, body, took)
            st, body, took = timed_get(broker.rest_port, "/tenant/currentTenant", ADMIN)
            assert st == 200 and took < 2, (st, body, took)
            assert json.loads(body)["name"] == "t1"
        assert slow.open_count() == 200, "slow clients were dropped, not held"
        deadline = time.monotonic() + 30
        while slow.open_count() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert slow.open_count() == 0, f"{slow.open_count()} slow connections still open"
        closed = sorted(slow.closed_at.values())
        # Each was closed by the 30 s deadline of its request, not before it.
        assert closed[0] >= 25 and closed[-1] <= 36, (closed[0], closed[-1])
        st, _, took = timed_get(broker.rest_port, "/health")
        assert st == 200 and took < 2
    finally:
        slow.close()


def test_connections_per_address_are_limited(broker_factory):
    """Past plugin_opt_rest_max_connections_per_address, a client address gets its connection
    closed at once; other addresses are served, and a freed slot can be used again."""
    b = broker_factory(options={"rest_max_connections_per_address": "4"})
    b.start()
    held = [connect(b.rest_port, "127.0.0.2") for _ in range(4)]
    try:
        time.sleep(0.3)
        extra = connect(b.rest_port, "127.0.0.2")
        try:
            try:
                extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            except OSError:
                pass
            st, raw = parse_response(read_response(extra, timeout=3))
            assert st is None and raw == b"", raw  # closed without an answer
        finally:
            extra.close()
        st, _, took = timed_get(b.rest_port, "/health")  # 127.0.0.1 is another address
        assert st == 200 and took < 2
        st, body = b.rest("/tenant/currentTenant")
        assert st == 200, body
        held.pop().close()

        def freed():
            try:
                return send_request(b.rest_port, b"GET /health HTTP/1.1\r\nHost: x\r\n"
                                    b"Connection: close\r\n\r\n", source="127.0.0.2")[0] == 200
            except OSError:
                return False

        deadline = time.monotonic() + 3
        while not freed():
            assert time.monotonic() < deadline, "the freed slot was not given back"
            time.sleep(0.1)
    finally:
        for s in held:
            s.close()
