"""Online backup (POST /admin/backups, scripts/backup.sh) and restore (scripts/restore.sh).

The backup is taken while 20 devices publish QoS 1 measurements; it is restored into a new data
directory, a broker starts on it, and every measurement acknowledged before the backup began is
there.
"""
import json
import os
import shutil
import subprocess
import threading
import time

from conftest import DEFAULT_TENANTS, SOURCE_DIR, Broker, Client, device_id

MANAGEMENT = {"id": "management", "users": [
    {"name": "admin", "password": "management-admin-pass", "roles": ["admin"]}]}
PROVISIONING = {"tenants": DEFAULT_TENANTS["tenants"] + [MANAGEMENT]}
DEVICES = 20
MGMT = {"user": "management/admin", "password": "management-admin-pass"}


def _backup_dir(tmp):
    path = os.path.join(tmp, "backups")
    os.makedirs(path)
    if os.geteuid() == 0:
        shutil.chown(path, "mosquitto")
    return path


def _values(broker, serial):
    src = device_id(broker, serial)
    out, page = set(), 1
    while True:
        st, body = broker.rest(f"/measurement/measurements?source={src}&pageSize=2000"
                               f"&currentPage={page}")
        assert st == 200, body
        for m in body["measurements"]:
            out.add(int(m["c8y_TemperatureMeasurement"]["T"]["value"]))
        if "next" not in body or not body["measurements"]:
            return out
        page += 1


def test_backup_while_devices_publish_then_restore(broker_factory):
    broker = broker_factory(provisioning=PROVISIONING)
    backups = _backup_dir(broker.tmp)
    broker.options["backup_dir"] = backups
    broker.start()
    st, body = broker.rest("/admin/backups", method="POST", **MGMT)
    assert st == 201, body  # an empty node can be backed up too

    clients = []
    for i in range(DEVICES):
        c = Client(broker.port, f"bk-{i}", "t1/device_a", "t1-device-pass")
        assert c.connect() == 0
        clients.append(c)
    acked = [0] * DEVICES  # measurements 0..acked[i]-1 of device i have their PUBACK
    stop = threading.Event()

    def publish(i):
        n = 0
        deadline = time.time() + 30
        while not stop.is_set() and time.time() < deadline:
            info = clients[i].publish("s/us", f"211,{n}", qos=1)
            assert info.is_published(), f"device {i}: no PUBACK for {n}"
            n += 1
            acked[i] = n

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(DEVICES)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        before = list(acked)  # every one of these was acknowledged before the backup began
        st, made = broker.rest("/admin/backups", method="POST", **MGMT)
        time.sleep(0.5)  # the devices go on publishing during and after it
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=40)
    assert st == 201, made
    assert sum(before) > DEVICES * 10, before  # the devices were publishing
    assert made["bytes"] > 0 and os.path.isfile(os.path.join(made["path"], "CURRENT"))
    st, listed = broker.rest("/admin/backups", **MGMT)
    assert st == 200 and [b["id"] for b in listed["backups"]][-1] == made["id"], listed
    # Only the management tenant's admin makes backups.
    st, _ = broker.rest("/admin/backups", method="POST")
    assert st == 403
    for c in clients:
        c.close()
    broker.stop()

    # Restore into a new node's (empty) data directory with the one command, start it there.
    restored = broker_factory(provisioning=PROVISIONING)
    r = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "restore.sh"), made["path"],
                        restored.data_dir], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    restored.start()
    for i in range(DEVICES):
        values = _values(restored, f"bk-{i}")
        missing = set(range(before[i])) - values
        assert not missing, f"device {i}: acknowledged before the backup but missing: {sorted(missing)[:10]}"


def test_restore_refuses_a_directory_in_use_or_not_empty(broker_factory):
    broker = broker_factory(provisioning=PROVISIONING)
    backups = _backup_dir(broker.tmp)
    broker.options["backup_dir"] = backups
    broker.start()
    # The operator command: scripts/backup.sh against the REST API.
    r = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "backup.sh"),
                        f"http://127.0.0.1:{broker.rest_port}"], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, C8Y_MANAGEMENT_PASSWORD="management-admin-pass"))
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert os.path.isfile(os.path.join(made["path"], "CURRENT")), made
    r = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "backup.sh"),
                        f"http://127.0.0.1:{broker.rest_port}"], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, C8Y_MANAGEMENT_PASSWORD="wrong"))
    assert r.returncode != 0
    script = os.path.join(SOURCE_DIR, "scripts", "restore.sh")
    # The running broker's own data directory: refused, nothing touched.
    r = subprocess.run([script, made["path"], broker.data_dir, "--force"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "running" in r.stderr, r.stderr
    assert os.path.isfile(os.path.join(broker.data_dir, "CURRENT"))
    broker.stop()
    # Stopped but not empty: refused without --force; with it, the old directory is kept aside.
    r = subprocess.run([script, made["path"], broker.data_dir], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and "not empty" in r.stderr, r.stderr
    r = subprocess.run([script, made["path"], broker.data_dir, "--force"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    parent = os.path.dirname(broker.data_dir)
    assert any(n.startswith("db.before-restore.") for n in os.listdir(parent))
    # Not a backup at all.
    r = subprocess.run([script, parent, os.path.join(parent, "elsewhere")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "not a backup" in r.stderr


def test_a_tenant_backup_brings_a_deleted_tenant_back(broker_factory):
    """One tenant's backup (its column family and system records) while its device publishes;
    the tenant is deleted and restored on the running node: its device logs in again with the
    same credentials and every measurement acknowledged before the backup is there; another
    tenant is untouched throughout."""
    broker = broker_factory(provisioning=PROVISIONING)
    broker.options["backup_dir"] = _backup_dir(broker.tmp)
    broker.start()
    dev = Client(broker.port, "tb-1", "t1/device_a", "t1-device-pass")
    other = Client(broker.port, "tb-o", "t10/device_a", "t10-device-pass")
    assert dev.connect() == 0 and other.connect() == 0
    for c in (dev, other):
        assert c.publish("s/us", "100,tb,c8y_Linux", qos=1).is_published()
    for v in range(500):
        assert dev.publish("s/us", f"211,{v}", qos=1).is_published()
        if v % 50 == 0:
            assert other.publish("s/us", f"211,{v}", qos=1).is_published()
    st, body = broker.rest("/admin/backups", method="POST", body={"tenant": "t1"}, **MGMT)
    assert st == 201, body
    backup = body["id"]
    for v in range(500, 520):  # after the backup: not in it
        assert dev.publish("s/us", f"211,{v}", qos=1).is_published()
    st, body = broker.rest("/tenant/tenants/t1", method="DELETE", **MGMT)
    assert st == 204, body
    st, _ = broker.rest("/inventory/managedObjects")
    assert st == 401
    st, body = broker.rest(f"/admin/backups/{backup}/restore", method="POST", **MGMT)
    assert st == 201, body
    assert body["tenant"] == "t1"
    again = Client(broker.port, "tb-1b", "t1/device_a", "t1-device-pass")
    assert again.connect() == 0
    assert _values(broker, "tb-1") == set(range(500))
    st, body = broker.rest(f"/admin/backups/{backup}/restore", method="POST", **MGMT)
    assert st == 409, body
    st, body = broker.rest("/measurement/measurements?pageSize=100", user="t10/admin",
                           password="t10-admin-pass")
    assert st == 200 and len(body["measurements"]) == 10, body
    for c in (dev, other, again):
        c.close()
