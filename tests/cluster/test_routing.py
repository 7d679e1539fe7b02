"""Tenants placed on three nodes through etcd; HAProxy routes every transport to the tenant's
node by the map c8y-router keeps from etcd."""
import base64
import json
import time

from conftest import DOMAIN, HOST, SniClient, direct_rest, harness, poll


def values_on(node, tenant, serial):
    """The temperature values of device `serial` on `node` itself (None: not there; a node that
    does not serve the tenant redirects, which is not followed here)."""
    user, pw = f"{tenant}/admin", f"{tenant}-admin-pass"
    st, _, body = direct_rest(node, f"/identity/externalIds/c8y_Serial/{serial}", user, pw)
    if st != 200:
        return None
    st, _, body = direct_rest(node, f"/measurement/measurements?source="
                              f"{body['managedObject']['id']}&pageSize=100", user, pw)
    assert st == 200, body
    return sorted(m["c8y_TemperatureMeasurement"]["T"]["value"] for m in body["measurements"])


def publish(c, value):
    assert c.connect() == 0
    c.publish("s/us", f"211,{value}", qos=1)


def test_nodes_and_placements_are_in_etcd(cluster):
    for name, n in cluster.nodes.items():
        rec = cluster.etcd.get(f"/c8y/nodes/{name}")
        assert rec and rec["name"] == name and rec["rest"] == f"{HOST}:{n.rest_port}", rec
    for tenant, node in cluster.tenants().items():
        assert cluster.etcd.get(f"/c8y/tenants/{tenant}") == {"node": node, "epoch": 1}
    with open(cluster.haproxy.map) as f:  # the file a restarted HAProxy reads
        lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
    assert dict(lines) == cluster.tenants()


def test_each_tenants_devices_land_on_their_node_over_every_transport(cluster, clients):
    made, make = clients
    hp = cluster.haproxy
    for i, (tenant, node) in enumerate(sorted(cluster.tenants().items())):
        if tenant == "management":
            continue
        # MQTT over TCP (routed by the CONNECT's user name), MQTT 3.1.1 and 5.
        publish(make(hp.mqtt, f"tcp-{tenant}", f"{tenant}/device_a", f"{tenant}-device-pass"), 10 + i)
        publish(make(hp.mqtt, f"v5-{tenant}", f"{tenant}/device_a", f"{tenant}-device-pass",
                     v5=True), 20 + i)
        # MQTT over TLS, passed through and routed by SNI.
        c = SniClient(hp.mqtts, f"{tenant}.{DOMAIN}", f"tls-{tenant}", f"{tenant}/device_a",
                      f"{tenant}-device-pass", f"{cluster.certs}/ca.crt")
        made.append(c)
        publish(c, 30 + i)
        # MQTT over WebSockets, routed by the Host of the upgrade request.
        ws = make(hp.http, f"ws-{tenant}", f"{tenant}/device_a", f"{tenant}-device-pass",
                  transport="websockets")
        ws.c.ws_set_options(path="/mqtt", headers={"Host": f"{tenant}.{DOMAIN}"})
        publish(ws, 40 + i)
    for i, (tenant, node) in enumerate(sorted(cluster.tenants().items())):
        if tenant == "management":
            continue
        home = cluster.nodes[node]
        for kind, value in (("tcp", 10), ("v5", 20), ("tls", 30), ("ws", 40)):
            serial = f"{kind}-{tenant}"
            assert poll(lambda: values_on(home, tenant, serial) == [value + i]), (
                serial, values_on(home, tenant, serial), cluster.logs())
            for other in cluster.nodes.values():  # only there: the others send REST home
                if other is not home:
                    assert values_on(other, tenant, serial) is None
                    st, headers, _ = direct_rest(other, "/tenant/currentTenant",
                                                 f"{tenant}/admin", f"{tenant}-admin-pass")
                    assert st == 307 and headers["Location"].startswith(
                        f"http://{HOST}:{home.rest_port}/"), (st, headers)
            # REST through HAProxy (Basic user "<tenant>/admin") reads it back.
            st, body = cluster.rest(f"/identity/externalIds/c8y_Serial/{serial}",
                                    f"{tenant}/admin", f"{tenant}-admin-pass")
            assert st == 200, body


def test_rest_is_routed_by_user_host_and_token(cluster, clients):
    made, make = clients
    # Basic user: t4 lives on n2; the same request as t1 goes to n1.
    st, body = cluster.rest("/tenant/currentTenant", "t4/admin", "t4-admin-pass")
    assert st == 200 and body["name"] == "t4", body
    # The Basic user decides over the Host name.
    st, body = cluster.rest("/tenant/currentTenant", "t6/admin", "t6-admin-pass",
                            host=f"t1.{DOMAIN}")
    assert st == 200 and body["name"] == "t6", body
    # Bearer token: its "ten" claim routes (the node then verifies the token: a token made up
    # here is refused by the node it reaches, which the HAProxy log names).
    def token(ten):
        part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
        return part({"alg": "HS256", "typ": "JWT"}) + "." + part({"ten": ten, "sub": "x"}) + ".c2ln"
    for ten, node in (("t5", "n3"), ("t3", "n2")):
        path = f"/tenant/currentTenant?probe={ten}"
        st, _ = cluster.rest(path, None, None, token=token(ten))
        assert st == 401

        def logged():  # HAProxy writes its log line after the answer: wait for it
            return [l for l in cluster.haproxy.read_log(200000).splitlines()
                    if f"probe={ten}" in l]
        assert poll(lambda: logged(), timeout=5)
        lines = logged()
        assert f"rest_{node}/" in lines[-1], lines


def test_isolation_holds_across_nodes(cluster, clients):
    made, make = clients
    publish(make(cluster.haproxy.mqtt, "iso-t3", "t3/device_a", "t3-device-pass"), 7)
    assert poll(lambda: values_on(cluster.nodes["n2"], "t3", "iso-t3") == [7])
    # t1's admin (on n1) does not see t3's device, through HAProxy or on any node.
    st, body = cluster.rest("/identity/externalIds/c8y_Serial/iso-t3", "t1/admin",
                            "t1-admin-pass")
    assert st == 404, body
    # t3's device password does not log in as t1 (different node, different tenant).
    c = make(cluster.haproxy.mqtt, "iso-x", "t1/device_a", "t3-device-pass")
    assert c.connect() == 5
    # A tenant no node has goes to any node, which refuses it as a single node would.
    c = make(cluster.haproxy.mqtt, "iso-y", "t9/device_a", "t9-device-pass")
    assert c.connect() == 5
    # A user name that is not a tenant/user pair cannot pick a backend.
    c = make(cluster.haproxy.mqtt, "iso-z", "any/device_a", "x")
    assert c.connect() == 5


def test_a_restarted_router_and_haproxy_converge_on_etcd(cluster, clients):
    made, make = clients
    cluster.router.stop()
    # A placement changed while the router was down (as a move would change it).
    cluster.etcd.put("/c8y/tenants/t6", {"node": "n2", "epoch": 2})
    cluster.router.start()
    assert poll(lambda: cluster.haproxy.runtime_map().get("t6") == "n2", timeout=10), (
        cluster.haproxy.runtime_map(), cluster.router.read_log())
    # HAProxy restarted: it reads the file the router rewrote.
    cluster.haproxy.stop()
    cluster.haproxy.start()
    assert cluster.haproxy.runtime_map().get("t6") == "n2"
    # A change while both run takes effect without a reload.
    cluster.etcd.put("/c8y/tenants/t6", {"node": "n3", "epoch": 3})
    assert poll(lambda: cluster.haproxy.runtime_map().get("t6") == "n3", timeout=10)
    # n3 serves t6 again once its agent has read the placement (a round: at most ~1 s after
    # HAProxy already routes there; until then it refuses t6 as placed elsewhere).
    def connected():
        c = make(cluster.haproxy.mqtt, "back-t6", "t6/device_a", "t6-device-pass")
        return c if c.connect() == 0 else None
    c = poll(connected, timeout=10)
    assert c, cluster.logs()
    c.publish("s/us", "211,3", qos=1)
    assert poll(lambda: values_on(cluster.nodes["n3"], "t6", "back-t6") == [3])


def test_a_killed_node_disappears_from_etcd_and_comes_back(cluster, clients):
    made, make = clients
    n3 = cluster.nodes["n3"]
    n3.kill()
    # Its lease (TTL 2 s here) expires: the cluster sees the node down.
    assert poll(lambda: cluster.etcd.get("/c8y/nodes/n3") is None, timeout=10)
    # The other nodes' tenants go on.
    publish(make(cluster.haproxy.mqtt, "live-t1", "t1/device_a", "t1-device-pass"), 1)
    assert poll(lambda: values_on(cluster.nodes["n1"], "t1", "live-t1") == [1])
    # GET /tenant/tenants (management, from any node) says which tenants are unavailable.
    def placements():
        st, body = cluster.rest("/tenant/tenants?pageSize=100", "management/admin",
                                "management-admin-pass")
        assert st == 200, body
        return {t["id"]: t.get("c8y_Placement") for t in body["tenants"]}
    assert poll(lambda: placements().get("t5") == {"node": "n3", "available": False})
    p = placements()
    assert p["t1"] == {"node": "n1", "available": True} and p["t3"] == {"node": "n2",
                                                                         "available": True}, p
    # n3's tenants are not answered by another node.
    c = make(cluster.haproxy.mqtt, "dead-t5", "t5/device_a", "t5-device-pass")
    assert c.connect() != 0
    n3.start()
    assert poll(lambda: cluster.etcd.get("/c8y/nodes/n3") is not None, timeout=10)
    # Its tenants are placed there as before (the placements outlive the node).
    assert cluster.etcd.get("/c8y/tenants/t5") == {"node": "n3", "epoch": 1}
    def connected():
        c = make(cluster.haproxy.mqtt, "again-t5", "t5/device_a", "t5-device-pass")
        return c if c.connect() == 0 else None
    c = poll(connected, timeout=10)
    assert c, cluster.logs()
    c.publish("s/us", "211,5", qos=1)
    assert poll(lambda: values_on(n3, "t5", "again-t5") == [5])
