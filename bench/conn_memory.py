#!/usr/bin/env python3
"""Memory per connected device: the broker's resident set with N devices connected and idle,
without the plugin, with the do-nothing plugin (bench/floor/null_plugin.cc) and with mosquitto-c8y
(issue 13's per-node scale figures).

Each run starts a fresh /usr/sbin/mosquitto on 127.0.0.1 and reads its memory, then c8y_loadgen
connects N devices, paced (client ids conn-0..conn-N-1, each its own serial; one device user), each
of which sends three `211` measurements (so every device object exists, as after a real device's
first data) and then stays connected and idle. Once every device is connected and has been quiet
for a while, the broker's memory is read again over 15 s. Per device = (RSS with the devices -
RSS before) / N. The plugin's share is the plugin run minus the run without a plugin.

RSS is VmRSS of /proc/<pid>/status: anonymous memory (heap, thread stacks, RocksDB's memtables
and block cache) plus mapped file pages (the ingest log's ring, mapped and touched at start, and
the shared libraries). The table prints the anonymous part's growth next to it: the file part
does not grow with devices.

usage: /usr/bin/python3 bench/conn_memory.py [N] [plugin-only] [--known] [--users] [--details]
  N             devices (default 9000); more than 9,000 are spread over several loadgen
                processes (one fd each, at most --per-process each); the broker gets an fd limit
                of N + 1000, so N stops at 19,000 here (hard limit 20,000 per process)
  plugin-only   only the mosquitto-c8y run
  --known       mosquitto-c8y only, twice on one data directory: the first run registers the
                devices (new device objects: memtable writes), the second one, a broker restarted
                on that data, measures the same devices reconnecting as known devices
  --users       one device user per device (provisioned: device_<p>_<i>), as devices registered
                through bootstrap have; RSS before the devices then holds the users' records
  --details     for the plugin runs: RocksDB's memtables and block cache (GET /metrics), glibc's
                malloc_info (through gdb, briefly stopping the broker) and /proc/<pid>/smaps_rollup
  C8Y_BUILD_DIR=build (default) must hold mosquitto_c8y.so, bench/c8y_loadgen,
  bench/c8y_null_plugin.so; CONN_MEMORY_EXTRA_CONF: lines added to the plugin runs' config.
"""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = os.path.abspath(os.environ.get("C8Y_BUILD_DIR",
                                       os.path.join(os.path.dirname(__file__), "..", "build")))
LOADGEN = os.path.join(BUILD, "bench", "c8y_loadgen")
MOSQUITTO = "/usr/sbin/mosquitto"
PER_PROCESS = 9000
# Connections per second and loadgen process (a paced load); CONN_MEMORY_CONNECT_RATE=0 opens
# them all at once, which overflows Mosquitto's listen backlog of 100 (see tcp_counters).
CONNECT_RATE = int(os.environ.get("CONN_MEMORY_CONNECT_RATE", "2000"))
MESSAGES = 3         # measurements per device, then idle
QUIET = 12           # seconds after the last measurement before the plateau is read
PLATEAU = 15         # seconds of samples


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads"):
                out[k] = int(v.split()[0])
    return out


TCP_COUNTERS = ("TcpExtListenOverflows", "TcpExtTCPReqQFullDoCookies", "TcpEstabResets")


def tcp_counters():
    """The host's TCP counters that tell an overflowing listen queue (nstat, absolute values):
    SYNs and handshakes the accept queue had no room for, SYN cookies sent instead, resets."""
    try:
        out = subprocess.run(["nstat", "-az", *TCP_COUNTERS], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
            if line.split() and line.split()[0] in TCP_COUNTERS}


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def free_port():
    return int(subprocess.run([LOADGEN, "--free-port"], capture_output=True, text=True,
                              check=True).stdout)


def wait_port(port, timeout=60):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def metrics(rest_port):
    if not rest_port:
        return {}
    text = urllib.request.urlopen(f"http://127.0.0.1:{rest_port}/metrics", timeout=10).read()
    out = {}
    for line in text.decode().splitlines():
        m = re.match(r"(c8y_rocksdb_\w+|c8y_devices_connected\S*) (\S+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


PROBE = os.path.join(BUILD, "bench", "c8y_malloc_probe.so")


def malloc_info(tmp, trim=False):
    """glibc's malloc_info of the broker, written by bench/memprobe/malloc_probe.cc (preloaded
    into the broker with --details): per arena, the memory it holds and how much of it is free."""
    path = os.path.join(tmp, "malloc_info.xml")
    if os.path.exists(path):
        os.unlink(path)
    with open(os.path.join(tmp, "malloc_probe.trigger"), "w") as f:
        f.write("trim" if trim else "info")
    deadline = time.time() + 10
    while not os.path.exists(path):
        if time.time() > deadline:
            raise OSError("the probe wrote no malloc_info")
        time.sleep(0.1)
    with open(path) as f:
        xml = f.read()
    heaps = re.findall(r'<heap nr="(\d+)">(.*?)</heap>', xml, re.S)
    out = []
    for nr, body in heaps:
        fast = re.search(r'<total type="fast" count="\d+" size="(\d+)"/>', body)
        rest = re.search(r'<total type="rest" count="\d+" size="(\d+)"/>', body)
        cur = re.search(r'<system type="current" size="(\d+)"/>', body)
        out.append((int(nr), int(cur.group(1)) if cur else 0,
                    (int(fast.group(1)) if fast else 0) + (int(rest.group(1)) if rest else 0)))
    mmap = re.search(r'<total type="mmap" count="(\d+)" size="(\d+)"/>', xml)
    return out, (int(mmap.group(1)), int(mmap.group(2))) if mmap else (0, 0)


def detail(label, pid, rest_port, tmp, trim=True):
    try:
        m = metrics(rest_port)
        if m:
            print(f"    {label}: memtables {m.get('c8y_rocksdb_memtable_bytes', 0) / 1048576:.1f} MiB,"
                  f" block cache {m.get('c8y_rocksdb_block_cache_bytes', 0) / 1048576:.1f} MiB",
                  flush=True)
    except OSError as e:
        print(f"    {label}: no /metrics ({e})")
    try:
        for trim in (False, True)[:2 if trim else 1]:
            rss = status(pid)
            heaps, (mmap_n, mmap_b) = malloc_info(tmp, trim)
            parts = ", ".join(f"{nr}: {size / 1048576:.1f} ({free / 1048576:.1f} free)"
                              for nr, size, free in heaps)
            print(f"    {label}: {'after malloc_trim: ' if trim else ''}RSS {rss['VmRSS'] / 1024:.1f}"
                  f" MiB (anonymous {rss['RssAnon'] / 1024:.1f}); malloc arenas MiB [{parts}];"
                  f" mmapped chunks {mmap_n}, {mmap_b / 1048576:.1f} MiB", flush=True)
            if trim:
                time.sleep(0.5)
                rss = status(pid)
                print(f"    {label}: RSS after the trim {rss['VmRSS'] / 1024:.1f} MiB"
                      f" (anonymous {rss['RssAnon'] / 1024:.1f})", flush=True)
    except OSError as e:
        print(f"    {label}: no malloc_info ({e})")


def start_broker(tmp, port, n, plugin_lines, probe=False):
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\npersistence false\nlog_dest stderr\nlog_type error\n"
                "log_type warning\nlog_type notice\nmax_keepalive 3600\n" + plugin_lines)
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(tmp):
            shutil.chown(root, "mosquitto")
            for name in files:
                shutil.chown(os.path.join(root, name), "mosquitto")
        os.chmod(tmp, 0o755)
    log = open(os.path.join(tmp, "broker.log"), "ab")
    limit = n + 1000
    env = dict(os.environ)
    if probe:
        env["LD_PRELOAD"] = PROBE
        env["C8Y_MALLOC_PROBE"] = tmp
    return subprocess.Popen([MOSQUITTO, "-c", conf], stdout=log, stderr=subprocess.STDOUT, env=env,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                                  (limit, limit)))


def run(label, n, plugin_lines, tmp=None, rest=False, details=False):
    keep = tmp is not None
    tmp = tmp or tempfile.mkdtemp(prefix="c8y-connmem-")
    port = free_port()
    rest_port = free_port() if rest else 0
    lines = plugin_lines(tmp)
    if "mosquitto_c8y.so" in lines:
        lines += f"plugin_opt_rest_port {rest_port}\n"  # 0: no REST server
    broker = start_broker(tmp, port, n, lines, probe=details)
    gens = []
    try:
        assert wait_port(port), f"{label}: broker did not start"
        time.sleep(1)
        if details:
            detail(label + " before", broker.pid, rest_port, tmp, trim=False)
        before = status(broker.pid)
        fds0 = fd_count(broker.pid)
        procs = (n + PER_PROCESS - 1) // PER_PROCESS
        # The loadgen publishes once all its devices are connected: MESSAGES per device at
        # n/10 per second in total (10 s per message), then the devices are idle until it ends.
        publish_s = MESSAGES * 10
        hold = publish_s + QUIET + PLATEAU + 10
        for p in range(procs):
            count = n // procs + (1 if p < n % procs else 0)
            fmt = "conn-%d" if procs == 1 else f"conn-{p}-%d"
            gens.append(subprocess.Popen(
                [LOADGEN, "--port", str(port), "--devices", str(count), "--seconds", str(hold),
                 "--warmup", "0", "--qos", "1", "--rate", str(max(1, count // 10)),
                 "--messages", str(MESSAGES), "--connect-rate", str(CONNECT_RATE),
                 "--connect-timeout", "300", "--keepalive", "600",
                 "--user-format", f"demo/device_{p}_%d" if USERS else "demo/device_a",
                 "--password", "demo-device-pass",
                 "--client-format", fmt, "--payload-format", "211,%d"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                      (count + 1000, count + 1000))))
        t_start = time.time()
        tcp0 = tcp_counters()
        peak = 0
        while fd_count(broker.pid) < fds0 + n:
            if any(g.poll() is not None for g in gens) or time.time() - t_start > 600:
                raise RuntimeError(f"{label}: only {fd_count(broker.pid) - fds0} of {n} connected")
            peak = max(peak, status(broker.pid)["VmRSS"])
            time.sleep(0.5)
        connect_s = time.time() - t_start
        tcp1 = tcp_counters()
        tcp = ", ".join(f"{k.replace('TcpExt', '')} +{tcp1[k] - tcp0.get(k, 0)}" for k in tcp1)
        # Every device is connected: wait until they have sent their measurements and been quiet.
        quiet_until = time.time() + publish_s + QUIET
        while time.time() < quiet_until:
            peak = max(peak, status(broker.pid)["VmRSS"])
            time.sleep(0.5)
        samples = []
        plateau_end = time.time() + PLATEAU
        while time.time() < plateau_end:
            samples.append(status(broker.pid))
            time.sleep(0.5)
        connected = fd_count(broker.pid) - fds0
        if details:
            detail(label, broker.pid, rest_port, tmp)
        failures = []
        for g in gens:
            out, err = g.communicate(timeout=hold + 300)
            if g.returncode != 0:
                failures.append(err.strip())
        if failures:
            with open(os.path.join(tmp, "broker.log"), errors="replace") as f:
                tail = f.read()[-3000:]
            raise RuntimeError(f"{label}: loadgen failed: {failures}\nbroker log:\n{tail}")

        def avg(key):
            return sum(s[key] for s in samples) / len(samples)

        held, anon = avg("VmRSS"), avg("RssAnon")
        per = (held - before["VmRSS"]) * 1024 / n
        per_anon = (anon - before["RssAnon"]) * 1024 / n
        print(f"{label:24s} before {before['VmRSS'] / 1024:7.1f} MiB  with {n} devices"
              f" {held / 1024:7.1f} MiB (peak {max(peak, max(s['VmRSS'] for s in samples)) / 1024:6.1f})"
              f"  per device {per:6.0f} bytes (anonymous {per_anon:5.0f}); connected {connected}"
              f" in {connect_s:.0f} s", flush=True)
        if tcp:
            print(f"    {label}: while connecting (whole host): {tcp}", flush=True)
        return per
    finally:
        for g in gens:
            if g.poll() is None:
                g.kill()
        broker.terminate()
        try:
            broker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            broker.kill()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


USERS = 0  # --users: one device user per device (device_<p>_<i>), else one shared user


def user_names(n):
    procs = (n + PER_PROCESS - 1) // PER_PROCESS
    for p in range(procs):
        for i in range(n // procs + (1 if p < n % procs else 0)):
            yield f"device_{p}_{i}"


def provisioning(tmp):
    path = os.path.join(tmp, "provisioning.json")
    names = list(user_names(USERS)) if USERS else ["device_a"]
    users = ",".join('{"name":"%s","password":"demo-device-pass","roles":["device"]}' % u
                     for u in names)
    with open(path, "w") as f:
        f.write('{"tenants":[{"id":"demo","users":[' + users + ']}]}')
    return path


def c8y_lines(tmp):
    return (f"allow_zero_length_clientid false\nplugin {BUILD}/mosquitto_c8y.so\n"
            f"plugin_opt_data_dir {tmp}/data\n"
            f"plugin_opt_provisioning_file {provisioning(tmp)}\n"
            + os.environ.get("CONN_MEMORY_EXTRA_CONF", "").replace("\\n", "\n")
            + ("\n" if os.environ.get("CONN_MEMORY_EXTRA_CONF") else ""))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    n = int(args[0]) if args else 9000
    details = "--details" in flags
    global USERS
    USERS = n if "--users" in flags else 0
    for path in (LOADGEN, os.path.join(BUILD, "mosquitto_c8y.so")):
        if not os.path.exists(path):
            sys.exit(f"no {path}: build the tree first")
    if "--known" in flags:
        tmp = tempfile.mkdtemp(prefix="c8y-connmem-")
        try:
            run("mosquitto-c8y (new)", n, c8y_lines, tmp, rest=details, details=details)
            run("mosquitto-c8y (known)", n, c8y_lines, tmp, rest=details, details=details)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    if len(args) > 1 and args[1] == "plugin-only":
        run("mosquitto-c8y", n, c8y_lines, rest=details, details=details)
        return
    bare = run("no plugin", n, lambda tmp: "allow_anonymous true\n")
    null = run("null plugin", n, lambda tmp: f"plugin {BUILD}/bench/c8y_null_plugin.so\n")
    c8y = run("mosquitto-c8y", n, c8y_lines, rest=details, details=details)
    print(f"the plugin's share: {c8y - bare:.0f} bytes per connected device "
          f"(the null plugin's: {null - bare:.0f})")


if __name__ == "__main__":
    main()
