"""The listeners with the plugin: WebSockets, TLS, WebSockets over TLS."""
import os
import signal
import ssl
import subprocess
import time

import pytest

from conftest import SOURCE_DIR, Client, free_port, wait_port


def certs(tmp):
    out = os.path.join(tmp, "certs")
    subprocess.run([os.path.join(SOURCE_DIR, "scripts", "gen-dev-certs.sh"), out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def stored_values(broker, serial):
    st, body = broker.rest(f"/identity/externalIds/c8y_Serial/{serial}")
    assert st == 200, body
    st, body = broker.measurements(source=body["managedObject"]["id"], pageSize=100)
    return [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in body["measurements"]]


def operation_round_trip(broker, c, serial):
    """An operation created over REST reaches the device on s/ds; 501 and 503 finish it."""
    assert c.subscribe("s/ds", 1) == [1]
    st, body = broker.rest(f"/identity/externalIds/c8y_Serial/{serial}")
    assert st == 200, body
    mid = body["managedObject"]["id"]
    st, op = broker.rest("/devicecontrol/operations", method="POST",
                         body={"deviceId": mid, "c8y_Restart": {}})
    assert st == 201, op
    topic, msg = c.expect()
    assert (topic, msg) == ("s/ds", f"510,{serial}".encode())
    c.publish("s/us", "501,c8y_Restart", qos=1)
    c.publish("s/us", "503,c8y_Restart", qos=1)
    st, op = broker.rest(f"/devicecontrol/operations/{op['id']}")
    assert st == 200 and op["status"] == "SUCCESSFUL", op


def publish_and_check(broker, c, serial):
    assert c.connect() == 0
    assert c.subscribe("s/e") == [0]
    c.publish("s/us", "211,21", qos=1)
    c.publish("s/us", "999", qos=1)
    topic, msg = c.expect()
    assert topic == "s/e" and msg.startswith(b"40,999")
    assert stored_values(broker, serial) == [21]
    operation_round_trip(broker, c, serial)


def test_tcp(broker):
    c = Client(broker.port, "tcp-1", "t1/device_a", "t1-device-pass")
    try:
        publish_and_check(broker, c, "tcp-1")
    finally:
        c.close()


def test_websockets(broker_factory, clients):
    ws = free_port()
    b = broker_factory(extra_conf=f"listener {ws}\nprotocol websockets\n")
    b.start()
    assert wait_port(ws)
    c = Client(ws, "ws-1", "t1/device_a", "t1-device-pass", transport="websockets")
    try:
        publish_and_check(b, c, "ws-1")
    finally:
        c.close()


@pytest.mark.parametrize("transport", ["tcp", "websockets"])
def test_tls_with_password(broker_factory, transport):
    port = free_port()
    b = broker_factory()
    d = certs(b.tmp)
    proto = "protocol websockets\n" if transport == "websockets" else ""
    b.extra_conf = (f"listener {port} 127.0.0.1\n{proto}certfile {d}/server.crt\n"
                    f"keyfile {d}/server.key\n")
    b.start()
    assert wait_port(port)
    c = Client(port, "tls-1", "t1/device_a", "t1-device-pass", transport=transport)
    c.c.tls_set(ca_certs=f"{d}/ca.crt", cert_reqs=ssl.CERT_REQUIRED)
    try:
        publish_and_check(b, c, "tls-1")
    finally:
        c.close()


def test_sighup_keeps_authenticated_clients(broker, clients):
    c = clients(broker, "hup-1", "t1/device_a", "t1-device-pass")
    assert c.connect() == 0
    broker.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert c.is_connected()
    c.publish("s/us", "211,3", qos=1)
    assert stored_values(broker, "hup-1") == [3]
