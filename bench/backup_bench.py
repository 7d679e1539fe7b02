#!/usr/bin/env python3
"""Time and size of an online backup of a node holding N measurements (issue 12 figures).

Starts the real mosquitto with the plugin (the integration harness's Broker, on 127.0.0.1),
stores N `211` measurements from 10 devices (1,000 SmartREST lines per QoS 1 publish), then
takes a backup through POST /admin/backups and restores it with scripts/restore.sh into a new
directory. Prints the data directory's size, the backup's time and size (SST files are
hard-linked when the backup directory is on the same file system, so the backup costs little
new space), and the restore's time.

usage: C8Y_PLUGIN=build/mosquitto_c8y.so /usr/bin/python3 bench/backup_bench.py [N]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from conftest import DEFAULT_TENANTS, SOURCE_DIR, Broker, Client  # noqa: E402

MGMT = {"user": "management/admin", "password": "management-admin-pass"}
PROVISIONING = {"tenants": DEFAULT_TENANTS["tenants"] + [{"id": "management", "users": [
    {"name": "admin", "password": "management-admin-pass", "roles": ["admin"]}]}]}
LINES = 1000
DEVICES = 10


def du(path):
    return int(subprocess.run(["du", "-sb", path], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    tmp = tempfile.mkdtemp(prefix="c8y-backup-bench-")
    broker = Broker(tmp, provisioning=PROVISIONING)
    backups = os.path.join(tmp, "backups")
    os.makedirs(backups)
    if os.geteuid() == 0:
        shutil.chown(backups, "mosquitto")
    broker.options["backup_dir"] = backups
    broker.start()
    try:
        clients = [Client(broker.port, f"bb-{i}", "t1/device_a", "t1-device-pass")
                   for i in range(DEVICES)]
        for c in clients:
            assert c.connect() == 0
        t0 = time.time()
        sent, v = 0, 0
        while sent < n:
            for c in clients:
                payload = "\n".join(f"211,{v + k}" for k in range(LINES))
                info = c.publish("s/us", payload, qos=1)
                assert info.is_published()
                v += LINES
                sent += LINES
                if sent >= n:
                    break
        ingest = time.time() - t0
        for c in clients:
            c.close()
        t0 = time.time()
        st, made = broker.rest("/admin/backups", method="POST", **MGMT)
        call = time.time() - t0
        assert st == 201, made
        data = du(broker.data_dir)
        restored = os.path.join(tmp, "restored")
        t0 = time.time()
        subprocess.run([os.path.join(SOURCE_DIR, "scripts", "restore.sh"), made["path"], restored],
                       check=True, capture_output=True)
        restore = time.time() - t0
        print(f"measurements stored:     {sent:,} in {ingest:.1f} s")
        print(f"data directory:          {data / 1e6:.1f} MB (du, after the backup's flush)")
        print(f"backup (POST):           {call:.2f} s wall, {made['seconds']:.2f} s in the plugin")
        print(f"backup directory:        {made['bytes'] / 1e6:.1f} MB of files "
              "(hard links to the node's SST files when on the same file system)")
        print(f"restore (restore.sh):    {restore:.2f} s, {du(restored) / 1e6:.1f} MB copied")
    finally:
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
