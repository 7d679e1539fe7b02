"""Per-tenant limits through the real broker: connected devices (CONNACK 5 / v5 0x87), a
device's and a tenant's message rate (refused messages not stored, the device told on s/e and
left connected), stored bytes, a REST user's request rate (429 with Retry-After), limits changed
at run time through PUT /tenant/tenants/{id}, and the limits in /metrics. Every wait is bounded.
"""
import base64
import time
import urllib.error
import urllib.request

from conftest import HOST, device, device_id, poll

T1_USERS = [
    {"name": "admin", "password": "t1-admin-pass", "roles": ["admin"]},
    {"name": "device_a", "password": "t1-device-pass", "roles": ["device"]},
]


def tenants(t1_limits, t2_limits=None):
    out = {"tenants": [
        {"id": "t1", "options": {"limits": t1_limits}, "users": T1_USERS},
        {"id": "t2", "users": [
            {"name": "admin", "password": "t2-admin-pass", "roles": ["admin"]},
            {"name": "device_a", "password": "t2-device-pass", "roles": ["device"]}]},
        {"id": "management", "users": [
            {"name": "admin", "password": "management-admin-pass", "roles": ["admin"]}]},
    ]}
    if t2_limits:
        out["tenants"][1]["options"] = {"limits": t2_limits}
    return out


def metrics(broker):
    with urllib.request.urlopen(f"http://{HOST}:{broker.rest_port}/metrics", timeout=10) as r:
        return r.read().decode()


def stored(broker, serial, user="t1/admin", password="t1-admin-pass"):
    st, body = broker.rest(f"/identity/externalIds/c8y_Serial/{serial}", user=user,
                           password=password)
    assert st == 200, body
    src = body["managedObject"]["id"]
    st, body = broker.rest(f"/measurement/measurements?source={src}&pageSize=2000", user=user,
                           password=password)
    assert st == 200, body
    return len(body["measurements"])


def errors(client, wait=1.0):
    return [p.decode() for t, p in client.drain(wait) if t == "s/e"]


def test_connect_beyond_the_device_limit_is_refused(broker_factory, clients):
    broker = broker_factory(provisioning=tenants({"devices": 2}))
    broker.start()
    device(clients, broker, "lim-d1")
    device(clients, broker, "lim-d2")
    third = clients(broker, "lim-d3", "t1/device_a", "t1-device-pass")
    assert third.connect() == 5  # v3.1.1: not authorized
    v5 = clients(broker, "lim-d4", "t1/device_a", "t1-device-pass", v5=True)
    assert v5.connect() == 0x87  # v5: Mosquitto 2.0.11 lets a plugin give no other code
    # Another tenant is not limited by t1's devices.
    device(clients, broker, "lim-e1", tenant="t2")
    # A connected device comes back (takeover) even at the limit.
    again = clients(broker, "lim-d1", "t1/device_a", "t1-device-pass")
    assert again.connect() == 0
    text = metrics(broker)
    assert 'c8y_connections_refused_total{tenant="t1",reason="quota"} 2' in text
    assert 'c8y_limited_total{tenant="t1",limit="devices"} 2' in text
    assert 'c8y_limit{tenant="t1",limit="devices"} 2' in text
    assert "has its limit of 2 devices connected" in broker.read_log()


def test_a_device_over_its_rate_is_told_and_its_excess_is_not_stored(broker_factory, clients):
    broker = broker_factory(provisioning=tenants({"deviceMessagesPerSecond": 5}),
                            options={"limit_burst_seconds": "1"})
    broker.start()
    c = device(clients, broker, "rate-d1")
    c.publish("s/us", "100,rate-d1,c8y_Linux", qos=1)
    time.sleep(1.2)  # the bucket fills again (5 tokens)
    c.drain(0.1)
    for i in range(20):  # at once: 5 pass, 15 are refused
        c.publish("s/us", f"200,c8y_T,T,{i}", qos=1)
    lines = errors(c)
    assert len(lines) == 1, lines  # told once, not 15 times
    assert lines[0].startswith("50,,Too many messages: this device may send 5 messages per second")
    assert c.is_connected()
    assert stored(broker, "rate-d1") == 5
    # A second later the device sends again.
    time.sleep(1.1)
    c.publish("s/us", "200,c8y_T,T,99", qos=1)
    assert poll(lambda: stored(broker, "rate-d1") == 6)
    assert 'c8y_limited_total{tenant="t1",limit="device_messages_per_second"} 15' in metrics(broker)


def test_the_tenant_rate_holds_back_its_devices_and_no_other_tenant(broker_factory, clients):
    broker = broker_factory(provisioning=tenants({"tenantMessagesPerSecond": 10}),
                            options={"limit_burst_seconds": "1"})
    broker.start()
    a = device(clients, broker, "ten-a")
    b = device(clients, broker, "ten-b")
    other = device(clients, broker, "ten-o", tenant="t2")
    for c, serial in ((a, "ten-a"), (b, "ten-b"), (other, "ten-o")):
        c.publish("s/us", f"100,{serial},c8y_Linux", qos=1)
    time.sleep(1.2)
    for i in range(10):
        a.publish("s/us", f"200,c8y_T,T,{i}", qos=1)
        b.publish("s/us", f"200,c8y_T,T,{i}", qos=1)
        other.publish("s/us", f"200,c8y_T,T,{i}", qos=1)
    assert stored(broker, "ten-a") + stored(broker, "ten-b") == 10
    assert stored(broker, "ten-o", "t2/admin", "t2-admin-pass") == 10
    told = errors(a, 0.5) + errors(b, 0.5)
    assert told and all("the devices of tenant t1 may send 10 messages per second" in x
                        for x in told), told
    assert errors(other, 0.3) == []


def test_stored_bytes_and_limits_changed_at_run_time(broker_factory, clients):
    broker = broker_factory(provisioning=tenants({}))
    broker.start()
    c = device(clients, broker, "store-d1")
    c.publish("s/us", "100,store-d1,c8y_Linux", qos=1)
    c.publish("s/us", "200,c8y_T,T,1", qos=1)
    assert poll(lambda: stored(broker, "store-d1") == 1)
    mgmt = ("management/admin", "management-admin-pass")
    st, body = broker.rest("/tenant/tenants/t1", *mgmt, method="PUT",
                           body={"options": {"limits": {"storedBytes": 1}}})
    assert st == 200, body
    # The node checks stored bytes every 5 seconds: the device is refused within that.
    def refused():
        c.publish("s/us", "200,c8y_T,T,2", qos=1)
        return [x for x in errors(c, 0.3) if "Storage limit reached" in x]
    assert poll(refused, timeout=12)
    n = stored(broker, "store-d1")
    st, body = broker.rest("/measurement/measurements", method="POST", body={
        "source": {"id": device_id(broker, "store-d1")}, "type": "t",
        "time": "2026-01-01T00:00:00.000Z", "c8y_T": {"T": {"value": 1}}})
    assert st == 507 and body["error"] == "limits/storageExceeded", body
    # Lifted: accepted again within the next check.
    st, body = broker.rest("/tenant/tenants/t1", *mgmt, method="PUT",
                           body={"options": {"limits": {"storedBytes": 0}}})
    assert st == 200, body

    def accepted():
        c.publish("s/us", "200,c8y_T,T,3", qos=1)
        return stored(broker, "store-d1") > n
    assert poll(accepted, timeout=12)
    # Invalid limits are refused with the key named, and a tenant's admin cannot set them.
    st, body = broker.rest("/tenant/tenants/t1", *mgmt, method="PUT",
                           body={"options": {"limits": {"devices": "all"}}})
    assert st == 422 and "options.limits.devices" in body["message"], body
    st, _ = broker.rest("/tenant/tenants/t1", method="PUT", body={"options": {}})
    assert st == 403


def test_a_rest_user_over_its_rate_gets_429_with_retry_after(broker_factory):
    broker = broker_factory(provisioning=tenants({"restRequestsPerSecond": 2}),
                            options={"limit_burst_seconds": "1"})
    broker.start()
    statuses = []
    retry = None
    for _ in range(6):
        req = urllib.request.Request(f"http://{HOST}:{broker.rest_port}/inventory/managedObjects")
        req.add_header("Authorization",
                       "Basic " + base64.b64encode(b"t1/admin:t1-admin-pass").decode())
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                statuses.append(r.status)
        except urllib.error.HTTPError as e:
            statuses.append(e.code)
            retry = e.headers.get("Retry-After")
    assert statuses[:2] == [200, 200] and 429 in statuses, statuses
    assert retry is not None and 1 <= int(retry) <= 2
    # Another tenant's admin is not held back.
    st, _ = broker.rest("/inventory/managedObjects", "t2/admin", "t2-admin-pass")
    assert st == 200
    time.sleep(1.1)
    st, _ = broker.rest("/inventory/managedObjects")
    assert st == 200
