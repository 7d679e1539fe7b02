"""Tenants and devices stay apart: topic policy, client ids (one identity per id), streams."""
import time

import pytest

from conftest import device


def test_device_cannot_subscribe_outside_its_downstream(broker, clients):
    d = device(clients, broker, "iso-1")
    for topic in ["#", "+/ds", "s/#", "$share/g/s/ds", "s/us", "tenants/t1/notifications/#",
                  "tenants/t10/#", "$SYS/#", "s/dcr"]:
        assert d.subscribe(topic) == [128], topic
    for topic in ["s/ds", "s/e", "s/dt", "s/dc/xid", "devicecontrol/notifications", "error"]:
        assert d.subscribe(topic) == [0], topic


def test_device_cannot_publish_downstream_or_foreign_topics(broker, clients):
    d = device(clients, broker, "iso-2", v5=True)
    watcher = device(clients, broker, "iso-3", user="device_b")
    assert watcher.subscribe("s/ds") == [0]
    for topic in ["s/ds", "s/e", "tenants/t1/notifications/measurements/1", "foo/bar", "s/dcr"]:
        d.publish(topic, "510,iso-3", qos=1)
    assert d.is_connected()
    assert watcher.nothing(0.7) is None


def test_one_device_never_sees_another_devices_errors(broker, clients):
    a = device(clients, broker, "iso-4")
    b = device(clients, broker, "iso-5", user="device_b")
    b.publish("s/us", "999", qos=1)
    topic, msg = b.expect()
    assert msg.startswith(b"40,999")
    assert a.nothing(0.7) is None


def test_admin_streams_are_tenant_private(broker, clients):
    a1 = clients(broker, "app-t1", "t1/admin", "t1-admin-pass")
    assert a1.connect() == 0
    assert a1.subscribe("tenants/t1/notifications/#") == [0]
    assert a1.subscribe("tenants/t1/+/measurements/+") == [0]
    for topic in ["tenants/t10/notifications/#", "tenants/+/notifications/#", "tenants/#", "#",
                  "tenants/t1x/notifications/#", "s/ds", "$share/g/tenants/t1/notifications/#"]:
        assert a1.subscribe(topic) == [128], topic


def test_tenant_a_cannot_read_tenant_b_data(broker, clients):
    d10 = device(clients, broker, "shared-serial", tenant="t10")
    d10.publish("s/us", "211,10", qos=1)
    st, body = broker.rest("/identity/externalIds/c8y_Serial/shared-serial",
                           user="t10/admin", password="t10-admin-pass")
    assert st == 200
    mid = body["managedObject"]["id"]
    # t1's admin: 404 for t10's object and external id, and an empty measurement list
    st, body = broker.rest(f"/inventory/managedObjects/{mid}")
    assert st == 404 and body["error"] == "inventory/Not Found"
    st, body = broker.rest("/identity/externalIds/c8y_Serial/shared-serial")
    assert st == 404
    st, body = broker.rest("/measurement/measurements?pageSize=100")
    assert body["measurements"] == []
    st, body = broker.rest(f"/measurement/measurements?source={mid}")
    assert body["measurements"] == []


def test_same_serial_in_two_tenants_live_client_id_is_not_taken_over(broker, clients):
    t1 = device(clients, broker, "dup-1")
    t10 = clients(broker, "dup-1", "t10/device_a", "t10-device-pass")
    assert t10.connect() == 5
    time.sleep(0.3)
    assert t1.is_connected()
    t1.publish("s/us", "999", qos=1)
    assert t1.expect()[0] == "s/e"
    # once t1's clean session is gone, t10 may use the id
    t1.close()
    time.sleep(0.3)
    again = clients(broker, "dup-1", "t10/device_a", "t10-device-pass")
    assert again.connect() == 0


def test_offline_persistent_session_keeps_its_client_id(broker, clients):
    p = clients(broker, "dup-2", "t1/device_a", "t1-device-pass", clean=False)
    assert p.connect() == 0
    p.close()
    time.sleep(0.3)
    other = clients(broker, "dup-2", "t10/device_a", "t10-device-pass")
    assert other.connect() == 5
    same = clients(broker, "dup-2", "t1/device_a", "t1-device-pass", clean=False)
    assert same.connect() == 0


def test_persistent_client_id_rule_survives_restart(broker_factory, clients):
    b = broker_factory()
    b.start()
    p = clients(b, "dup-3", "t1/device_a", "t1-device-pass", clean=False)
    assert p.connect() == 0
    p.close()
    b.stop()
    b.start()
    assert clients(b, "dup-3", "t10/device_a", "t10-device-pass").connect() == 5


def test_other_spelling_of_same_device_replaces_old_connection(broker, clients):
    old = device(clients, broker, "1234")
    new = device(clients, broker, "d:1234")
    old.disconnected.get(timeout=3)  # kicked by the plugin
    time.sleep(0.3)
    assert new.is_connected()
    new.publish("s/us", "999", qos=1)
    assert new.expect()[1].startswith(b"40,999")


def test_same_client_id_same_identity_takes_over(broker, clients):
    old = device(clients, broker, "take-1")
    new = device(clients, broker, "take-1")
    assert new.is_connected()
    new.publish("s/us", "211,1", qos=1)
    assert new.nothing() is None
