"""D5 across nodes: a client id belongs, cluster-wide, to the first identity that connected with
it; another tenant's device is refused on every node, and a reconnect asks etcd nothing."""
import time
import urllib.request

from conftest import HOST, poll


def etcd_txns(cluster):
    """Transactions (create-if-absent, compare-and-delete, ...) every running member has served:
    gRPC Txn calls started, which the JSON gateway's /v3/kv/txn requests are. In steady state
    the node agents send none (their tenants are placed), so what this counts is claims."""
    total = 0
    for m in cluster.etcd.names:
        if m not in cluster.etcd.procs:
            continue
        with urllib.request.urlopen(f"http://{HOST}:{cluster.etcd.client[m]}/metrics",
                                    timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("grpc_server_started_total{") and 'grpc_method="Txn"' in line:
                    total += float(line.split()[-1])
    return total


def refused_for_client_id(node, tenant):
    with urllib.request.urlopen(f"http://{HOST}:{node.rest_port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(f'c8y_connections_refused_total{{tenant="{tenant}",'
                               'reason="client_id"}'):
                return float(line.split()[-1])
    return 0


def test_a_client_id_claimed_on_one_node_is_refused_for_another_tenant_on_another(cluster,
                                                                                  clients):
    made, make = clients
    hp = cluster.haproxy
    n1, n2 = cluster.nodes["n1"], cluster.nodes["n2"]
    cid = f"claim-{time.monotonic_ns()}"

    # A device of t1 connects through HAProxy (lands on n1): its first CONNECT claims the id.
    before = etcd_txns(cluster)
    a = make(hp.mqtt, cid, "t1/device_a", "t1-device-pass")
    assert a.connect() == 0
    assert etcd_txns(cluster) - before == 1
    assert cluster.etcd.get(f"/c8y/clients/{cid}") == {
        "tenant": "t1", "identity": "device_a", "node": "n1"}

    # A device of t3 with the same client id lands on n2 and is refused (CONNACK 5).
    b = make(hp.mqtt, cid, "t3/device_a", "t3-device-pass")
    assert b.connect() == 5
    assert "claimed in the cluster" in n2.read_log(), n2.read_log()[-3000:]
    # Counted as the local D5 refusal is: a refusal for a client id, in t3's metrics.
    assert refused_for_client_id(n2, "t3") == 1
    # Straight to n2 as well (not only through HAProxy), and while the first device is online
    # or not: the id stays t1's.
    a.close()
    c = make(n2.port, cid, "t3/device_a", "t3-device-pass")
    assert c.connect() == 5
    # Another tenant on the holder's own node is refused too: one rule on every node.
    d = make(n1.port, cid, "t2/device_a", "t2-device-pass")
    assert d.connect() == 5

    # The first device reconnects, again and again: no etcd transaction at all.
    before = etcd_txns(cluster)
    for _ in range(10):
        again = make(hp.mqtt, cid, "t1/device_a", "t1-device-pass")
        assert again.connect() == 0
        again.close()
    assert etcd_txns(cluster) == before
    # The id's claim is untouched by all of this.
    assert cluster.etcd.get(f"/c8y/clients/{cid}")["tenant"] == "t1"


def test_deleting_the_user_releases_its_claims(cluster, clients):
    made, make = clients
    hp = cluster.haproxy
    cid = f"release-{time.monotonic_ns()}"
    st, _ = cluster.rest("/user/t1/users", "t1/admin", "t1-admin-pass", method="POST",
                         body={"userName": "device_gone", "password": "device-gone-pass-1",
                               "roles": ["device"]})
    assert st in (200, 201), _
    a = make(hp.mqtt, cid, "t1/device_gone", "device-gone-pass-1")
    assert a.connect() == 0
    assert cluster.etcd.get(f"/c8y/clients/{cid}")["identity"] == "device_gone"
    a.close()
    st, _ = cluster.rest("/user/t1/users/device_gone", "t1/admin", "t1-admin-pass",
                         method="DELETE")
    assert st == 204, _
    assert poll(lambda: cluster.etcd.get(f"/c8y/clients/{cid}") is None, timeout=10)
    # Free again: another tenant's device may take it now.
    b = make(hp.mqtt, cid, "t3/device_a", "t3-device-pass")
    assert b.connect() == 0
    assert cluster.etcd.get(f"/c8y/clients/{cid}")["tenant"] == "t3"


def test_without_quorum_a_first_connect_is_accepted_then_checked(cluster, clients):
    made, make = clients
    hp = cluster.haproxy
    n1 = cluster.nodes["n1"]
    held = f"held-{time.monotonic_ns()}"
    free = f"free-{time.monotonic_ns()}"
    owner = make(hp.mqtt, held, "t3/device_a", "t3-device-pass")  # t3 claims it on n2
    assert owner.connect() == 0
    owner.close()
    try:
        cluster.etcd.stop_member("e0")
        cluster.etcd.stop_member("e1")
        # No quorum: a new device still connects (provisionally), also one whose id t3 holds,
        # since nobody can tell now.
        ok = make(hp.mqtt, free, "t1/device_a", "t1-device-pass")
        assert ok.connect() == 0
        intruder = make(hp.mqtt, held, "t1/device_a", "t1-device-pass")
        assert intruder.connect() == 0
        time.sleep(1)
        assert intruder.disconnected.empty()  # nothing is decided without etcd
    finally:
        cluster.etcd.restart_member("e0")
        cluster.etcd.restart_member("e1")
    assert poll(cluster.etcd.healthy, timeout=30), cluster.etcd.logs()
    # Once etcd answers, n1 makes the claims it owes: the free id becomes t1's, and the
    # connection using t3's id is disconnected and the reason logged.
    assert poll(lambda: cluster.etcd.get(f"/c8y/clients/{free}") is not None, timeout=20)
    assert cluster.etcd.get(f"/c8y/clients/{free}")["tenant"] == "t1"
    assert poll(lambda: f"client id '{held}' is held by tenant t3" in n1.read_log(),
                timeout=20), n1.read_log()[-3000:]
    assert poll(lambda: not intruder.disconnected.empty(), timeout=10)
    assert cluster.etcd.get(f"/c8y/clients/{held}")["tenant"] == "t3"
    # Its reconnect is refused; the device whose id was free stays connected.
    again = make(hp.mqtt, held, "t1/device_a", "t1-device-pass")
    assert again.connect() == 5
    assert ok.disconnected.empty()
    # The nodes are registered again before the next test.
    for name in cluster.nodes:
        assert poll(lambda: cluster.etcd.get(f"/c8y/nodes/{name}") is not None, timeout=15)


def test_claims_stay_with_a_moved_tenant_and_go_with_a_deleted_one(cluster, clients):
    made, make = clients
    hp = cluster.haproxy
    mgmt = ("management/admin", "management-admin-pass")
    tenant = "tc1"
    st, body = cluster.rest("/tenant/tenants", *mgmt, method="POST", body={
        "id": tenant, "adminName": "admin", "adminPass": "tc1-admin-pass", "node": "n2"})
    assert st == 201, body
    assert poll(lambda: hp.runtime_map().get(tenant) == "n2")
    st, body = cluster.rest(f"/user/{tenant}/users", f"{tenant}/admin", "tc1-admin-pass",
                            method="POST", body={"userName": "device_a",
                                                 "password": "tc1-device-pass",
                                                 "roles": ["device"]})
    assert st == 201, body
    cid = f"mover-{time.monotonic_ns()}"
    key = f"/c8y/clients/{cid}"
    a = make(hp.mqtt, cid, f"{tenant}/device_a", "tc1-device-pass")
    assert a.connect() == 0
    assert cluster.etcd.get(key) == {"tenant": tenant, "identity": "device_a", "node": "n2"}
    a.close()

    # Moved to n3: the claim stays the tenant's (n2 only forgets it), its device reconnects on
    # n3, and another tenant is still refused.
    st, body = cluster.rest(f"/tenant/tenants/{tenant}/move", *mgmt, method="POST",
                            body={"node": "n3"}, timeout=60)
    assert st == 200, body
    assert poll(lambda: hp.runtime_map().get(tenant) == "n3")
    assert cluster.etcd.get(key)["tenant"] == tenant

    def back():
        c = make(hp.mqtt, cid, f"{tenant}/device_a", "tc1-device-pass")
        ok = c.connect() == 0
        c.close()
        return ok
    assert poll(back, timeout=10)
    assert cluster.etcd.get(key)["tenant"] == tenant
    assert make(hp.mqtt, cid, "t3/device_a", "t3-device-pass").connect() == 5
    assert make(cluster.nodes["n2"].port, cid, "t3/device_a", "t3-device-pass").connect() == 5

    # Deleted: its claims go with it, and the id is free for another tenant.
    st, body = cluster.rest(f"/tenant/tenants/{tenant}", *mgmt, method="DELETE")
    assert st == 204, body
    assert poll(lambda: cluster.etcd.get(key) is None, timeout=10)
    # (n2 remembers its refusal of t3 for up to 10 s, then asks etcd again.)
    def taken():
        time.sleep(0.5)
        return make(hp.mqtt, cid, "t3/device_a", "t3-device-pass").connect() == 0
    assert poll(taken, timeout=15)
    assert cluster.etcd.get(key)["tenant"] == "t3"
