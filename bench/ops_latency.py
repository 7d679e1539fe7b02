#!/usr/bin/env python3
"""Operation delivery latency and bytes on the wire (issue #3 figures).

Starts the real mosquitto with the plugin (the integration harness's Broker, on 127.0.0.1),
connects one device subscribed to s/ds (QoS 1), then creates N operations through the REST API
one after the other and measures, for each, the time from the REST call returning to the device
receiving the operation. Prints p50/p90/p99/max, and the MQTT bytes on the wire of one `211`
publish and of one operation round trip (down, 501, 503, with their PUBACKs).

usage: C8Y_PLUGIN=build/mosquitto_c8y.so /usr/bin/python3 bench/ops_latency.py [N]
"""
import json
import os
import queue
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from conftest import Broker, Client  # noqa: E402


def publish_bytes(topic, payload, qos):
    """Size of an MQTT 3.1.1 PUBLISH packet."""
    rem = 2 + len(topic.encode()) + (2 if qos else 0) + len(payload)
    n, hdr = rem, 1
    while True:
        hdr += 1
        n //= 128
        if not n:
            break
    return hdr + rem


PUBACK = 4


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    tmp = tempfile.mkdtemp(prefix="c8y-opsbench-")
    os.chmod(tmp, 0o755)
    # set_tcp_nodelay as in conf/mosquitto.conf: without it Nagle holds a small PUBLISH behind
    # the previous PUBACK until the device's delayed ACK (40 ms).
    broker = Broker(tmp, extra_conf="set_tcp_nodelay true")
    broker.start()
    try:
        dev = Client(broker.port, "bench-op-1", "t1/device_a", "t1-device-pass")
        assert dev.connect() == 0
        assert dev.subscribe("s/ds", 1) == [1]
        dev.publish("s/us", "100", qos=1)
        st, body = broker.rest("/identity/externalIds/c8y_Serial/bench-op-1")
        mid = body["managedObject"]["id"]
        got = queue.Queue()  # (receive time, payload), stamped in paho's network thread
        dev.c.on_message = lambda c, u, m: got.put((time.perf_counter(), m.payload))
        lat, total = [], []
        for i in range(n):
            t_call = time.perf_counter()
            st, op = broker.rest("/devicecontrol/operations", method="POST",
                                 body={"deviceId": mid, "c8y_Restart": {}})
            t_return = time.perf_counter()
            assert st == 201, op
            t_recv, payload = got.get(timeout=5)
            lat.append(max(0.0, t_recv - t_return))  # received before the call returned: 0
            total.append(t_recv - t_call)
            assert payload == b"510,bench-op-1", payload
            # Complete it so it is not re-sent: the device answers with 504/506 by id.
            dev.publish("s/us", f"506,{op['id']}", qos=1)
        def report(name, xs):
            xs = sorted(xs)
            pct = lambda p: xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000
            print(f"  {name}: p50 {pct(50):.2f} ms  p90 {pct(90):.2f} ms  p99 {pct(99):.2f} ms  "
                  f"max {xs[-1] * 1000:.2f} ms")
        early = sum(1 for x in lat if x == 0.0)
        print(f"operations: {n}, device subscribed to s/ds at QoS 1, one at a time")
        report("REST call returned -> device received 510", lat)
        print(f"    ({early} of {n} arrived before the REST call had returned: counted as 0)")
        report("REST call started  -> device received 510", total)
        m211 = publish_bytes("s/us", b"211,25", 1)
        print(f"bytes on the wire, one '211,25' publish at QoS 1: {m211} + PUBACK {PUBACK} = "
              f"{m211 + PUBACK}")
        down = publish_bytes("s/ds", b"510,bench-op-1", 1)
        up1 = publish_bytes("s/us", b"501,c8y_Restart", 1)
        up2 = publish_bytes("s/us", b"503,c8y_Restart", 1)
        total = down + up1 + up2 + 3 * PUBACK
        print(f"bytes on the wire, one operation round trip at QoS 1: down {down} + 501 {up1} + "
              f"503 {up2} + 3 PUBACKs {3 * PUBACK} = {total}")
        dev.close()
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
