"""GET /metrics scraped by the real Prometheus (/usr/bin/prometheus, Debian's `prometheus`).

Devices of two tenants send known traffic over MQTT, then a Prometheus started here scrapes the
plugin's REST port every second, and what its query API answers is compared with that traffic.
Prometheus runs on a free loopback port with its own config and TSDB in a temporary directory
and is always stopped; its log is printed when the test fails. Skipped only when Prometheus is
not installed (`scripts/install-deps.sh build` installs it).
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import HOST, device, free_port, wait_port

PROMETHEUS = "/usr/bin/prometheus"
JOB = "mosquitto-c8y"
WAIT = 30.0  # bound of every wait for Prometheus


class Prometheus:
    """One Prometheus process scraping `target` (host:port) at /metrics every second."""

    def __init__(self, tmp, target):
        self.tmp = tmp
        self.port = free_port()
        self.log_path = os.path.join(tmp, "prometheus.log")
        self.config_path = os.path.join(tmp, "prometheus.yml")
        with open(self.config_path, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: {JOB}
    metrics_path: /metrics
    scheme: http
    static_configs:
      - targets: ["{target}"]
""")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.config_path}",
             f"--storage.tsdb.path={os.path.join(self.tmp, 'tsdb')}",
             f"--web.listen-address={HOST}:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.tmp)
        if not wait_port(self.port, timeout=WAIT, proc=self.proc):
            raise AssertionError("prometheus did not start:\n" + self.read_log())
        deadline = time.time() + WAIT
        while self._get("/-/ready")[0] != 200:
            assert self.proc.poll() is None, "prometheus exited:\n" + self.read_log()
            assert time.time() < deadline, "prometheus not ready:\n" + self.read_log()
            time.sleep(0.1)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def _get(self, path):
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.port}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError:
            return None, b""

    def query(self, promql):
        """The instant vector of `promql` as {frozenset(labels): value}."""
        st, raw = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        assert st == 200, (promql, st, raw[:2000])
        body = json.loads(raw)
        assert body["status"] == "success", body
        return {frozenset(r["metric"].items()): float(r["value"][1])
                for r in body["data"]["result"]}

    def value(self, promql):
        """The single value of `promql`; None when the result is empty."""
        result = self.query(promql)
        assert len(result) <= 1, (promql, result)
        return next(iter(result.values()), None)

    def eventually(self, promql, ok, timeout=5.0):
        """value(promql) once ok(value) holds or `timeout` seconds passed: its last value."""
        deadline = time.time() + timeout
        while True:
            v = self.value(promql)
            if ok(v) or time.time() > deadline:
                return v
            time.sleep(0.2)

    def target_health(self):
        """(health, lastError) of the target as Prometheus reports it."""
        st, raw = self._get("/api/v1/targets")
        if st != 200:
            return None, raw[:500]
        for t in json.loads(raw)["data"]["activeTargets"]:
            if t["labels"].get("job") == JOB:
                return t["health"], t.get("lastError")
        return None, "no active target"


@pytest.fixture
def prometheus_factory(request):
    if not os.path.exists(PROMETHEUS):
        pytest.skip(f"{PROMETHEUS} missing (Debian package prometheus: "
                    "scripts/install-deps.sh build)")
    made = []

    def make(target):
        tmp = tempfile.mkdtemp(prefix="c8y-it-prometheus-")
        p = Prometheus(tmp, target)
        made.append(p)
        return p

    yield make
    failed = getattr(request.node, "rep_call", None)
    for p in made:
        p.stop()
        if failed is not None and failed.failed:
            print("---- prometheus log ----\n" + p.read_log()[-20000:])
        shutil.rmtree(p.tmp, ignore_errors=True)


def get_metrics(broker):
    """GET /metrics without any Authorization header: (status, content type, body text)."""
    req = urllib.request.Request(f"http://{HOST}:{broker.rest_port}/metrics")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode(errors="replace")


def test_metrics_endpoint_without_authentication(broker):
    st, ctype, text = get_metrics(broker)
    assert st == 200, text[:2000]
    assert ctype.startswith("text/plain"), ctype
    assert "# TYPE c8y_messages_received_total counter" in text, text[:4000]
    # every family of the endpoint's contract is declared with its type
    for name, kind in [
            ("c8y_messages_received_total", "counter"),
            ("c8y_received_bytes_total", "counter"),
            ("c8y_sent_bytes_total", "counter"),
            ("c8y_connections_accepted_total", "counter"),
            ("c8y_connections_refused_total", "counter"),
            ("c8y_devices_connected", "gauge"),
            ("c8y_errors_sent_total", "counter"),
            ("c8y_rest_requests_total", "counter"),
            ("c8y_rest_request_duration_seconds", "histogram"),
            ("c8y_ingest_log_records", "gauge"),
            ("c8y_rocksdb_flushes_total", "counter"),
            ("c8y_rocksdb_memtable_bytes", "gauge"),
            ("c8y_rocksdb_block_cache_bytes", "gauge"),
            ("c8y_credential_cache_hits_total", "counter")]:
        assert f"# TYPE {name} {kind}\n" in text, (name, kind, text[:6000])


def test_prometheus_scrapes_tenant_traffic(broker, clients, prometheus_factory):
    # -- known traffic, QoS 1, every PUBLISH acknowledged ---------------------------------
    sent_bytes = {"t1": 0, "t10": 0}

    def publish(client, tenant, payload):
        info = client.publish("s/us", payload, qos=1)
        assert info.is_published(), payload
        sent_bytes[tenant] += len(payload.encode())

    a1 = device(clients, broker, "metrics-t1")
    for n in range(4):
        publish(a1, "t1", f"211,{n}")
    publish(a1, "t1", "211,4\n211,5\n211,6")  # one PUBLISH, three measurements
    publish(a1, "t1", "999999,x")  # unknown template: 40,... on s/e
    topic, msg = a1.expect(timeout=5)
    assert topic == "s/e" and msg.startswith(b"40,"), (topic, msg)

    a10 = device(clients, broker, "metrics-t10", tenant="t10")
    for n in range(3):
        publish(a10, "t10", f"211,{n}")
    publish(a10, "t10", "400,c8y_MyEvent,text\n400,c8y_MyEvent,text")
    assert a10.nothing(0.3) is None  # no error for t10

    # a refused CONNECT (wrong password) and REST answers of both classes
    assert clients(broker, "metrics-bad", "t1/device_b", "wrong").connect() == 5
    assert broker.rest("/inventory/managedObjects?pageSize=1")[0] == 200
    assert broker.rest("/inventory/managedObjects?pageSize=1", user=None)[0] == 401

    # -- the real Prometheus scrapes the plugin; both devices stay connected --------------
    prom = prometheus_factory(f"{HOST}:{broker.rest_port}")
    prom.start()
    up = prom.eventually(f'up{{job="{JOB}"}}', lambda v: v is not None, timeout=WAIT)
    assert up == 1, (up, prom.target_health())
    assert a1.is_connected() and a10.is_connected()

    def check(promql, expected):
        v = prom.eventually(promql, lambda v: v == expected)
        assert v == expected, (promql, v, prom.target_health())

    check('c8y_messages_received_total{tenant="t1",kind="measurement"}', 7)
    check('c8y_messages_received_total{tenant="t10",kind="measurement"}', 3)
    check('c8y_messages_received_total{tenant="t10",kind="event"}', 2)
    check('sum(c8y_messages_received_total{tenant="t10"})', 5)
    check('c8y_received_bytes_total{tenant="t1"}', sent_bytes["t1"])
    check('c8y_received_bytes_total{tenant="t10"}', sent_bytes["t10"])

    errors_t1 = prom.value('c8y_errors_sent_total{tenant="t1"}')
    assert errors_t1 is not None and errors_t1 >= 1, errors_t1
    assert prom.value('c8y_errors_sent_total{tenant="t10"}') in (None, 0)
    sent_t1 = prom.value('c8y_sent_bytes_total{tenant="t1"}')
    assert sent_t1 is not None and sent_t1 >= len(msg), sent_t1

    check('sum(c8y_devices_connected)', 2)
    check('c8y_devices_connected{tenant="t1"}', 1)
    check('c8y_devices_connected{tenant="t10"}', 1)
    check('c8y_connections_accepted_total{tenant="t1"}', 1)
    check('c8y_connections_accepted_total{tenant="t10"}', 1)
    check('sum(c8y_connections_refused_total{tenant="t1"})', 1)

    # node-wide families
    ok_2xx = prom.value('c8y_rest_requests_total{code="2xx"}')
    assert ok_2xx is not None and ok_2xx >= 1, ok_2xx
    err_4xx = prom.value('c8y_rest_requests_total{code="4xx"}')
    assert err_4xx is not None and err_4xx >= 1, err_4xx
    count = prom.value('c8y_rest_request_duration_seconds_count')
    assert count is not None and count >= 2, count
    # one expression, so both sides come from the same scrape
    assert prom.value('c8y_rest_request_duration_seconds_count - ignoring(le) '
                      'c8y_rest_request_duration_seconds_bucket{le="+Inf"}') == 0
    for name in ["c8y_ingest_log_records", "c8y_rocksdb_flushes_total",
                 "c8y_credential_cache_hits_total"]:
        assert prom.value(name) is not None, name
