#!/usr/bin/env python3
"""Chart query latency: GET /measurement/measurements/series with a large store.

Starts the real mosquitto with the plugin (the integration harness's Broker, 127.0.0.1), loads
N measurements (default 1,000,000) of ONE device through MQTT (multi-line `211,<v>,<time>`
publishes at QoS 1, times SPACING seconds apart: 2.7 s spreads 1,000,000 over 31.25 days), then
runs Q REST queries `GET /measurement/measurements/series?source=<device>&dateFrom=..&dateTo=..
&aggregationType=HOURLY` over 30-day windows starting at a random hour of the first day, checks
each answer (720 hourly buckets with min <= max, not truncated) and prints the first query
(cold: it scans ~960,000 stored measurements and caches the hourly rollups of the closed hours)
and p50/p90/p99/max of all queries (warm: rollups, plus a scan of the hours not cached yet).

usage: C8Y_PLUGIN=build/mosquitto_c8y.so /usr/bin/python3 bench/series_latency.py [N] [Q]
"""
import base64
import datetime
import json
import os
import random
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from conftest import Broker, Client  # noqa: E402

BASE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
SPACING = 2.7  # seconds between two measurements


def iso(seconds):
    return (BASE + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    queries = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    tmp = tempfile.mkdtemp(prefix="c8y-seriesbench-")
    os.chmod(tmp, 0o755)
    broker = Broker(tmp)
    broker.start()
    try:
        t0 = time.time()
        lines_per_publish = 400  # ~14 KiB, under the 16184-byte cap
        c = Client(broker.port, "sb-0", "t1/device_a", "t1-device-pass")
        assert c.connect() == 0
        for start in range(0, n, lines_per_publish):
            lines = [f"211,{(i * 7) % 50},{iso(i * SPACING)}"
                     for i in range(start, min(n, start + lines_per_publish))]
            c.publish("s/us", "\n".join(lines), qos=1)
        c.close()
        st, body = broker.rest("/identity/externalIds/c8y_Serial/sb-0")
        src = body["managedObject"]["id"]
        load_s = time.time() - t0
        days = n * SPACING / 86400
        print(f"loaded {n} measurements of one device over {days:.2f} days in {load_s:.1f} s "
              f"({n / load_s:.0f}/s)")
        auth = "Basic " + base64.b64encode(b"t1/admin:t1-admin-pass").decode()
        lat = []
        rnd = random.Random(7)
        for _ in range(queries):
            start = rnd.randrange(0, 24) * 3600
            end = start + 30 * 86400
            url = (f"http://127.0.0.1:{broker.rest_port}/measurement/measurements/series"
                   f"?source={src}&dateFrom={iso(start)}&dateTo={iso(end)}"
                   f"&aggregationType=HOURLY&series=c8y_TemperatureMeasurement.T")
            req = urllib.request.Request(url, headers={"Authorization": auth})
            t = time.perf_counter()
            with urllib.request.urlopen(req) as r:
                body = json.loads(r.read())
            lat.append(time.perf_counter() - t)
            assert not body["truncated"] and len(body["values"]) == 720, len(body["values"])
            assert all(v[0]["min"] <= v[0]["max"] for v in body["values"].values())
        first = lat[0]
        lat.sort()
        pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000  # noqa: E731
        print(f"first query (cold, scans ~960,000 measurements): {first * 1000:.1f} ms")
        print(f"{queries} series queries (one device, 30 days, HOURLY, 720 buckets of ~1333):")
        print(f"  p50 {pct(50):.1f} ms  p90 {pct(90):.1f} ms  p99 {pct(99):.1f} ms  "
              f"max {lat[-1] * 1000:.1f} ms")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
