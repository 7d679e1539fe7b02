#!/usr/bin/env python3
"""Measurement query latency with a large store (issue #3 figure).

Starts the real mosquitto with the plugin (the integration harness's Broker, 127.0.0.1), loads
N measurements (default 1,000,000) through MQTT from D devices (multi-line `211,<v>,<time>`
publishes at QoS 1, times spread one second apart per device), then runs Q REST queries
`GET /measurement/measurements?source=<random device>&dateFrom=..&dateTo=..&pageSize=100` over
random one-hour windows and prints p50/p90/p99/max of the first page's latency.

usage: C8Y_PLUGIN=build/mosquitto_c8y.so /usr/bin/python3 bench/query_latency.py [N] [D] [Q]
"""
import datetime
import json
import os
import random
import sys
import tempfile
import time
import urllib.request
import base64

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from conftest import Broker, Client  # noqa: E402

BASE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def iso(seconds):
    return (BASE + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    devices = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    queries = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    per_device = n // devices
    tmp = tempfile.mkdtemp(prefix="c8y-querybench-")
    os.chmod(tmp, 0o755)
    broker = Broker(tmp)
    broker.start()
    try:
        t0 = time.time()
        ids = []
        lines_per_publish = 400  # ~14 KiB, under the 16184-byte cap
        for d in range(devices):
            c = Client(broker.port, f"qb-{d}", "t1/device_a", "t1-device-pass")
            assert c.connect() == 0
            for start in range(0, per_device, lines_per_publish):
                lines = [f"211,{i % 50},{iso(i)}"
                         for i in range(start, min(per_device, start + lines_per_publish))]
                c.publish("s/us", "\n".join(lines), qos=1)
            c.close()
            st, body = broker.rest(f"/identity/externalIds/c8y_Serial/qb-{d}")
            ids.append(body["managedObject"]["id"])
        load_s = time.time() - t0
        print(f"loaded {per_device * devices} measurements from {devices} devices in "
              f"{load_s:.1f} s ({per_device * devices / load_s:.0f}/s)")
        auth = "Basic " + base64.b64encode(b"t1/admin:t1-admin-pass").decode()
        lat = []
        rnd = random.Random(7)
        for _ in range(queries):
            src = rnd.choice(ids)
            start = rnd.randrange(0, max(1, per_device - 3600))
            url = (f"http://127.0.0.1:{broker.rest_port}/measurement/measurements?source={src}"
                   f"&dateFrom={iso(start)}&dateTo={iso(start + 3600)}&pageSize=100")
            req = urllib.request.Request(url, headers={"Authorization": auth})
            t = time.perf_counter()
            with urllib.request.urlopen(req) as r:
                body = json.loads(r.read())
            lat.append(time.perf_counter() - t)
            assert len(body["measurements"]) == min(100, per_device - start)
        lat.sort()
        pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000
        print(f"{queries} queries (one device, one-hour window, first page of 100):")
        print(f"  p50 {pct(50):.2f} ms  p90 {pct(90):.2f} ms  p99 {pct(99):.2f} ms  "
              f"max {lat[-1] * 1000:.2f} ms")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
