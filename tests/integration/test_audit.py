"""GET /audit/auditRecords: records of operation creation and status changes (REST and device),
alarm creation and status changes (REST and device), user, tenant (in the management tenant's
log) and trusted-certificate changes; the filters; tenant isolation."""
import os
import shutil
import urllib.parse

import pytest

from conftest import DEFAULT_TENANTS, device, device_id
from test_certificates import Pki, upload

PROVISIONING = {"tenants": DEFAULT_TENANTS["tenants"] + [
    {"id": "management", "users": [
        {"name": "admin", "password": "mgmt-admin-pass", "roles": ["admin"]}]}]}
MGMT = {"user": "management/admin", "password": "mgmt-admin-pass"}
T10 = {"user": "t10/admin", "password": "t10-admin-pass"}


@pytest.fixture
def abroker(broker_factory):
    b = broker_factory(provisioning=PROVISIONING)
    trust = os.path.join(b.tmp, "trust")
    os.makedirs(trust)
    if os.geteuid() == 0:
        shutil.chown(trust, "mosquitto")
    b.options["trust_dir"] = trust
    b.start()
    return b


def records(broker, auth=None, **params):
    q = urllib.parse.urlencode({"pageSize": 100, **params})
    st, body = broker.rest("/audit/auditRecords?" + q, **(auth or {}))
    assert st == 200, body
    return body["auditRecords"]


def summary(recs):
    return [(r["type"], r["activity"], r["user"]) for r in recs]


def test_operation_records_from_rest_and_device(abroker, clients):
    d = device(clients, abroker, "audit-op")
    assert d.subscribe("s/ds", 1) == [1]
    d.publish("s/us", "100", qos=1)
    mid = device_id(abroker, "audit-op")
    st, op = abroker.rest("/devicecontrol/operations", method="POST",
                          body={"deviceId": mid, "c8y_Restart": {}, "description": "Restart"})
    assert st == 201, op
    assert d.expect() == ("s/ds", b"510,audit-op")
    d.publish("s/us", "501,c8y_Restart", qos=1)
    d.publish("s/us", "503,c8y_Restart", qos=1)
    recs = records(abroker, source=op["id"])  # QoS 1: acknowledged after it was processed
    assert summary(recs) == [("Operation", "Operation created", "admin"),
                             ("Operation", "Operation updated", "device_a"),
                             ("Operation", "Operation updated", "device_a")]
    assert [(c["previousValue"], c["newValue"]) for r in recs[1:] for c in r["changes"]] == \
        [("PENDING", "EXECUTING"), ("EXECUTING", "SUCCESSFUL")]
    assert "description='Restart'" in recs[0]["text"]
    assert all(r["source"]["id"] == op["id"] for r in recs)
    rec = recs[0]
    assert rec["self"].endswith("/audit/auditRecords/" + rec["id"])
    assert rec["severity"] == "information" and rec["time"] and rec["creationTime"]
    st, one = abroker.rest("/audit/auditRecords/" + rec["id"])
    assert st == 200 and one == rec
    # A REST status change is recorded as the caller.
    st, op2 = abroker.rest("/devicecontrol/operations", method="POST",
                           body={"deviceId": mid, "c8y_Restart": {}})
    st, _ = abroker.rest("/devicecontrol/operations/" + op2["id"], method="PUT",
                         body={"status": "FAILED", "failureReason": "cancelled"})
    assert st == 200
    assert summary(records(abroker, source=op2["id"])) == [
        ("Operation", "Operation created", "admin"), ("Operation", "Operation updated", "admin")]


def test_alarm_records_from_device_and_rest(abroker, clients):
    d = device(clients, abroker, "audit-al")
    d.publish("s/us", "100", qos=1)
    d.publish("s/us", "301,c8y_HotAlarm,too hot", qos=1)
    d.publish("s/us", "301,c8y_HotAlarm,too hot", qos=1)  # a repeat: count 2, no record
    mid = device_id(abroker, "audit-al")
    st, body = abroker.rest(f"/alarm/alarms?source={mid}")
    alarm = body["alarms"][0]
    assert alarm["count"] == 2
    st, _ = abroker.rest("/alarm/alarms/" + alarm["id"], method="PUT",
                         body={"status": "ACKNOWLEDGED"})
    assert st == 200
    d.publish("s/us", "306,c8y_HotAlarm", qos=1)
    recs = records(abroker, source=alarm["id"])
    assert summary(recs) == [("Alarm", "Alarm created", "device_a"),
                             ("Alarm", "Alarm updated", "admin"),
                             ("Alarm", "Alarm updated", "device_a")]
    assert [(c["previousValue"], c["newValue"]) for r in recs[1:] for c in r["changes"]] == \
        [("ACTIVE", "ACKNOWLEDGED"), ("ACKNOWLEDGED", "CLEARED")]
    # Measurements and events write nothing.
    d.publish("s/us", "211,20", qos=1)
    d.publish("s/us", "400,c8y_Event,text", qos=1)
    assert len(records(abroker)) == 3


def test_user_tenant_and_certificate_records(abroker):
    st, _ = abroker.rest("/user/t1/users", method="POST",
                         body={"userName": "ops", "password": "ops-pass-1", "roles": ["device"]})
    assert st == 201
    st, _ = abroker.rest("/user/t1/users/ops", method="PUT",
                         body={"enabled": False, "password": "ops-pass-2"})
    assert st == 200
    st, _ = abroker.rest("/user/t1/users/ops", method="DELETE")
    assert st == 204
    users = records(abroker, type="User")
    assert summary(users) == [("User", "User created", "admin"), ("User", "User updated", "admin"),
                              ("User", "User deleted", "admin")]
    changed = {c["attribute"]: c for c in users[1]["changes"]}
    assert changed["enabled"]["previousValue"] is True and changed["enabled"]["newValue"] is False
    assert changed["password"]["newValue"] is None  # never the hash
    assert "ops-pass" not in str(users) and "$" not in str(users[1]["changes"])

    # The management admin changing t1's users: recorded in t1's log, qualified.
    st, _ = abroker.rest("/user/t1/users", method="POST",
                         body={"userName": "ops2", "password": "ops-pass-1"}, **MGMT)
    assert st == 201
    assert records(abroker, type="User", user="management/admin")[0]["text"] == \
        "User created: user 'ops2' with role device"

    ca = Pki(abroker.tmp).ca("Audit CA")
    st, cert = upload(abroker, ca[1])
    assert st == 201, cert
    st, _ = abroker.rest(f"/tenant/tenants/t1/trusted-certificates/{cert['fingerprint']}",
                         method="PUT", body={"status": "DISABLED"})
    assert st == 200
    certs = records(abroker, type="TrustedCertificates")
    assert [r["activity"] for r in certs] == ["Trusted certificate added",
                                              "Trusted certificate updated"]
    assert cert["fingerprint"] in certs[0]["text"]
    assert [(c["previousValue"], c["newValue"]) for c in certs[1]["changes"]] == \
        [("ENABLED", "DISABLED")]

    # Tenants: the management tenant's log, never the new tenant's.
    st, _ = abroker.rest("/tenant/tenants", method="POST", body={"id": "acme"}, **MGMT)
    assert st == 201
    st, _ = abroker.rest("/tenant/tenants/acme", method="DELETE", **MGMT)
    assert st == 204
    assert summary(records(abroker, MGMT, type="Tenant")) == [
        ("Tenant", "Tenant created", "admin"), ("Tenant", "Tenant deleted", "admin")]
    assert records(abroker, type="Tenant") == []


def test_filters_and_tenant_isolation(abroker, clients):
    st, _ = abroker.rest("/user/t1/users", method="POST",
                         body={"userName": "u1", "password": "u1-pass-123"})
    d = device(clients, abroker, "audit-iso")
    d.publish("s/us", "100", qos=1)
    mid = device_id(abroker, "audit-iso")
    st, op = abroker.rest("/devicecontrol/operations", method="POST",
                          body={"deviceId": mid, "c8y_Restart": {}})
    everything = records(abroker)
    assert [r["type"] for r in everything] == ["User", "Operation"]
    assert [r["type"] for r in records(abroker, revert="true")] == ["Operation", "User"]
    assert [r["type"] for r in records(abroker, type="Operation")] == ["Operation"]
    assert records(abroker, user="nobody") == []
    first = everything[0]["time"]
    assert records(abroker, dateTo=first) == []
    assert len(records(abroker, dateFrom=first)) == 2
    st, page = abroker.rest("/audit/auditRecords?pageSize=1&withTotalPages=true")
    assert len(page["auditRecords"]) == 1 and page["statistics"]["totalPages"] == 2
    assert "next" in page

    # Tenant t10 sees none of t1's records, not even by id.
    assert records(abroker, T10) == []
    assert records(abroker, T10, source=op["id"]) == []
    st, body = abroker.rest("/audit/auditRecords/" + everything[0]["id"], **T10)
    assert st == 404 and body["error"] == "audit/Not Found"

    for q in ("source=abc", "dateFrom=yesterday", "revert=maybe", "pageSize=0",
              "application=x"):
        st, body = abroker.rest("/audit/auditRecords?" + q)
        assert st == 400 and body["error"] == "general/badRequest", (q, body)
    st, body = abroker.rest("/audit/auditRecords/nope")
    assert st == 404
