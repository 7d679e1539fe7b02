#!/usr/bin/env python3
"""Moving a tenant between nodes (issue 13): how long the tenant is not served, and how long its
devices are without service, for a tenant with DEVICES connected devices and DEVICES x PER_DEVICE
stored measurements (defaults 1,000 and 1,000: a million).

Starts the cluster suite's cluster (tests/cluster/conftest.py: 3 etcd members, 3 nodes, HAProxy
2.6 and c8y-router, all on 127.0.0.1). Fills t1 (on n1) with c8y_loadgen (`211` at QoS 1,
PER_DEVICE per device, straight to n1), then holds DEVICES devices of t1 connected through
HAProxy (asyncio, a minimal MQTT 3.1.1 client each: every device publishes `211` at QoS 1 once a
second and reconnects every 50 ms while it is refused or cut off), and moves t1 to n2 through
the management API. Reports:
  - the move as the API answers it: bytes handed over, seconds the tenant was not served (from
    the fence on n1 to the flip of its placement);
  - per device, the gap from its disconnect by n1 to its first acknowledged message on n2
    (median, 99th percentile, max), and the time until every device was back;
  - the measurements of a sample of devices, read back on n2 through HAProxy.

usage: C8Y_PLUGIN=build/mosquitto_c8y.so C8Y_BUILD_DIR=build /usr/bin/python3 \
         bench/cluster_move_bench.py [DEVICES] [PER_DEVICE]
"""
import asyncio
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "cluster"))
from conftest import BUILD_DIR, HOST, Cluster  # noqa: E402

LOADGEN = os.path.join(BUILD_DIR, "bench", "c8y_loadgen")
TENANT, SOURCE, TARGET = "t1", "n1", "n2"
USER, PASSWORD = f"{TENANT}/device_a", f"{TENANT}-device-pass"


def fill(port, devices, per_device):
    args = [LOADGEN, "--port", str(port), "--devices", str(devices), "--messages",
            str(per_device), "--seconds", "25", "--warmup", "0", "--qos", "1",
            "--user-format", USER, "--password", PASSWORD, "--client-format", "mv-%d",
            "--payload-format", "211,%d", "--connect-timeout", "60", "--connect-rate", "2000"]
    t0 = time.time()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, t0


def remaining_length(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def connect_packet(client_id):
    var = utf8("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 60)
    payload = utf8(client_id) + utf8(USER) + utf8(PASSWORD)
    return bytes([0x10]) + remaining_length(len(var) + len(payload)) + var + payload


def publish_packet(pid, value):
    body = utf8("s/us") + struct.pack("!H", pid) + f"211,{value}".encode()
    return bytes([0x32]) + remaining_length(len(body)) + body


async def read_packet(reader):
    head = await reader.readexactly(1)
    mult, n = 1, 0
    while True:
        b = (await reader.readexactly(1))[0]
        n += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    return head[0], await reader.readexactly(n)


class Device:
    def __init__(self, i, port):
        self.id = f"mv-{i}"
        self.port = port
        self.lost_at = None   # the last disconnect, while its gap is open
        self.gaps = []        # seconds from a disconnect to the next acknowledged message
        self.acked = 0
        self.refused = 0
        self.value = 10**6

    async def run(self, stop):
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(HOST, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            try:
                writer.write(connect_packet(self.id))
                kind, body = await asyncio.wait_for(read_packet(reader), 10)
                if kind >> 4 != 2 or body[1] != 0:
                    self.refused += 1
                    raise ConnectionError("refused")
                pid = 0
                while not stop.is_set():
                    pid = pid % 65535 + 1
                    self.value += 1
                    writer.write(publish_packet(pid, self.value))
                    kind, body = await asyncio.wait_for(read_packet(reader), 10)
                    if kind >> 4 == 4:
                        self.acked += 1
                        if self.lost_at is not None:
                            self.gaps.append(time.time() - self.lost_at)
                            self.lost_at = None
                    try:
                        await asyncio.wait_for(reader.read(1), 1.0)  # EOF: cut off
                        raise ConnectionError("closed")
                    except asyncio.TimeoutError:
                        pass
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, OSError):
                if self.lost_at is None and self.acked > 0:
                    self.lost_at = time.time()
            finally:
                writer.close()
            await asyncio.sleep(0.05)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p))] if v else float("nan")


async def hold_and_move(c, devices):
    stop = asyncio.Event()
    devs = [Device(i, c.haproxy.mqtt) for i in range(devices)]
    tasks = [asyncio.create_task(d.run(stop)) for d in devs]
    t0 = time.time()
    while sum(1 for d in devs if d.acked > 0) < devices and time.time() - t0 < 120:
        await asyncio.sleep(0.2)
    print(f"  {sum(1 for d in devs if d.acked > 0)} devices connected through HAProxy and "
          f"publishing once a second ({time.time() - t0:.1f} s)")
    await asyncio.sleep(2)
    loop = asyncio.get_running_loop()
    start = time.time()
    st, body = await loop.run_in_executor(None, lambda: c.rest(
        f"/tenant/tenants/{TENANT}/move", "management/admin", "management-admin-pass",
        method="POST", body={"node": TARGET}))
    answered = time.time() - start
    print(f"move {TENANT} {SOURCE} -> {TARGET}: HTTP {st} after {answered:.3f} s: "
          f"{json.dumps(body)}")
    while any(d.lost_at is not None or not d.gaps for d in devs) and time.time() - start < 120:
        await asyncio.sleep(0.1)
    everyone = time.time() - start
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    gaps = [g for d in devs for g in d.gaps]
    back = sum(1 for d in devs if d.gaps)
    print(f"  devices back with an acknowledged message on {TARGET}: {back}/{devices}, all within "
          f"{everyone:.3f} s of the move request")
    print(f"  per device, disconnect -> next acknowledged message: median {pct(gaps, 0.5):.3f} s, "
          f"p99 {pct(gaps, 0.99):.3f} s, max {max(gaps) if gaps else float('nan'):.3f} s; "
          f"refused CONNACKs meanwhile {sum(d.refused for d in devs)}")


def main():
    devices = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    per_device = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    c = Cluster()
    try:
        c.start()
        print(f"fill: {devices} devices x {per_device} measurements into {TENANT} on {SOURCE}")
        proc, t0 = fill(c.nodes[SOURCE].port, devices, per_device)
        # The loadgen stays connected for its whole window; it is done once every device sent
        # its messages and they are acknowledged, which its own counters cannot tell early, so
        # the window is bounded and its result read at the end.
        out, err = proc.communicate(timeout=180)
        r = json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 else None
        if not r:
            raise RuntimeError(f"loadgen failed: {err[-2000:]}")
        print(f"  {r['total_acked']} acknowledged in {time.time() - t0:.1f} s")
        asyncio.run(hold_and_move(c, devices))
        for i in range(0, devices, max(1, devices // 10)):
            st, body = c.rest(f"/identity/externalIds/c8y_Serial/mv-{i}", *("t1/admin",
                                                                             "t1-admin-pass"))
            assert st == 200, body
            src = body["managedObject"]["id"]
            st, body = c.rest(f"/measurement/measurements?source={src}&pageSize=2000",
                              "t1/admin", "t1-admin-pass")
            assert st == 200, body
            n = len(body["measurements"])
            print(f"  mv-{i}: {n} measurements on {TARGET}"
                  f"{'' if n >= per_device else '  <-- MISSING'}")
    finally:
        c.stop()


if __name__ == "__main__":
    main()
