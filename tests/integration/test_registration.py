"""Bootstrap registration of non-personalized devices: newDeviceRequests over REST,
polls on s/ucr by management/devicebootstrap, credentials on s/dcr."""
import os
import shutil
import time

import pytest

from conftest import DEFAULT_TENANTS, device_id, poll
from test_transports import operation_round_trip

PROVISIONING = {"tenants": DEFAULT_TENANTS["tenants"] + [
    {"id": "management", "users": [
        {"name": "admin", "password": "mgmt-admin-pass", "roles": ["admin"]}]}]}
SECRET = "bootstrap-secret-0123456789"
T10 = {"user": "t10/admin", "password": "t10-admin-pass"}


@pytest.fixture
def bbroker(broker_factory):
    b = broker_factory(provisioning=PROVISIONING, options={"bootstrap_poll_interval": "100"})
    path = os.path.join(b.tmp, "bootstrap.secret")
    with open(path, "w") as f:
        f.write(SECRET + "\n")
    os.chmod(path, 0o600)
    if os.geteuid() == 0:
        shutil.chown(path, "mosquitto")
    b.options["bootstrap_secret_file"] = path
    b.start()
    return b


def bootstrap(clients, broker, serial, secret=SECRET):
    c = clients(broker, serial, "management/devicebootstrap", secret)
    return c


def request(broker, serial, **auth):
    return broker.rest(f"/devicecontrol/newDeviceRequests/{serial}", **auth)


def poll_once(c, wait=0.5):
    time.sleep(0.12)  # the test broker answers one poll per 100 ms
    c.publish("s/ucr", "", qos=1)
    return c.nothing(wait)


def test_pairing_round_trip(bbroker, clients):
    st, body = bbroker.rest("/devicecontrol/newDeviceRequests", method="POST",
                            body={"id": "boot-1"})
    assert st == 201, body
    assert body["status"] == "WAITING_FOR_CONNECTION" and body["id"] == "boot-1"
    st, page = bbroker.rest("/devicecontrol/newDeviceRequests")
    assert st == 200 and [r["id"] for r in page["newDeviceRequests"]] == ["boot-1"]
    # Another tenant sees nothing of it.
    st, other = bbroker.rest("/devicecontrol/newDeviceRequests", **T10)
    assert st == 200 and other["newDeviceRequests"] == []
    assert request(bbroker, "boot-1", **T10)[0] == 404

    b = bootstrap(clients, bbroker, "boot-1")
    assert b.connect() == 0
    assert b.subscribe("s/dcr", 0) == [0]
    assert poll_once(b) is None  # nothing before acceptance
    assert request(bbroker, "boot-1")[1]["status"] == "PENDING_ACCEPTANCE"
    st, body = bbroker.rest("/devicecontrol/newDeviceRequests/boot-1", method="PUT",
                            body={"status": "ACCEPTED"})
    assert st == 200 and body["status"] == "ACCEPTED", body

    topic, payload = poll_once(b)
    assert topic == "s/dcr"
    code, tenant, user, password1 = payload.decode().split(",")
    assert (code, tenant, user) == ("70", "t1", "device_boot-1")
    assert len(password1) >= 22  # >= 128 random bits, URL-safe base64
    # A lost reply strands nobody: the next poll gets a fresh password, and only it is valid.
    topic, payload = poll_once(b)
    password2 = payload.decode().split(",")[3]
    assert password2 != password1
    b.close()
    assert clients(bbroker, "boot-1", "t1/device_boot-1", password1).connect() == 5
    # The user belongs to its device: another client id cannot use it.
    assert clients(bbroker, "boot-1x", "t1/device_boot-1", password2).connect() == 5
    d = clients(bbroker, "boot-1", "t1/device_boot-1", password2)
    assert d.connect() == 0
    # The first login finished the registration: the request is gone, polls get nothing.
    assert "registration complete" in bbroker.read_log()
    assert request(bbroker, "boot-1")[0] == 404
    assert bootstrap(clients, bbroker, "boot-1").connect() == 5
    d.publish("s/us", "211,21.5", qos=1)
    mid = device_id(bbroker, "boot-1")
    st, body = bbroker.measurements(source=mid)
    assert st == 200 and len(body["measurements"]) == 1
    operation_round_trip(bbroker, d, "boot-1")
    # Only a hash of the password is stored: the password is nowhere in the database files.
    d.close()
    bbroker.stop()
    for root, _, files in os.walk(bbroker.data_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                assert password2.encode() not in f.read(), name


def test_registration_refusals(bbroker, clients):
    # Wrong secret, unregistered serial: refused at CONNECT, nothing created.
    assert bootstrap(clients, bbroker, "boot-2", secret="wrong-secret-0123456789").connect() == 5
    assert bootstrap(clients, bbroker, "nobody-registered-me").connect() == 5
    assert "no tenant registered device nobody-registered-me" in bbroker.read_log()
    assert bbroker.rest("/identity/externalIds/c8y_Serial/nobody-registered-me")[0] == 404
    # One request per serial across tenants; bad ids; accepting too early.
    assert bbroker.rest("/devicecontrol/newDeviceRequests", method="POST",
                        body={"id": "boot-2"})[0] == 201
    st, body = bbroker.rest("/devicecontrol/newDeviceRequests", method="POST",
                            body={"id": "boot-2"}, **T10)
    assert st == 409 and "t1" not in body["message"], body
    for bad in ({"id": "a/b"}, {"id": "x:y"}, {"id": 5}, {}, {"id": "ok", "status": "ACCEPTED"}):
        st, body = bbroker.rest("/devicecontrol/newDeviceRequests", method="POST", body=bad)
        assert st == 422, (bad, body)
    st, body = bbroker.rest("/devicecontrol/newDeviceRequests/boot-2", method="PUT",
                            body={"status": "ACCEPTED"})
    assert st == 422 and "has not connected" in body["message"], body
    assert bbroker.rest("/devicecontrol/newDeviceRequests/boot-2", method="PUT",
                        body={"status": "ACCEPTED"}, **T10)[0] == 404
    assert bbroker.rest("/devicecontrol/newDeviceRequests/boot-2", method="DELETE",
                        **T10)[0] == 404
    # The bootstrap user may only poll s/ucr and read s/dcr (and s/e).
    b = bootstrap(clients, bbroker, "boot-2")
    assert b.connect() == 0
    assert b.subscribe("s/ds", 0) == [0x80]
    assert b.subscribe("tenants/t1/notifications/#", 0) == [0x80]
    b.publish("s/us", "100", qos=1)
    time.sleep(0.3)
    assert bbroker.rest("/identity/externalIds/c8y_Serial/boot-2")[0] == 404
    # A poller far faster than the interval is disconnected; no sleep on the broker thread.
    for _ in range(60):
        b.c.publish("s/ucr", "", qos=0)
    assert b.disconnected.get(timeout=5) is not None
    assert "polls faster than every 100 ms" in bbroker.read_log()
    # Deleting the request ends the device's chance to bootstrap.
    assert bbroker.rest("/devicecontrol/newDeviceRequests/boot-2", method="DELETE")[0] == 204
    assert bootstrap(clients, bbroker, "boot-2").connect() == 5


def test_requests_survive_a_restart_and_tenant_deletion_drops_them(bbroker, clients):
    assert bbroker.rest("/devicecontrol/newDeviceRequests", method="POST",
                        body={"id": "boot-3"}, **T10)[0] == 201
    b = bootstrap(clients, bbroker, "boot-3")
    assert b.connect() == 0
    b.publish("s/ucr", "", qos=1)
    assert poll(lambda: request(bbroker, "boot-3", **T10)[1].get("status")
                == "PENDING_ACCEPTANCE")
    b.close()
    bbroker.stop()
    bbroker.start()
    assert request(bbroker, "boot-3", **T10)[1]["status"] == "PENDING_ACCEPTANCE"
    st, _ = bbroker.rest("/tenant/tenants/t10", method="DELETE", user="management/admin",
                         password="mgmt-admin-pass")
    assert st == 204
    assert bootstrap(clients, bbroker, "boot-3").connect() == 5
    # The serial is free again for another tenant.
    assert bbroker.rest("/devicecontrol/newDeviceRequests", method="POST",
                        body={"id": "boot-3"})[0] == 201
