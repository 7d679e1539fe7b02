"""Third-party clients against the real broker: Cumulocity's own JavaScript client (@c8y/client)
drives the REST API and MQTT.js plays the device (tests/js/c8y_client_test.mjs).

Needs `npm ci` in tests/js; skipped when tests/js/node_modules is missing.
"""
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JS_DIR = os.path.join(ROOT, "tests", "js")
SCRIPT = os.path.join("tests", "js", "c8y_client_test.mjs")

# Checked at import so that no broker is started for a skipped test.
if not os.path.isdir(os.path.join(JS_DIR, "node_modules")):
    pytest.skip("tests/js/node_modules is missing: run `npm ci` in tests/js to enable the "
                "@c8y/client + MQTT.js test", allow_module_level=True)


def test_c8y_client_and_mqttjs_device(broker):
    env = dict(os.environ)
    env["C8Y_BASE_URL"] = f"http://127.0.0.1:{broker.rest_port}"
    env["C8Y_MQTT_URL"] = f"mqtt://127.0.0.1:{broker.port}"
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
