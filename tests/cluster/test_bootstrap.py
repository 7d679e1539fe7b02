"""Bootstrap registration across nodes: a serial registered in a tenant on one node is polled
through HAProxy by management/devicebootstrap, which lands on the management tenant's node (n1),
gets its credentials there, and logs in on its tenant's node; a serial is unique across the
tenants of all nodes."""
import queue
import time

from conftest import BOOTSTRAP_SECRET, direct_rest, poll

T3 = ("t3/admin", "t3-admin-pass")
T5 = ("t5/admin", "t5-admin-pass")
T1 = ("t1/admin", "t1-admin-pass")


def register(cluster, serial, auth):
    return cluster.rest("/devicecontrol/newDeviceRequests", *auth, method="POST",
                        body={"id": serial})


def request_of(cluster, serial, auth):
    return cluster.rest(f"/devicecontrol/newDeviceRequests/{serial}", *auth)


def connect_bootstrap(cluster, make, serial):
    """The device's bootstrap connection through HAProxy (the node that lets it in may need a
    moment to see a fresh registration: the device retries, as a real one does)."""
    for _ in range(50):
        c = make(cluster.haproxy.mqtt, serial, "management/devicebootstrap", BOOTSTRAP_SECRET)
        rc = c.connect()
        if rc == 0:
            return c
        c.close()
        time.sleep(0.1)
    raise AssertionError(f"bootstrap connect refused ({rc}):\n" + cluster.logs())


def poll_until(c, done, timeout=10, timing=None):
    """Polls s/ucr every 150 ms until done(messages so far) or timeout; returns the messages.
    timing (a list): gets the seconds from the last poll to the first message."""
    got = []
    end = time.time() + timeout
    while time.time() < end:
        sent = time.monotonic()
        c.publish("s/ucr", "", qos=1)
        try:
            got.append(c.messages.get(timeout=0.15))
            if timing is not None and not timing:
                timing.append(time.monotonic() - sent)
        except queue.Empty:
            pass
        got += c.drain(wait=0.15 if got else 0.01)
        if done(got):
            break
    return got


def test_a_serial_of_a_tenant_on_another_node_pairs_through_haproxy(cluster, clients):
    made, make = clients
    serial = "boot-x1"
    # HAProxy serves REST once its first health checks passed (right after the cluster started).
    for auth in (T1, T3, T5):
        assert poll(lambda: cluster.rest("/tenant/currentTenant", *auth)[0] == 200), (
            cluster.rest("/tenant/currentTenant", *auth))
    # t3 (on n2) registers the serial through HAProxy: recorded cluster-wide.
    st, body = register(cluster, serial, T3)
    assert st == 201 and body["status"] == "WAITING_FOR_CONNECTION", body
    rec = cluster.etcd.get(f"/c8y/registrations/{serial}")
    assert rec and rec["tenant"] == "t3" and rec["status"] == "WAITING_FOR_CONNECTION" and (
        rec["node"] == "n2"), rec

    # The same serial in another tenant, on another node or on the management node: 409, and
    # nothing is left of the refused request there.
    for auth in (T5, T1):
        st, body = register(cluster, serial, auth)
        assert st == 409, (auth, st, body)
        assert "t3" not in body["message"], body  # the other tenant is not named
        st, page = cluster.rest("/devicecontrol/newDeviceRequests", *auth)
        assert st == 200 and page["newDeviceRequests"] == [], page
    assert cluster.etcd.get(f"/c8y/registrations/{serial}")["tenant"] == "t3"

    # A serial nobody registered is refused at CONNECT, as on one node.
    stranger = make(cluster.haproxy.mqtt, "boot-nobody", "management/devicebootstrap",
                    BOOTSTRAP_SECRET)
    assert stranger.connect() == 5

    # The device connects as the bootstrap user (HAProxy: tenant management -> n1) and polls.
    b = connect_bootstrap(cluster, make, serial)
    assert b.subscribe("s/dcr", 0) == [0]
    got = poll_until(b, lambda _: request_of(cluster, serial, T3)[1]["status"] ==
                     "PENDING_ACCEPTANCE")
    assert request_of(cluster, serial, T3)[1]["status"] == "PENDING_ACCEPTANCE", cluster.logs()
    assert got == []  # nothing before acceptance
    assert cluster.etcd.get(f"/c8y/registrations/{serial}")["status"] == "PENDING_ACCEPTANCE"

    st, body = cluster.rest(f"/devicecontrol/newDeviceRequests/{serial}", *T3, method="PUT",
                            body={"status": "ACCEPTED"})
    assert st == 200 and body["status"] == "ACCEPTED", body

    timing = []
    got = poll_until(b, lambda m: len(m) > 0, timing=timing)
    assert got, cluster.logs()
    if timing:
        print(f"\nbootstrap across nodes: poll -> 70 line in {timing[0] * 1000:.1f} ms")
    got += b.drain(wait=0.3)  # a poll that crossed the reply replaces the password: the last counts
    topic, payload = got[-1]
    assert topic == "s/dcr"
    code, tenant, user, password = payload.decode().split(",")
    assert (code, tenant, user) == ("70", "t3", f"device_{serial}")
    assert len(password) >= 22
    rec = cluster.etcd.get(f"/c8y/registrations/{serial}")
    assert rec["installed"] and password not in rec["hash"], rec  # only a hash travelled
    # n1 answered; n2 made the device user from the hash.
    assert f"device {serial} of tenant t3 got its bootstrap credentials through another node" in (
        cluster.nodes["n2"].read_log())
    b.close()

    # The device logs in through HAProxy with its new credentials: it lands on n2 and publishes.
    d = make(cluster.haproxy.mqtt, serial, f"t3/device_{serial}", password)
    assert d.connect() == 0, cluster.logs()
    d.publish("s/us", "100,Boot device,c8y_Device", qos=1)
    d.publish("s/us", "211,42", qos=1)

    def values():
        st, _, body = direct_rest(cluster.nodes["n2"],
                                  f"/identity/externalIds/c8y_Serial/{serial}", *T3)
        if st != 200:
            return None
        st, _, body = direct_rest(cluster.nodes["n2"], "/measurement/measurements?source="
                                  f"{body['managedObject']['id']}", *T3)
        return [m["c8y_TemperatureMeasurement"]["T"]["value"] for m in body["measurements"]]

    assert poll(lambda: values() == [42]), (values(), cluster.logs())
    # The first login finished the request, on n2 and in etcd: the serial is free again.
    assert request_of(cluster, serial, T3)[0] == 404
    assert poll(lambda: cluster.etcd.get(f"/c8y/registrations/{serial}") is None), cluster.logs()
    st, body = register(cluster, serial, T5)
    assert st == 201, body
    st, _ = cluster.rest(f"/devicecontrol/newDeviceRequests/{serial}", *T5, method="DELETE")
    assert st == 204
    assert poll(lambda: cluster.etcd.get(f"/c8y/registrations/{serial}") is None)


def test_a_deleted_request_is_gone_from_every_node(cluster, clients):
    made, make = clients
    serial = "boot-x2"
    st, body = register(cluster, serial, T5)  # t5 on n3
    assert st == 201, body
    b = connect_bootstrap(cluster, make, serial)
    b.close()
    st, _ = cluster.rest(f"/devicecontrol/newDeviceRequests/{serial}", *T5, method="DELETE")
    assert st == 204
    assert cluster.etcd.get(f"/c8y/registrations/{serial}") is None
    # n1 lets no bootstrap connection in for it any more.
    assert poll(lambda: make(cluster.haproxy.mqtt, serial, "management/devicebootstrap",
                             BOOTSTRAP_SECRET).connect() == 5), cluster.logs()


def test_a_serial_of_the_bootstrap_nodes_own_tenant_pairs_there(cluster, clients):
    """t1 lives on n1 with the management tenant: n1 answers from its own request, and the
    cluster's record follows (contact, then removal at the first login)."""
    made, make = clients
    serial = "boot-x3"
    st, body = register(cluster, serial, T1)
    assert st == 201, body
    assert cluster.etcd.get(f"/c8y/registrations/{serial}")["node"] == "n1"
    b = connect_bootstrap(cluster, make, serial)
    assert b.subscribe("s/dcr", 0) == [0]
    assert poll_until(b, lambda _: request_of(cluster, serial, T1)[1]["status"] ==
                      "PENDING_ACCEPTANCE") == []
    assert poll(lambda: cluster.etcd.get(f"/c8y/registrations/{serial}")["status"] ==
                "PENDING_ACCEPTANCE"), cluster.etcd.get(f"/c8y/registrations/{serial}")
    st, body = cluster.rest(f"/devicecontrol/newDeviceRequests/{serial}", *T1, method="PUT",
                            body={"status": "ACCEPTED"})
    assert st == 200, body
    timing = []
    got = poll_until(b, lambda m: len(m) > 0, timing=timing)
    assert got, cluster.logs()
    if timing:
        print(f"\nbootstrap on the request's own node: poll -> 70 line in "
              f"{timing[0] * 1000:.1f} ms")
    got += b.drain(wait=0.3)
    code, tenant, user, password = got[-1][1].decode().split(",")
    assert (code, tenant, user) == ("70", "t1", f"device_{serial}")
    assert "hash" not in cluster.etcd.get(f"/c8y/registrations/{serial}")  # nothing travelled
    b.close()
    d = make(cluster.haproxy.mqtt, serial, f"t1/device_{serial}", password)
    assert d.connect() == 0, cluster.logs()
    assert poll(lambda: cluster.etcd.get(f"/c8y/registrations/{serial}") is None), cluster.logs()


def test_a_request_moves_with_its_tenant(cluster, clients):
    """t4's request, contacted while t4 lives on n2, is accepted after t4 moved to n3: n3 (its
    new owner) installs the credentials n1 issues, and the device logs in on n3."""
    made, make = clients
    serial = "boot-x4"
    st, body = register(cluster, serial, ("t4/admin", "t4-admin-pass"))
    assert st == 201, body
    b = connect_bootstrap(cluster, make, serial)
    assert b.subscribe("s/dcr", 0) == [0]
    t4 = ("t4/admin", "t4-admin-pass")
    assert poll_until(b, lambda _: request_of(cluster, serial, t4)[1]["status"] ==
                      "PENDING_ACCEPTANCE") == []
    st, body = cluster.rest("/tenant/tenants/t4/move", "management/admin",
                            "management-admin-pass", method="POST", body={"node": "n3"})
    assert st == 200, (body, cluster.logs())
    assert poll(lambda: cluster.haproxy.runtime_map().get("t4") == "n3")
    assert poll(lambda: request_of(cluster, serial, t4)[0] == 200)
    assert request_of(cluster, serial, t4)[1]["status"] == "PENDING_ACCEPTANCE"
    st, body = cluster.rest(f"/devicecontrol/newDeviceRequests/{serial}", *t4, method="PUT",
                            body={"status": "ACCEPTED"})
    assert st == 200, body
    got = poll_until(b, lambda m: len(m) > 0, timeout=20)
    assert got, cluster.logs()
    got += b.drain(wait=0.3)
    code, tenant, user, password = got[-1][1].decode().split(",")
    assert (code, tenant, user) == ("70", "t4", f"device_{serial}")
    assert "got its bootstrap credentials through another node" in (
        cluster.nodes["n3"].read_log())
    b.close()
    d = make(cluster.haproxy.mqtt, serial, f"t4/device_{serial}", password)
    assert d.connect() == 0, cluster.logs()
    assert poll(lambda: cluster.etcd.get(f"/c8y/registrations/{serial}") is None), cluster.logs()
