"""The management API across the cluster: tenants created on a node (chosen or the least loaded),
deleted from wherever they live, and moved between nodes while their devices publish."""
import os
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import HOST, SOURCE_DIR, _NoRedirect as NoRedirect, direct_rest, poll

MGMT = ("management/admin", "management-admin-pass")


def placement(cluster, tenant):
    return cluster.etcd.get(f"/c8y/tenants/{tenant}")


def test_a_tenant_is_created_on_a_chosen_node_and_served_there(cluster):
    st, body = cluster.rest("/tenant/tenants", *MGMT, method="POST", body={
        "id": "t7", "adminName": "admin", "adminPass": "t7-admin-pass", "node": "n3"})
    assert st == 201, body
    assert body["c8y_Placement"]["node"] == "n3", body
    assert placement(cluster, "t7") == {"node": "n3", "epoch": 1}
    # The router maps it; its admin works through HAProxy, and only n3 has it.
    assert poll(lambda: cluster.haproxy.runtime_map().get("t7") == "n3"), cluster.router.read_log()
    st, body = cluster.rest("/tenant/currentTenant", "t7/admin", "t7-admin-pass")
    assert st == 200 and body["name"] == "t7", body
    # n1 sends it to n3 (once n1's agent has read the placement: within its round).
    assert poll(lambda: direct_rest(cluster.nodes["n1"], "/tenant/currentTenant", "t7/admin",
                                    "t7-admin-pass")[0] == 307)
    st, headers, _ = direct_rest(cluster.nodes["n1"], "/tenant/currentTenant", "t7/admin",
                                 "t7-admin-pass")
    assert f":{cluster.nodes['n3'].rest_port}/" in headers["Location"], headers
    # A tenant id is unique in the cluster, whichever node asks.
    st, body = cluster.rest("/tenant/tenants", *MGMT, method="POST",
                            body={"id": "t7", "node": "n2"})
    assert st == 409 and "exists already" in body["message"], body
    st, body = cluster.rest("/tenant/tenants", *MGMT, method="POST", body={"id": "t3"})
    assert st == 409, body
    # An unknown node is a clear error, and nothing is placed.
    st, body = cluster.rest("/tenant/tenants", *MGMT, method="POST",
                            body={"id": "t8", "node": "n9"})
    assert st == 422 and "n9" in body["message"], body
    assert placement(cluster, "t8") is None
    # The management list shows it on its node.
    st, body = cluster.rest("/tenant/tenants/t7", *MGMT)
    assert st == 200 and body["c8y_Placement"] == {"node": "n3", "available": True}, body


def test_a_new_tenant_goes_to_the_node_with_the_fewest_devices(cluster, clients):
    made, make = clients
    # n1 and n2 get connected devices; n3 has none.
    for tenant in ("t1", "t3"):
        for i in range(3):
            c = make(cluster.haproxy.mqtt, f"load-{tenant}-{i}", f"{tenant}/device_a",
                     f"{tenant}-device-pass")
            assert c.connect() == 0
    nodes = cluster.nodes
    assert poll(lambda: all(cluster.etcd.get(f"/c8y/nodes/{n}")["devices"] >= 3
                            for n in ("n1", "n2"))), [cluster.etcd.get(f"/c8y/nodes/{n}")
                                                      for n in nodes]
    st, body = cluster.rest("/tenant/tenants", *MGMT, method="POST", body={"id": "t9"})
    assert st == 201, body
    assert body["c8y_Placement"]["node"] == "n3", (body, [cluster.etcd.get(f"/c8y/nodes/{n}")
                                                          for n in nodes])


def test_a_tenant_is_deleted_from_its_node(cluster):
    st, body = cluster.rest("/tenant/tenants", *MGMT, method="POST", body={
        "id": "t10", "adminName": "admin", "adminPass": "t10-admin-pass", "node": "n2"})
    assert st == 201, body
    assert poll(lambda: cluster.haproxy.runtime_map().get("t10") == "n2")
    st, _ = cluster.rest("/tenant/currentTenant", "t10/admin", "t10-admin-pass")
    assert st == 200
    ca = make_ca("T10 Fleet CA")
    st, body = cluster.rest("/tenant/tenants/t10/trusted-certificates", "t10/admin",
                            "t10-admin-pass", method="POST", body={"certInPemFormat": ca})
    assert st == 201, body
    st, body = cluster.rest("/devicecontrol/newDeviceRequests", "t10/admin", "t10-admin-pass",
                            method="POST", body={"id": "t10-serial"})
    assert st == 201, body
    st, body = cluster.rest("/tenant/tenants/t10", *MGMT, method="DELETE")
    assert st == 204, body
    assert placement(cluster, "t10") is None
    assert poll(lambda: "t10" not in cluster.haproxy.runtime_map())
    # Gone from n2 itself, not only from the map.
    st, _, _ = direct_rest(cluster.nodes["n2"], "/tenant/currentTenant", "t10/admin",
                           "t10-admin-pass")
    assert st == 401
    st, body = cluster.rest("/tenant/tenants/t10", *MGMT, method="DELETE")
    assert st == 404, body
    # Its CA's subject is free for another tenant of another node.
    st, body = cluster.rest("/tenant/tenants/t2/trusted-certificates", "t2/admin",
                            "t2-admin-pass", method="POST",
                            body={"certInPemFormat": make_ca("T10 Fleet CA")})
    assert st == 201, body
    # And its registered serial.
    st, body = cluster.rest("/devicecontrol/newDeviceRequests", "t2/admin", "t2-admin-pass",
                            method="POST", body={"id": "t10-serial"})
    assert st == 201, body
    # The id is free again.
    st, body = cluster.rest("/tenant/tenants", *MGMT, method="POST",
                            body={"id": "t10", "node": "n1"})
    assert st == 201 and body["c8y_Placement"]["node"] == "n1", body


class Publisher:
    """A device that publishes `211,<n>` at QoS 1 at a steady rate, reconnecting by itself (paho's
    loop) whenever it is disconnected or refused; it remembers which values were acknowledged."""

    def __init__(self, port, serial, user, password):
        self.serial = serial
        self.c = mqtt.Client(client_id=serial, protocol=mqtt.MQTTv311, clean_session=True)
        self.c.username_pw_set(user, password)
        self.c.reconnect_delay_set(0.05, 0.2)
        self.lock = threading.Lock()
        self.pending = {}
        self.acked = set()
        self.connects = 0
        self.connected = False
        self.next = 0
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda c, u, rc: setattr(self, "connected", False)
        self.c.on_publish = self._on_publish
        self.c.connect_async(HOST, port, keepalive=10)
        self.c.loop_start()

    def _on_connect(self, c, u, flags, rc):
        if rc == 0:
            self.connected = True
            self.connects += 1

    def _on_publish(self, c, u, mid):
        with self.lock:
            v = self.pending.pop(mid, None)
            if v is not None:
                self.acked.add(v)

    def publish(self):
        if not self.connected:
            return
        with self.lock:
            v = self.next
            self.next += 1
            info = self.c.publish("s/us", f"211,{v}", qos=1)
            self.pending[info.mid] = v

    def stop(self):
        self.c.loop_stop()
        self.c.disconnect()


def all_values(cluster, tenant, serial):
    st, body = cluster.rest(f"/identity/externalIds/c8y_Serial/{serial}", f"{tenant}/admin",
                            f"{tenant}-admin-pass")
    if st != 200:
        return None
    source = body["managedObject"]["id"]
    st, body = cluster.rest(f"/measurement/measurements?source={source}&pageSize=2000",
                            f"{tenant}/admin", f"{tenant}-admin-pass")
    assert st == 200, body
    return {int(m["c8y_TemperatureMeasurement"]["T"]["value"]) for m in body["measurements"]}


def test_a_tenant_moves_while_its_devices_publish_and_loses_nothing_acknowledged(cluster):
    tenant, source, target = "t4", "n2", "n3"
    devices = [Publisher(cluster.haproxy.mqtt, f"mv-{i:02d}", f"{tenant}/device_a",
                         f"{tenant}-device-pass") for i in range(20)]
    stop = threading.Event()

    def drive():  # 20 devices x 20 messages per second
        while not stop.is_set():
            for d in devices:
                d.publish()
            time.sleep(0.05)

    driver = threading.Thread(target=drive)
    try:
        assert poll(lambda: all(d.connected for d in devices), timeout=10)
        driver.start()
        time.sleep(1.5)
        before = sum(len(d.acked) for d in devices)
        assert before > 100
        st, body = cluster.rest(f"/tenant/tenants/{tenant}/move", *MGMT, method="POST",
                                body={"node": target})
        assert st == 200, (body, cluster.logs())
        assert body["c8y_Placement"]["node"] == target and body["from"] == source, body
        assert body["bytes"] > 0 and 0 < body["seconds"] < 30, body
        print(f"moved {tenant}: {body['bytes']} bytes, unserved {body['seconds']:.3f} s")
        assert placement(cluster, tenant) == {"node": target, "epoch": 2}
        assert poll(lambda: cluster.haproxy.runtime_map().get(tenant) == target)
        # Every device comes back (through HAProxy, now to n3) and goes on publishing.
        moved_at = {d.serial: len(d.acked) for d in devices}
        assert poll(lambda: all(d.connects >= 2 and len(d.acked) > moved_at[d.serial] + 5
                                for d in devices), timeout=20), (
            [(d.serial, d.connects, len(d.acked)) for d in devices], cluster.logs())
    finally:
        stop.set()
        if driver.is_alive():
            driver.join()
        time.sleep(0.5)  # the last acknowledgements
        for d in devices:
            d.stop()
    # Every acknowledged measurement is on the new node, read through HAProxy.
    for d in devices:
        with d.lock:
            acked = set(d.acked)
        got = all_values(cluster, tenant, d.serial)
        assert got is not None and acked <= got, (d.serial, sorted(acked - (got or set()))[:20])
    # The old node has no copy any more: it sends the tenant's requests to the new one.
    st, headers, _ = direct_rest(cluster.nodes[source], "/tenant/currentTenant",
                                 f"{tenant}/admin", f"{tenant}-admin-pass")
    assert st == 307 and f":{cluster.nodes[target].rest_port}/" in headers["Location"], headers
    # A move of a tenant onto its own node changes nothing; to an unknown node it is refused.
    st, body = cluster.rest(f"/tenant/tenants/{tenant}/move", *MGMT, method="POST",
                            body={"node": target})
    assert st == 200 and body["c8y_Placement"]["epoch"] == 2, body
    st, body = cluster.rest(f"/tenant/tenants/{tenant}/move", *MGMT, method="POST",
                            body={"node": "n9"})
    assert st == 422, body
    st, body = cluster.rest("/tenant/tenants/nosuch/move", *MGMT, method="POST",
                            body={"node": "n1"})
    assert st == 404, body


def test_the_cluster_routes_refuse_calls_without_the_ticket(cluster):
    n = cluster.nodes["n1"]
    import urllib.request
    import urllib.error
    for method, path in (("POST", "/cluster/moves/t1"), ("POST", "/cluster/tenants/zz"),
                         ("DELETE", "/cluster/tenants/t1"), ("GET", "/cluster/exports/t1/system.json")):
        req = urllib.request.Request(f"http://{HOST}:{n.rest_port}{path}", method=method,
                                     data=b"{}" if method == "POST" else None,
                                     headers={"X-C8y-Ticket": "0" * 32})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        assert e.value.code == 403, (path, e.value.code)
    # t1 is untouched.
    assert placement(cluster, "t1") == {"node": "n1", "epoch": 1}
    # Through HAProxy the /cluster/ paths do not reach a node at all.
    st, body = cluster.rest("/cluster/moves/t1", None, None, method="POST", body={})
    assert st == 403, body


def c8y_tenant(cluster, *args):
    """The operator's command (scripts/cluster/c8y-tenant) through HAProxy's HTTP port."""
    env = dict(os.environ, C8Y_URL=f"http://{HOST}:{cluster.haproxy.http}",
               C8Y_USER=MGMT[0], C8Y_PASSWORD=MGMT[1])
    return subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "scripts", "cluster",
                                                        "c8y-tenant"), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_the_operator_command_moves_a_tenant_back_with_its_data(cluster, clients):
    made, make = clients
    tenant = "t5"  # on n3
    c = make(cluster.haproxy.mqtt, "op-dev", f"{tenant}/device_a", f"{tenant}-device-pass")
    assert c.connect() == 0
    for v in range(50):
        assert c.publish("s/us", f"211,{v}", qos=1).is_published()
    c.close()
    for there, back in (("n1", "n3"), ("n3", "n1")):
        out = c8y_tenant(cluster, "move", tenant, there)
        assert out.returncode == 0, (out.stdout, out.stderr, cluster.logs())
        assert f"moved from {back} to {there}" in out.stdout, out.stdout
        assert poll(lambda: all_values(cluster, tenant, "op-dev") == set(range(50)), timeout=10)
    out = c8y_tenant(cluster, "list")
    assert out.returncode == 0 and f"{tenant}\tn3\tup" in out.stdout, out.stdout
    out = c8y_tenant(cluster, "move", tenant, "n9")
    assert out.returncode == 1 and "n9" in out.stderr, (out.stdout, out.stderr)


def test_every_node_takes_device_tokens_signed_with_the_clusters_key(cluster):
    """One key of device tokens for the cluster (etcd's secrets/token): a token is verified by
    any node, so it survives a move of its tenant. Signed here with the key read from etcd."""
    import base64
    import hashlib
    import hmac
    import json
    import urllib.error
    import urllib.request
    key = cluster.etcd.get_raw("/c8y/secrets/token")
    assert key and len(key) >= 32

    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    now = int(time.time())
    ISSUER = "mosquitto-c8y"  # plugin/identity/device_token.h

    def token(secret):
        head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64(json.dumps({"ten": "t3", "sub": "device_a", "ser": "tok-dev", "iat": now,
                               "exp": now + 600, "jti": "j1", "iss": ISSUER}).encode())
        sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
        return f"{head}.{body}.{sig}"

    def status(node, tok):
        req = urllib.request.Request(
            f"http://{HOST}:{node.rest_port}/identity/externalIds/c8y_Serial/tok-dev",
            headers={"Authorization": "Bearer " + tok})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    good, forged = token(key), token(b"x" * 32)
    # t3 lives on n2: n2 verifies and answers (no such device yet: 404), n1 and n3 verify and
    # send it to n2; a token under another key is refused by all.
    assert status(cluster.nodes["n2"], good) == 404
    # (once their agents have read t3's placement: within a round of the cluster's start)
    assert poll(lambda: status(cluster.nodes["n1"], good) == 307)
    assert poll(lambda: status(cluster.nodes["n3"], good) == 307)
    for n in cluster.nodes.values():
        assert status(n, forged) == 401


def make_ca(cn):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cluster test")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_a_ca_subject_belongs_to_one_tenant_across_the_nodes(cluster):
    def upload(tenant, pem):
        return cluster.rest(f"/tenant/tenants/{tenant}/trusted-certificates", f"{tenant}/admin",
                            f"{tenant}-admin-pass", method="POST",
                            body={"certInPemFormat": pem, "name": "CA", "status": "ENABLED"})

    first, same_subject = make_ca("Shared Fleet CA"), make_ca("Shared Fleet CA")
    st, body = upload("t1", first)  # t1 on n1
    assert st == 201, body
    fingerprint = body["fingerprint"]
    st, body = upload("t6", same_subject)  # t6 on n3: another CA, the same subject
    assert st == 409 and "belongs to another tenant" in body["message"], body
    # t1 may add a renewed CA of its own subject; removing one of the two keeps the claim.
    st, renewed = upload("t1", same_subject)
    assert st == 201, renewed
    st, _ = cluster.rest(f"/tenant/tenants/t1/trusted-certificates/{fingerprint}", "t1/admin",
                         "t1-admin-pass", method="DELETE")
    assert st == 204
    st, body = upload("t6", make_ca("Shared Fleet CA"))
    assert st == 409, body
    st, _ = cluster.rest(f"/tenant/tenants/t1/trusted-certificates/{renewed['fingerprint']}",
                         "t1/admin", "t1-admin-pass", method="DELETE")
    assert st == 204
    # Released: now t6 may have it.
    st, body = upload("t6", same_subject)
    assert st == 201, body
