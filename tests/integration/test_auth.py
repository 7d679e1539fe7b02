"""Authentication at CONNECT: credentials (<tenant>/<user>), client ids ([d:]<serial>[:<X-ID>]),
tenants; the plugin refuses with "not authorised" (5, v5 0x87), wrong credentials too."""
import socket

import pytest

from conftest import Client, device


@pytest.mark.parametrize("v5", [False, True])
def test_valid_device_credentials_connect(broker, clients, v5):
    c = clients(broker, "dev-1", "t1/device_a", "t1-device-pass", v5=v5)
    assert c.connect() == 0


@pytest.mark.parametrize("client_id,username,password,why", [
    ("dev-1", "t1/device_a", "wrong", "wrong password"),
    ("dev-1", "device_a", "t1-device-pass", "bare username"),
    ("dev-1", "nosuch/device_a", "t1-device-pass", "unknown tenant"),
    ("dev-1", "t1/nobody", "t1-device-pass", "unknown user"),
    ("dev-1", "T1/device_a", "t1-device-pass", "invalid tenant id"),
    ("dev-1", None, None, "anonymous"),
    ("dev-1", "t1/device_a", None, "no password"),
    ("a/b", "t1/device_a", "t1-device-pass", "'/' in client id"),
    ("a+b", "t1/device_a", "t1-device-pass", "'+' in client id"),
    ("d:1234:", "t1/device_a", "t1-device-pass", "empty default X-ID"),
    ("1234:xid", "t1/device_a", "t1-device-pass", "X-ID without d: prefix"),
    ("dev-1", "t10/device_a", "t1-device-pass", "password of another tenant"),
])
def test_refused_with_not_authorised(broker, clients, client_id, username, password, why):
    c = clients(broker, client_id, username, password)
    assert c.connect() == 5, why


def test_v5_refusal_reason_is_not_authorised(broker, clients):
    c = clients(broker, "dev-1", "t1/device_a", "wrong", v5=True)
    assert c.connect() == 0x87


def raw_connect(port, client_id, username, password):
    """A hand-made MQTT 3.1.1 CONNECT (paho invents a client id when given an empty one)."""
    def s(x):
        b = x.encode()
        return len(b).to_bytes(2, "big") + b
    var = s("MQTT") + bytes([4, 0xC2]) + (30).to_bytes(2, "big")
    body = var + s(client_id) + s(username) + s(password)
    pkt = bytes([0x10, len(body)]) + body
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(pkt)
        resp = sock.recv(4)
    return resp[3] if len(resp) == 4 and resp[0] == 0x20 else -1


def test_empty_client_id_refused_by_broker(broker, clients):
    assert raw_connect(broker.port, "", "t1/device_a", "t1-device-pass") == 2
    assert raw_connect(broker.port, "raw-1", "t1/device_a", "t1-device-pass") == 0


def test_wrong_password_after_success_still_fails(broker, clients):
    ok = clients(broker, "dev-2", "t1/device_a", "t1-device-pass")
    assert ok.connect() == 0
    ok.close()
    bad = clients(broker, "dev-2", "t1/device_a", "t1-device-pass-not")
    assert bad.connect() == 5
    again = clients(broker, "dev-2", "t1/device_a", "t1-device-pass")
    assert again.connect() == 0


def test_client_id_forms_are_one_device(broker, clients):
    """1234, d:1234 and d:1234:xid address the same device (one managed object)."""
    for cid in ["1234", "d:1234", "d:1234:myxid"]:
        c = clients(broker, cid, "t1/device_a", "t1-device-pass")
        assert c.connect() == 0
        c.publish("s/us", "211,20", qos=1)
        c.close()
    st, body = broker.rest("/identity/externalIds/c8y_Serial/1234")
    assert st == 200
    st, body = broker.rest("/measurement/measurements?pageSize=10&source=" +
                           body["managedObject"]["id"])
    assert len(body["measurements"]) == 3


def test_repeated_failures_back_off_without_locking_out_others(broker, clients):
    for _ in range(8):
        assert clients(broker, "dev-3", "t1/device_b", "bad").connect() == 5
    # device_b is now in its back-off window: even the right password is refused for a while
    assert clients(broker, "dev-3", "t1/device_b", "t1-device-pass").connect() == 5
    # another user from the same address is not affected
    assert clients(broker, "dev-4", "t1/device_a", "t1-device-pass").connect() == 0
    assert "backing off" in broker.read_log()
