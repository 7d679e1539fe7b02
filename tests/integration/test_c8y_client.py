"""Third-party clients against the real broker: Cumulocity's own JavaScript client (@c8y/client)
drives the REST API and MQTT.js plays the device (tests/js/c8y_client_test.mjs).

Needs `npm ci` in tests/js; skipped when tests/js/node_modules is missing.
"""
import os
import shutil
import subprocess

import pytest

from conftest import free_port, wait_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JS_DIR = os.path.join(ROOT, "tests", "js")
SCRIPT = os.path.join("tests", "js", "c8y_client_test.mjs")

# Checked at import so that no broker is started for a skipped test.
if not os.path.isdir(os.path.join(JS_DIR, "node_modules")):
    pytest.skip("tests/js/node_modules is missing: run `npm ci` in tests/js to enable the "
                "@c8y/client + MQTT.js test", allow_module_level=True)


@pytest.mark.parametrize("transport", ["tcp", "ws", "wss+https"])
def test_c8y_client_and_mqttjs_device(broker_factory, transport):
    """The full round trip over each transport: MQTT.js over TCP, WebSockets and WebSockets with
    TLS; @c8y/client over HTTP, and over HTTPS with the WSS run."""
    b = broker_factory()
    env = dict(os.environ)
    rest_scheme, mqtt_url = "http", None
    if transport == "tcp":
        b.start()
        mqtt_url = f"mqtt://127.0.0.1:{b.port}"
    else:
        ws = free_port()
        tls = ""
        if transport == "wss+https":
            d = os.path.join(b.tmp, "certs")
            subprocess.run([os.path.join(ROOT, "scripts", "gen-dev-certs.sh"), d], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if os.geteuid() == 0:  # the plugin reads the key as user mosquitto
                shutil.chown(f"{d}/server.key", "mosquitto")
            tls = f"certfile {d}/server.crt\nkeyfile {d}/server.key\n"
            b.options["rest_tls_cert_file"] = f"{d}/server.crt"
            b.options["rest_tls_key_file"] = f"{d}/server.key"
            env["C8Y_CA_FILE"] = f"{d}/ca.crt"
            env["NODE_EXTRA_CA_CERTS"] = f"{d}/ca.crt"
            rest_scheme = "https"
        b.extra_conf = f"listener {ws} 127.0.0.1\nprotocol websockets\n{tls}"
        b.start()
        assert wait_port(ws)
        mqtt_url = f"{'wss' if tls else 'ws'}://127.0.0.1:{ws}/mqtt"
    env["C8Y_BASE_URL"] = f"{rest_scheme}://127.0.0.1:{b.rest_port}"
    env["C8Y_MQTT_URL"] = mqtt_url
    try:
        r = subprocess.run(["node", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"node {SCRIPT} did not finish within 60 s\n--- stdout ---\n{e.stdout}\n"
                    f"--- stderr ---\n{e.stderr}")
    if r.returncode != 0:
        print("--- node stdout ---\n" + r.stdout)
        print("--- node stderr ---\n" + r.stderr)
    assert r.returncode == 0, (f"node {SCRIPT} exited with {r.returncode}\n--- stdout ---\n"
                               f"{r.stdout}\n--- stderr ---\n{r.stderr}")
    assert f"connected to {mqtt_url}" in r.stdout
    if rest_scheme == "https":
        assert f"REST API listening on https://127.0.0.1:{b.rest_port}" in b.read_log()
        # Plain HTTP is not spoken on the HTTPS port.
        import urllib.request
        with pytest.raises(Exception):
            urllib.request.urlopen(f"http://127.0.0.1:{b.rest_port}/health", timeout=5).read()
