#!/usr/bin/env python3
"""Tenant B's PUBACK latency alone and while tenant A floods at its limit (issue 12 figures).

Starts the real mosquitto with the plugin (the integration harness's Broker, on 127.0.0.1).
Tenant B (t10): 5 devices publishing `211` at a paced 500 msg/s in total, QoS 1, PUBLISH ->
PUBACK latency measured by c8y_loadgen. Tenant A (t1): 20 devices publishing as fast as the
loadgen can (window 20 each), with tenantMessagesPerSecond = A_LIMIT. Three runs, each on a
fresh broker: B alone; B while A floods with the limit; B while A floods without a limit (what
the limit buys). Prints one line per run and what the broker counted for A (refused by the limit).

usage: C8Y_PLUGIN=build/mosquitto_c8y.so /usr/bin/python3 bench/limits_bench.py [SECONDS]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from conftest import HOST, Broker  # noqa: E402

BUILD = os.environ.get("C8Y_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))
LOADGEN = os.path.join(BUILD, "bench", "c8y_loadgen")
A_LIMIT = 2000
B_RATE = 500


def provisioning(limited):
    a = {"id": "t1", "users": [{"name": "device_a", "password": "t1-device-pass",
                                "roles": ["device"]}]}
    if limited:
        a["options"] = {"limits": {"tenantMessagesPerSecond": A_LIMIT}}
    b = {"id": "t10", "users": [
        {"name": "admin", "password": "t10-admin-pass", "roles": ["admin"]},
        {"name": "device_a", "password": "t10-device-pass", "roles": ["device"]}]}
    return {"tenants": [a, b]}


def loadgen(port, tenant, prefix, devices, seconds, rate=0, warmup=1):
    args = [LOADGEN, "--port", str(port), "--devices", str(devices), "--seconds", str(seconds),
            "--warmup", str(warmup), "--qos", "1", "--user-format", f"{tenant}/device_a",
            "--password", f"{tenant}-device-pass", "--client-format", prefix + "-%d",
            "--payload-format", "211,%d"]
    if rate:
        args += ["--rate", str(rate)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc):
    out, err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed ({proc.returncode}): {err}")
    return json.loads(out.strip().splitlines()[-1])


def limited_count(broker):
    with urllib.request.urlopen(f"http://{HOST}:{broker.rest_port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith('c8y_limited_total{tenant="t1",limit="tenant_messages_per_second"}'):
                return int(float(line.split()[-1]))
    return 0


def run(label, seconds, flood, limited):
    tmp = tempfile.mkdtemp(prefix="c8y-limits-bench-")
    broker = Broker(tmp, provisioning=provisioning(limited))
    broker.start()
    try:
        a = None
        if flood:
            a = loadgen(broker.port, "t1", "flood", 20, seconds + 4, warmup=1)
            time.sleep(2)
        b = result(loadgen(broker.port, "t10", "quiet", 5, seconds, rate=B_RATE))
        line = (f"{label:34s} B: {b['rate']:7.0f} msg/s  PUBACK p50 {b['puback_us_p50'] / 1000:6.2f}"
                f" ms  p99 {b['puback_us_p99'] / 1000:6.2f} ms  max {b['puback_us_max'] / 1000:6.1f} ms")
        if a:
            ra = result(a)
            line += (f"  | A: {ra['rate']:7.0f} PUBLISH/s acked, "
                     f"{limited_count(broker)} refused by its limit")
        print(line, flush=True)
    finally:
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    if not os.path.exists(LOADGEN):
        sys.exit(f"no {LOADGEN}: build the tree first")
    print(f"tenant A limit {A_LIMIT} msg/s, tenant B paced at {B_RATE} msg/s, {seconds} s each",
          flush=True)
    run("B alone", seconds, flood=False, limited=True)
    run("B while A floods at its limit", seconds, flood=True, limited=True)
    run("B while A floods, A unlimited", seconds, flood=True, limited=False)


if __name__ == "__main__":
    main()
