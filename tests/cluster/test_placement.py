"""What a node does with a tenant placed on another node (a stale route), and what etcd's members
going away change for devices."""
import time

from conftest import HOST, direct_rest, harness, poll


def test_a_node_does_not_serve_a_tenant_placed_elsewhere(cluster, clients):
    made, make = clients
    n1, n2, n3 = (cluster.nodes[n] for n in ("n1", "n2", "n3"))
    try:
        # t2 lives on n1; its placement now names n2 (as a move would leave it).
        cluster.etcd.put("/c8y/tenants/t2", {"node": "n2", "epoch": 2})
        # n1 learns it within a round (1 s) and refuses t2's devices that still reach it.
        def refused():
            c = make(n1.port, f"stale-{time.monotonic_ns()}", "t2/device_a", "t2-device-pass")
            return c.connect() == 5
        assert poll(refused, timeout=10), n1.read_log()[-3000:]
        assert "tenant t2 is served by node n2" in n1.read_log()
        # REST straight to n1 for t2 is redirected to n2's REST address, same path and query.
        st, headers, body = direct_rest(n1, "/inventory/managedObjects?pageSize=3", "t2/admin",
                                        "t2-admin-pass")
        assert st == 307, body
        assert headers["Location"] == (f"http://{HOST}:{n2.rest_port}"
                                       "/inventory/managedObjects?pageSize=3")
        assert body["error"] == "cluster/tenantElsewhere"
        # t1 on n1 is untouched.
        c = make(n1.port, "stale-ok", "t1/device_a", "t1-device-pass")
        assert c.connect() == 0
        # Placed on a node that is down: 503, not a redirect to nowhere.
        cluster.etcd.put("/c8y/tenants/t2", {"node": "gone", "epoch": 3})
        assert poll(lambda: direct_rest(n1, "/inventory/managedObjects", "t2/admin",
                                        "t2-admin-pass")[0] == 503, timeout=10)
    finally:
        cluster.etcd.put("/c8y/tenants/t2", {"node": "n1", "epoch": 4})
    assert poll(lambda: direct_rest(n1, "/tenant/currentTenant", "t2/admin",
                                    "t2-admin-pass")[0] == 200, timeout=10)
    assert poll(lambda: cluster.haproxy.runtime_map().get("t2") == "n1", timeout=10)


def test_etcd_members_lost(cluster, clients):
    made, make = clients
    hp = cluster.haproxy
    pub = make(hp.mqtt, "etcd-t4", "t4/device_a", "t4-device-pass")
    assert pub.connect() == 0
    pub.publish("s/us", "211,1", qos=1)
    try:
        # One member stopped: nothing changes for devices, nodes stay registered.
        cluster.etcd.stop_member("e0")
        c = make(hp.mqtt, "etcd-t1", "t1/device_a", "t1-device-pass")
        assert c.connect() == 0
        pub.publish("s/us", "211,2", qos=1).wait_for_publish(5)
        time.sleep(3)  # longer than the lease TTL (2 s): the leases are kept alive
        assert poll(lambda: cluster.etcd.get("/c8y/nodes/n2") is not None, timeout=5)
        # Two stopped: quorum lost. Connected devices keep publishing, new connections of
        # placed tenants are let in (nothing on CONNECT asks etcd), the nodes log it.
        cluster.etcd.stop_member("e1")
        for v in range(3, 8):
            info = pub.publish("s/us", f"211,{v}", qos=1)
            info.wait_for_publish(5)
            assert info.is_published()
        c2 = make(hp.mqtt, "etcd-t6", "t6/device_a", "t6-device-pass")
        assert c2.connect() == 0
        assert poll(lambda: "retrying each second" in cluster.nodes["n2"].read_log(), timeout=15)
        # New tenants and moves are refused with a clear error; nothing changes.
        mgmt = ("management/admin", "management-admin-pass")
        st, body = cluster.rest("/tenant/tenants", *mgmt, method="POST", body={"id": "q1"},
                                timeout=30)
        assert st == 503 and body["error"] == "cluster/unavailable", (st, body)
        st, body = cluster.rest("/tenant/tenants/t4/move", *mgmt, method="POST",
                                body={"node": "n3"}, timeout=30)
        assert st == 503 and body["error"] == "cluster/unavailable", (st, body)
    finally:
        cluster.etcd.restart_member("e0")
        cluster.etcd.restart_member("e1")
    assert poll(cluster.etcd.healthy, timeout=30), cluster.etcd.logs()
    # Back: the nodes register again (their leases may have expired meanwhile).
    for name in cluster.nodes:
        assert poll(lambda: cluster.etcd.get(f"/c8y/nodes/{name}") is not None, timeout=15)
    n2 = cluster.nodes["n2"]
    st, body = n2.rest("/measurement/measurements?pageSize=100", user="t4/admin",
                       password="t4-admin-pass")
    assert st == 200
    values = sorted(m["c8y_TemperatureMeasurement"]["T"]["value"] for m in body["measurements"])
    assert values == list(range(1, 8)), values
    assert cluster.etcd.get("/c8y/tenants/t4") == {"node": "n2", "epoch": 1}
    assert cluster.etcd.get("/c8y/tenants/q1") is None
