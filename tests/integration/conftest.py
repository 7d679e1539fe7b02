"""Integration harness: the real /usr/sbin/mosquitto with the built plugin, real clients.

Each test gets a broker on free loopback ports with a fresh RocksDB directory, and the broker
is always stopped (its log is printed when a test fails).
"""
import base64
import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import paho.mqtt.client as mqtt
import pytest

PLUGIN = os.environ.get("C8Y_PLUGIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "mosquitto_c8y.so")
SOURCE_DIR = os.environ.get("C8Y_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
MOSQUITTO = "/usr/sbin/mosquitto"
HOST = "127.0.0.1"

DEFAULT_TENANTS = {
    "tenants": [
        {"id": "t1", "users": [
            {"name": "admin", "password": "t1-admin-pass", "roles": ["admin"]},
            {"name": "device_a", "password": "t1-device-pass", "roles": ["device"]},
            {"name": "device_b", "password": "t1-device-pass", "roles": ["device"]},
        ]},
        {"id": "t10", "users": [
            {"name": "admin", "password": "t10-admin-pass", "roles": ["admin"]},
            {"name": "device_a", "password": "t10-device-pass", "roles": ["device"]},
        ]},
    ]
}


def _readable_by_broker(path):
    """True when the broker's user can read `path` (Mosquitto drops to user mosquitto as root)."""
    if os.geteuid() != 0:
        return os.access(path, os.R_OK)
    return subprocess.run(["runuser", "-u", "mosquitto", "--", "test", "-r", path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


_staged_plugin = None


def plugin_path():
    """The plugin as the broker loads it: the build's file when the broker's user can read it,
    otherwise a copy in a directory that user can enter (a checkout under /root, or one made by
    mktemp -d, is mode 0700)."""
    global _staged_plugin
    built = os.path.abspath(PLUGIN)
    if _readable_by_broker(built):
        return built
    if _staged_plugin is None:
        stage = tempfile.mkdtemp(prefix="c8y-plugin-")
        os.chmod(stage, 0o755)
        _staged_plugin = os.path.join(stage, "mosquitto_c8y.so")
        shutil.copy2(built, _staged_plugin)
        os.chmod(_staged_plugin, 0o644)
    return _staged_plugin


_handed_out = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A free port below the kernel's ephemeral range, never the same twice in one run. Below
    that range no outgoing connection (a node's etcd client, say) can take the port between now
    and the moment a listener binds it, which a port the kernel picked (bind to 0) could not
    promise: a cluster's later node then failed with "Address already in use"."""
    high = min(32767, _ephemeral_low() - 1)
    for _ in range(2000):
        port = random.randint(20000, high)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as s:  # the range is crowded: let the kernel pick
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Broker:
    """One mosquitto process with the plugin; restartable on the same data directory."""

    def __init__(self, tmp, provisioning=None, options=None, extra_conf=""):
        self.tmp = tmp
        self.data_dir = os.path.join(tmp, "db")
        self.port = free_port()
        self.rest_port = free_port()
        self.options = dict(options or {})
        self.extra_conf = extra_conf
        self.proc = None
        self.log_path = os.path.join(tmp, "broker.log")
        self.prov_path = os.path.join(tmp, "provisioning.json")
        with open(self.prov_path, "w") as f:
            json.dump(provisioning or DEFAULT_TENANTS, f)
        os.makedirs(self.data_dir, exist_ok=True)
        if os.geteuid() == 0:  # mosquitto drops to user mosquitto before loading plugins
            shutil.chown(tmp, "mosquitto")
            shutil.chown(self.data_dir, "mosquitto")
            os.chmod(tmp, 0o755)

    def conf(self):
        opts = {
            "data_dir": self.data_dir,
            "provisioning_file": self.prov_path,
            "rest_port": str(self.rest_port),
            "rest_bind": HOST,
        }
        opts.update(self.options)
        lines = [
            f"listener {self.port} {HOST}",
            "allow_zero_length_clientid false",
            "per_listener_settings false",
            "persistence false",
            "max_packet_size 262144",
            "log_dest stderr",
            "log_type all",
            f"plugin {plugin_path()}",
        ] + [f"plugin_opt_{k} {v}" for k, v in opts.items()]
        return "\n".join(lines) + "\n" + self.extra_conf + "\n"

    def start(self, expect_ok=True):
        path = os.path.join(self.tmp, "mosquitto.conf")
        with open(path, "w") as f:
            f.write(self.conf())
        self.log = open(self.log_path, "ab")
        env = dict(os.environ)
        if os.environ.get("C8Y_BROKER_PRELOAD"):  # sanitized plugin: preload the runtimes
            env["LD_PRELOAD"] = os.environ["C8Y_BROKER_PRELOAD"]
            env["ASAN_OPTIONS"] = os.environ.get("C8Y_BROKER_ASAN_OPTIONS", "detect_leaks=0")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", path], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        ok = wait_port(self.port, proc=self.proc)
        if expect_ok and not ok:
            self.stop()
            raise RuntimeError("broker did not start:\n" + self.read_log())
        return ok

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self):
        self.stop(signal.SIGKILL)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    # -- REST -----------------------------------------------------------------------------
    def rest(self, path, user="t1/admin", password="t1-admin-pass", method="GET", body=None,
             token=None):
        req = urllib.request.Request(f"http://{HOST}:{self.rest_port}{path}", method=method)
        if token is not None:
            req.add_header("Authorization", "Bearer " + token)
        elif user is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            req.add_header("Authorization", "Basic " + token)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, data=data, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def measurements(self, **params):
        q = "&".join(f"{k}={v}" for k, v in params.items())
        return self.rest("/measurement/measurements?" + q)

    def all_measurements(self, user="t1/admin", password="t1-admin-pass"):
        out, page = [], 1
        while True:
            st, body = self.rest(f"/measurement/measurements?pageSize=2000&currentPage={page}",
                                 user=user, password=password)
            assert st == 200, body
            out += body["measurements"]
            if "next" not in body:
                return out
            page += 1


class Client:
    """A paho client with a synchronous connect and a queue of received messages."""

    def __init__(self, broker_port, client_id, username=None, password=None, v5=False,
                 transport="tcp", clean=True, mqtt31=False):
        self.v5 = v5
        self.clean = clean
        proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv31 if mqtt31 else mqtt.MQTTv311
        kwargs = {"client_id": client_id, "protocol": proto, "transport": transport}
        if not v5:
            kwargs["clean_session"] = clean
        self.c = mqtt.Client(**kwargs)
        if username is not None:
            self.c.username_pw_set(username, password)
        self.port = broker_port
        self.messages = queue.Queue()
        self.connack = queue.Queue()
        self.subacks = queue.Queue()
        self.disconnected = queue.Queue()
        self.c.on_connect = lambda c, u, f, rc, *a: self.connack.put(
            rc.value if hasattr(rc, "value") else rc)
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        self.c.on_subscribe = lambda c, u, mid, granted, *a: self.subacks.put(
            [g.value if hasattr(g, "value") else g for g in granted])
        self.c.on_disconnect = self._on_disconnect

    def _on_disconnect(self, client, userdata, rc, *args):
        # paho's background loop reconnects by itself; tests want to see a kick as final.
        client._thread_terminate = True
        self.disconnected.put(rc)

    def connect(self, timeout=5):
        try:
            if self.v5:
                self.c.connect(HOST, self.port, keepalive=30, clean_start=self.clean,
                               properties=None if self.clean else self._session_expiry())
            else:
                self.c.connect(HOST, self.port, keepalive=30)
        except OSError:
            return -1
        self.c.loop_start()
        try:
            rc = self.connack.get(timeout=timeout)
        except queue.Empty:
            rc = -1
        if rc != 0:
            self.c.loop_stop()
        return rc

    @staticmethod
    def _session_expiry():
        # v5: a session outlives the connection only with a Session Expiry Interval.
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        p = Properties(PacketTypes.CONNECT)
        p.SessionExpiryInterval = 3600
        return p

    def subscribe(self, topic, qos=0, timeout=5):
        self.c.subscribe(topic, qos)
        return self.subacks.get(timeout=timeout)

    def publish(self, topic, payload, qos=0, retain=False, timeout=10):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        if qos > 0:
            info.wait_for_publish(timeout)
        return info

    def expect(self, timeout=3):
        return self.messages.get(timeout=timeout)

    def nothing(self, wait=0.5):
        try:
            m = self.messages.get(timeout=wait)
            return m
        except queue.Empty:
            return None

    def drain(self, wait=0.5):
        out = []
        while True:
            try:
                out.append(self.messages.get(timeout=wait))
            except queue.Empty:
                return out

    def is_connected(self):
        return self.c.is_connected()

    def close(self):
        try:
            self.c.disconnect()
        finally:
            self.c.loop_stop()


@pytest.fixture(scope="session", autouse=True)
def broker_preflight():
    """Starts the broker with the plugin once before any test: when that fails (no plugin built,
    a file the broker's user cannot read, a missing library), the run stops here with the
    broker's own words instead of failing every test with the same log."""
    if not os.path.exists(PLUGIN):
        pytest.exit(f"no plugin at {os.path.abspath(PLUGIN)}: build it first (scripts/test.sh)",
                    returncode=1)
    tmp = tempfile.mkdtemp(prefix="c8y-it-preflight-")
    b = Broker(tmp)
    try:
        if not b.start(expect_ok=False):
            pytest.exit("the broker does not start with the plugin; its log:\n" +
                        b.read_log()[-4000:], returncode=1)
    finally:
        b.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def broker_factory(request):
    made = []

    def make(**kwargs):
        tmp = tempfile.mkdtemp(prefix="c8y-it-")
        b = Broker(tmp, **kwargs)
        made.append(b)
        return b

    yield make
    failed = getattr(request.node, "rep_call", None)
    for b in made:
        b.stop()
        log = b.read_log()
        # A sanitizer report in the broker log fails the test even if the clients saw nothing.
        assert "ERROR: AddressSanitizer" not in log and "runtime error:" not in log, log[-20000:]
        if failed is not None and failed.failed:
            print("---- broker log ----\n" + b.read_log()[-20000:])
        shutil.rmtree(b.tmp, ignore_errors=True)


@pytest.fixture
def broker(broker_factory):
    b = broker_factory()
    b.start()
    return b


@pytest.fixture
def clients():
    made = []

    def make(broker, client_id, username=None, password=None, **kw):
        c = Client(broker.port, client_id, username, password, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.close()
        except Exception:
            pass


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def device(clients, broker, serial, tenant="t1", user="device_a", password=None, **kw):
    """A connected device client subscribed to s/e (for errors)."""
    password = password or f"{tenant}-device-pass"
    c = clients(broker, serial, f"{tenant}/{user}", password, **kw)
    assert c.connect() == 0, broker.read_log()[-3000:]
    assert c.subscribe("s/e", 0) == [0]
    return c


def device_id(broker, serial):
    """The managed-object id of the device with c8y_Serial `serial` (asserts it exists)."""
    st, body = broker.rest(f"/identity/externalIds/c8y_Serial/{serial}")
    assert st == 200, body
    return body["managedObject"]["id"]


def poll(fn, timeout=8):
    """fn() until it returns something truthy or `timeout` seconds pass; its last value."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.05)


def events(broker, **params):
    """The events the REST API lists for these filters (first page of 100)."""
    q = "&".join(f"{k}={v}" for k, v in params.items())
    st, body = broker.rest(f"/event/events?pageSize=100&{q}")
    assert st == 200, body
    return body["events"]


def alarms(broker, **params):
    """The alarms the REST API lists for these filters (first page of 100)."""
    q = "&".join(f"{k}={v}" for k, v in params.items())
    st, body = broker.rest(f"/alarm/alarms?pageSize=100&{q}")
    assert st == 200, body
    return body["alarms"]
