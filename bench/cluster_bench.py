#!/usr/bin/env python3
"""Cluster figures (issue 13): ingest through HAProxy against straight to the node, connects per
second through HAProxy with the credential cache warm, and etcd requests per CONNECT.

Starts the cluster suite's cluster (tests/cluster/conftest.py: 3 etcd members, 3 nodes, HAProxy
2.6 and c8y-router, all on 127.0.0.1). Ingest: c8y_loadgen with DEVICES devices of t1 publishing
`211` at QoS 1 as fast as they can, alternately straight to t1's node and through HAProxy's MQTT
port, ROUNDS times each (same cluster, same sitting). Connects: CONNECTS devices offered at CLUSTER_BENCH_CONNECT_RATE per second (default 20,000) through
HAProxy, then again (credential cache warm, client ids known), straight to the node and through
HAProxy once more. etcd: the requests all members
served (gRPC calls started, which the JSON gateway's requests are) during the connect runs,
against the same time with no connects (the nodes' agents and the router run all the time).

usage: C8Y_PLUGIN=build/mosquitto_c8y.so C8Y_BUILD_DIR=build /usr/bin/python3 bench/cluster_bench.py \
         [SECONDS] [DEVICES] [ROUNDS] [CONNECTS]
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "cluster"))
from conftest import BUILD_DIR, HOST, Cluster  # noqa: E402

LOADGEN = os.path.join(BUILD_DIR, "bench", "c8y_loadgen")


def loadgen(port, devices, seconds, prefix, connect_rate=0):
    args = [LOADGEN, "--port", str(port), "--devices", str(devices), "--seconds", str(seconds),
            "--warmup", "1", "--qos", "1", "--user-format", "t1/device_a",
            "--password", "t1-device-pass", "--client-format", prefix + "-%d",
            "--payload-format", "211,%d", "--connect-timeout", "60"]
    if connect_rate:
        args += ["--connect-rate", str(connect_rate)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def etcd_requests(cluster):
    total = 0
    for m in cluster.etcd.names:
        with urllib.request.urlopen(f"http://{HOST}:{cluster.etcd.client[m]}/metrics",
                                    timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("grpc_server_started_total{"):
                    total += float(line.split()[-1])
    return total


def listen_overflows():
    """The kernel's count of connections dropped because a listen queue was full."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for head, values in zip(lines[::2], lines[1::2]):
        if head.startswith("TcpExt:"):
            return int(dict(zip(head.split()[1:], values.split()[1:]))["ListenOverflows"])
    return 0


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    devices = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    connects = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    # Connects are offered at this rate (c8y_loadgen --connect-rate; 0: all at once, which
    # overruns Mosquitto's listen backlog of 100 and measures SYN retransmissions instead).
    connect_rate = int(os.environ.get("CLUSTER_BENCH_CONNECT_RATE", "20000"))
    c = Cluster()
    try:
        c.start()
        n1 = c.nodes["n1"]
        print(f"ingest: {devices} devices of t1, 211 at QoS 1, {seconds} s per run")
        direct, proxied = [], []
        for i in range(rounds):
            d = loadgen(n1.port, devices, seconds, f"d{i}")["rate"]
            h = loadgen(c.haproxy.mqtt, devices, seconds, f"h{i}")["rate"]
            direct.append(d)
            proxied.append(h)
            print(f"  round {i + 1}: straight to n1 {d:9.0f} msg/s   through HAProxy {h:9.0f} "
                  f"msg/s   ratio {h / d:.3f}")
        print(f"  mean ratio {sum(proxied) / sum(direct):.3f}")
        print(f"connects: {connects} devices offered at {connect_rate}/s (the same client ids "
              "each run)")
        for label, port in (("first, through HAProxy", c.haproxy.mqtt),
                            ("again, through HAProxy", c.haproxy.mqtt),
                            ("again, straight to n1", n1.port),
                            ("again, through HAProxy", c.haproxy.mqtt)):
            time.sleep(3)  # the previous run's 1,000 disconnects handled first
            before, t0, overflows = etcd_requests(c), time.time(), listen_overflows()
            r = loadgen(port, connects, 1, "c", connect_rate)
            overflows = listen_overflows() - overflows
            after, t1 = etcd_requests(c), time.time()
            time.sleep(0.5)
            idle0 = etcd_requests(c)
            time.sleep(t1 - t0)
            idle = etcd_requests(c) - idle0
            busy = after - before
            print(f"  {label:24s} {connects / r['connect_seconds']:8.0f} connects/s "
                  f"({r['connect_seconds']:.3f} s); etcd requests during the run {busy:.0f}, "
                  f"in as long idle {idle:.0f}: {(busy - idle) / connects:+.4f} per CONNECT; "
                  f"listen queue overflows {overflows}")
    finally:
        c.stop()


if __name__ == "__main__":
    main()
