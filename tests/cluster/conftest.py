"""Cluster harness: real etcd members, real nodes (mosquitto + the plugin), a real HAProxy and
the project's c8y-router, all on 127.0.0.1 with their own ports and directories, always stopped.

The node harness is the integration suite's (tests/integration/conftest.py), loaded as a module.
"""
import base64
import importlib.util
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

_spec = importlib.util.spec_from_file_location(
    "c8y_node_harness", os.path.join(os.path.dirname(__file__), "..", "integration", "conftest.py"))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

HOST = harness.HOST
free_port = harness.free_port
wait_port = harness.wait_port
poll = harness.poll
SOURCE_DIR = harness.SOURCE_DIR
BUILD_DIR = os.environ.get("C8Y_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
ROUTER = os.path.join(BUILD_DIR, "c8y-router")
DOMAIN = "c8y.test"
BOOTSTRAP_SECRET = "cluster-bootstrap-secret-0123456789"


def _stop(proc, sig=signal.SIGTERM, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class EtcdCluster:
    """n etcd members (Debian's etcd-server), each stoppable and restartable on its data."""

    def __init__(self, tmp, n=3):
        self.tmp = tmp
        self.names = [f"e{i}" for i in range(n)]
        self.client = {m: free_port() for m in self.names}
        self.peer = {m: free_port() for m in self.names}
        self.procs = {}
        self.token = f"c8y-test-{os.getpid()}-{time.time_ns()}"

    @property
    def urls(self):
        return [f"http://{HOST}:{self.client[m]}" for m in self.names]

    def start_member(self, m, state="new"):
        initial = ",".join(f"{x}=http://{HOST}:{self.peer[x]}" for x in self.names)
        log = open(os.path.join(self.tmp, f"{m}.log"), "ab")
        self.procs[m] = subprocess.Popen([
            "/usr/bin/etcd", "--name", m, "--data-dir", os.path.join(self.tmp, m),
            "--listen-client-urls", f"http://{HOST}:{self.client[m]}",
            "--advertise-client-urls", f"http://{HOST}:{self.client[m]}",
            "--listen-peer-urls", f"http://{HOST}:{self.peer[m]}",
            "--initial-advertise-peer-urls", f"http://{HOST}:{self.peer[m]}",
            "--initial-cluster", initial, "--initial-cluster-state", state,
            "--initial-cluster-token", self.token,
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--logger", "zap", "--log-level", "warn"],
            stdout=log, stderr=subprocess.STDOUT)

    def start(self):
        for m in self.names:
            self.start_member(m)
        assert poll(self.healthy, timeout=20), self.logs()

    def healthy(self, members=None):
        for m in members or self.names:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.client[m]}/health",
                                            timeout=1) as r:
                    if json.loads(r.read()).get("health") != "true":
                        return False
            except (OSError, ValueError):
                return False
        return True

    def stop_member(self, m):
        _stop(self.procs.pop(m, None))

    def restart_member(self, m):
        self.start_member(m, state="existing")

    def stop(self):
        for m in list(self.procs):
            self.stop_member(m)

    def logs(self):
        out = ""
        for m in self.names:
            try:
                with open(os.path.join(self.tmp, f"{m}.log"), "rb") as f:
                    out += f"-- {m}\n" + f.read().decode(errors="replace")[-3000:]
            except OSError:
                pass
        return out

    def get(self, key):
        """The value (decoded JSON) of one key, or None."""
        raw = self.get_raw(key)
        return None if raw is None else json.loads(raw)

    def get_raw(self, key):
        """The value (bytes) of one key, or None."""
        body = json.dumps({"key": base64.b64encode(key.encode()).decode()}).encode()
        for url in self.urls:
            try:
                req = urllib.request.Request(url + "/v3/kv/range", data=body, method="POST")
                with urllib.request.urlopen(req, timeout=2) as r:
                    kvs = json.loads(r.read()).get("kvs", [])
                    return base64.b64decode(kvs[0]["value"]) if kvs else None
            except OSError:
                continue
        raise RuntimeError("no etcd member answers")

    def put(self, key, value):
        body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                           "value": base64.b64encode(json.dumps(value).encode()).decode()})
        for url in self.urls:
            try:
                req = urllib.request.Request(url + "/v3/kv/put", data=body.encode(), method="POST")
                with urllib.request.urlopen(req, timeout=2):
                    return
            except OSError:
                continue
        raise RuntimeError("no etcd member answers")


def tenants_of(ids):
    return {"tenants": [
        {"id": t, "users": [
            {"name": "admin", "password": f"{t}-admin-pass", "roles": ["admin"]},
            {"name": "device_a", "password": f"{t}-device-pass", "roles": ["device"]},
        ]} for t in ids]}


class Node(harness.Broker):
    """A cluster node: the plugin in cluster mode, with TCP, TLS and WebSockets listeners."""

    def __init__(self, tmp, name, etcd, tenants, certs, node_id):
        self.name = name
        self.tls_port = free_port()
        self.ws_port = free_port()
        super().__init__(tmp, provisioning=tenants_of(tenants), options={
            "node_id": str(node_id),
            "cluster_etcd": ",".join(etcd.urls),
            "cluster_node": name,
            "cluster_lease_ttl": "2",
            "bootstrap_poll_interval": "100",
        })
        # Every node has the bootstrap user (one mosquitto.conf for all); HAProxy sends it to
        # the node that holds the management tenant.
        secret = os.path.join(tmp, "bootstrap.secret")
        with open(secret, "w") as f:
            f.write(BOOTSTRAP_SECRET + "\n")
        os.chmod(secret, 0o600)
        if os.geteuid() == 0:
            shutil.chown(secret, "mosquitto")
        self.options["bootstrap_secret_file"] = secret
        self.extra_conf = (f"listener {self.tls_port} {HOST}\ncertfile {certs}/server.crt\n"
                           f"keyfile {certs}/server.key\ncafile {certs}/ca.crt\n"
                           f"listener {self.ws_port} {HOST}\nprotocol websockets\n")

    def description(self):
        return {"name": self.name, "mqtt": f"{HOST}:{self.port}",
                "mqtts": f"{HOST}:{self.tls_port}", "ws": f"{HOST}:{self.ws_port}",
                "rest": f"{HOST}:{self.rest_port}"}


class HAProxy:
    def __init__(self, tmp, nodes):
        self.tmp = tmp
        self.mqtt = free_port()
        self.mqtts = free_port()
        self.http = free_port()
        self.map = os.path.join(tmp, "tenants.map")
        self.socket = os.path.join(tmp, "admin.sock")
        self.cfg = os.path.join(tmp, "haproxy.cfg")
        self.proc = None
        desc = {"domain": DOMAIN, "map": self.map, "socket": self.socket,
                "bind": {"mqtt": f"{HOST}:{self.mqtt}", "mqtts": f"{HOST}:{self.mqtts}",
                         "http": f"{HOST}:{self.http}"},
                "idle_timeout": "1m", "maxconn": 2000, "log": "stdout",
                "nodes": [n.description() for n in nodes]}
        with open(os.path.join(tmp, "cluster.json"), "w") as f:
            json.dump(desc, f)
        with open(self.cfg, "w") as f:
            subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "scripts", "cluster",
                                                         "haproxy-cfg.py"),
                            os.path.join(tmp, "cluster.json")], stdout=f, check=True)
        if not os.path.exists(self.map):
            open(self.map, "w").close()

    def start(self):
        self.log = open(os.path.join(self.tmp, "haproxy.log"), "ab")
        self.proc = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", self.cfg],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        assert wait_port(self.mqtt, proc=self.proc) and poll(
            lambda: os.path.exists(self.socket)), self.read_log()

    def stop(self):
        _stop(self.proc)
        self.proc = None

    def command(self, cmd):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(self.socket)
        s.sendall((cmd + "\n").encode())
        out = b""
        while True:
            d = s.recv(4096)
            if not d:
                return out.decode()
            out += d

    def runtime_map(self):
        out = {}
        for line in self.command(f"show map {self.map}").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0].startswith("0x"):
                out[parts[1]] = parts[2]
        return out

    def read_log(self, tail=5000):
        try:
            with open(os.path.join(self.tmp, "haproxy.log"), "rb") as f:
                return f.read().decode(errors="replace")[-tail:]
        except OSError:
            return ""


class Router:
    def __init__(self, tmp, etcd, haproxy):
        self.tmp = tmp
        self.args = [ROUTER, "--etcd", ",".join(etcd.urls), "--map", haproxy.map,
                     "--haproxy-socket", haproxy.socket]
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.tmp, "router.log"), "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self, sig=signal.SIGTERM):
        _stop(self.proc, sig)
        self.proc = None

    def read_log(self, tail=5000):
        try:
            with open(os.path.join(self.tmp, "router.log"), "rb") as f:
                return f.read().decode(errors="replace")[-tail:]
        except OSError:
            return ""


class Cluster:
    """3 etcd members, nodes n1..n3 with two tenants each, HAProxy and the router."""

    PLACEMENT = {"n1": ["management", "t1", "t2"], "n2": ["t3", "t4"], "n3": ["t5", "t6"]}

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="c8y-cluster-")
        os.chmod(self.tmp, 0o755)
        self.certs = os.path.join(self.tmp, "certs")
        subprocess.run([os.path.join(SOURCE_DIR, "scripts", "gen-dev-certs.sh"), self.certs],
                       check=True, stdout=subprocess.DEVNULL)
        self.etcd = EtcdCluster(self._dir("etcd"))
        self.nodes = {}
        for i, (name, tenants) in enumerate(self.PLACEMENT.items()):
            self.nodes[name] = Node(self._dir(name), name, self.etcd, tenants, self.certs, i + 1)
        self.haproxy = HAProxy(self._dir("haproxy"), list(self.nodes.values()))
        self.router = Router(self._dir("router"), self.etcd, self.haproxy)

    def _dir(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        return d

    def tenants(self):
        return {t: n for n, ts in self.PLACEMENT.items() for t in ts}

    def start(self):
        self.etcd.start()
        for name, n in self.nodes.items():
            n.start()
            # One node at a time: a node with the bootstrap user has a "management" tenant of its
            # own, and the first to place it would own it.
            assert poll(lambda: all((self.etcd.get(f"/c8y/tenants/{t}") or {}).get("node") == name
                                    for t in self.PLACEMENT[name]), timeout=20), self.logs()
        self.haproxy.start()
        self.router.start()
        want = self.tenants()
        assert poll(lambda: self.haproxy.runtime_map() == want, timeout=20), (
            self.haproxy.runtime_map(), self.router.read_log(), self.logs())

    def stop(self):
        self.router.stop()
        self.haproxy.stop()
        for n in self.nodes.values():
            n.stop()
        self.etcd.stop()

    def logs(self):
        out = self.etcd.logs() + "\n-- haproxy\n" + self.haproxy.read_log()
        out += "\n-- router\n" + self.router.read_log()
        for name, n in self.nodes.items():
            out += f"\n-- {name}\n" + n.read_log()[-4000:]
        return out

    # -- clients through HAProxy ------------------------------------------------------------
    def rest(self, path, user, password, method="GET", body=None, host=None, token=None,
             timeout=10):
        req = urllib.request.Request(f"http://{HOST}:{self.haproxy.http}{path}", method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        elif user:
            req.add_header("Authorization", "Basic " + base64.b64encode(
                f"{user}:{password}".encode()).decode())
        if host:
            req.add_header("Host", host)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, data=data, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")


class SniClient(harness.Client):
    """A paho client that connects to 127.0.0.1 but names `server_name` in the TLS SNI (paho
    uses the host it connects to as the SNI, so the socket is opened to the address instead)."""

    def __init__(self, port, server_name, client_id, username, password, ca):
        super().__init__(port, client_id, username, password)
        self.server_name = server_name
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False  # the dev server certificate names localhost
        self.c.tls_set_context(ctx)
        self.c.tls_insecure_set(True)
        self.c._create_socket_connection = lambda: socket.create_connection(
            (HOST, port), timeout=5)

    def connect(self, timeout=5):
        try:
            self.c.connect(self.server_name, self.port, keepalive=30)
        except OSError:
            return -1
        self.c.loop_start()
        try:
            return self.connack.get(timeout=timeout)
        except Exception:
            return -1


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def direct_rest(node, path, user, password):
    """A REST request straight to a node (not through HAProxy), redirects not followed:
    (status, headers, body)."""
    req = urllib.request.Request(f"http://{HOST}:{node.rest_port}{path}")
    req.add_header("Authorization", "Basic " + base64.b64encode(
        f"{user}:{password}".encode()).decode())
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, dict(e.headers), json.loads(raw or b"null")
        except ValueError:
            return e.code, dict(e.headers), raw.decode(errors="replace")


@pytest.fixture(scope="module")
def cluster():
    if not os.path.exists(ROUTER):
        pytest.exit(f"no router at {ROUTER}: build it first", returncode=1)
    c = Cluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()
        logs = {name: n.read_log() for name, n in c.nodes.items()}
        logs["router"] = c.router.read_log(10**7)
        if os.environ.get("C8Y_KEEP_CLUSTER"):  # for a post-mortem: logs and data stay
            print(f"cluster kept in {c.tmp}")
        else:
            shutil.rmtree(c.tmp, ignore_errors=True)
    # A sanitizer report in a node's or the router's log fails the suite (stage 2 of
    # scripts/test.sh runs it with the sanitized plugin and router).
    for name, log in logs.items():
        assert "ERROR: AddressSanitizer" not in log and "runtime error:" not in log, (
            name, log[-20000:])


@pytest.fixture
def clients():
    made = []

    def make(port, client_id, username=None, password=None, **kw):
        c = harness.Client(port, client_id, username, password, **kw)
        made.append(c)
        return c

    yield made, make
    for c in made:
        try:
            c.close()
        except Exception:
            pass
