#!/usr/bin/env python3
"""Memory per connected device: the broker's resident set with N devices connected and idle,
without the plugin, with the do-nothing plugin (bench/floor/null_plugin.cc) and with mosquitto-c8y
(issue 13's per-node scale figures).

Each run starts a fresh /usr/sbin/mosquitto on 127.0.0.1, reads its VmRSS, then c8y_loadgen
connects N devices (client ids conn-0..conn-N-1, each its own serial; one device user) that each
send a few `211` measurements (so every device object exists, as after a real device's first
data) and stay connected; the broker's VmRSS is read again once every device is connected and
quiet. Per device = (RSS with the devices - RSS before) / N. The plugin's share is the plugin run
minus the run without a plugin.

usage: /usr/bin/python3 bench/conn_memory.py [N]    (default 9000; the loadgen needs 1 fd each)
       C8Y_BUILD_DIR=build (default) must hold mosquitto_c8y.so, bench/c8y_loadgen,
       bench/c8y_null_plugin.so
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(os.environ.get("C8Y_BUILD_DIR",
                                       os.path.join(os.path.dirname(__file__), "..", "build")))
LOADGEN = os.path.join(BUILD, "bench", "c8y_loadgen")
MOSQUITTO = "/usr/sbin/mosquitto"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    return int(subprocess.run([LOADGEN, "--free-port"], capture_output=True, text=True,
                              check=True).stdout)


def wait_port(port, timeout=20):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def run(label, n, plugin_lines):
    tmp = tempfile.mkdtemp(prefix="c8y-connmem-")
    port = free_port()
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
                "max_keepalive 3600\n" + plugin_lines(tmp))
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(tmp):
            shutil.chown(root, "mosquitto")
            for name in files:
                shutil.chown(os.path.join(root, name), "mosquitto")
        os.chmod(tmp, 0o755)
    log = open(os.path.join(tmp, "broker.log"), "wb")
    broker = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                                    (n + 1000, n + 1000)))
    try:
        assert wait_port(port), f"{label}: broker did not start"
        time.sleep(1)
        before = rss_kib(broker.pid)
        # Each device sends about three messages over the first 30 s (rate n/10 per second in
        # total), then the loadgen keeps the connections for the rest of the window.
        seconds, warmup = 40, 5
        gen = subprocess.Popen(
            [LOADGEN, "--port", str(port), "--devices", str(n), "--seconds", str(seconds),
             "--warmup", str(warmup), "--qos", "1", "--rate", str(max(1, n // 10)),
             "--connect-timeout", "120", "--keepalive", "600",
             "--user-format", "demo/device_a", "--password", "demo-device-pass",
             "--client-format", "conn-%d", "--payload-format", "211,%d"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, n + 1000)))
        samples = []
        deadline = time.time() + seconds + warmup + 120
        while gen.poll() is None and time.time() < deadline:
            samples.append(rss_kib(broker.pid))
            time.sleep(0.5)
        out, err = gen.communicate(timeout=30)
        if gen.returncode != 0:
            with open(os.path.join(tmp, "broker.log"), errors="replace") as f:
                tail = f.read()[-3000:]
            raise RuntimeError(f"{label}: loadgen failed: {err.strip()}\nbroker log:\n{tail}")
        peak = max(samples)
        # The plateau: the last quarter of the samples, while every device is connected.
        tail = samples[-max(4, len(samples) // 4):-2] or samples
        held = sum(tail) / len(tail)
        print(f"{label:24s} before {before / 1024:7.1f} MiB  with {n} devices {held / 1024:7.1f} MiB"
              f" (peak {peak / 1024:7.1f})  per device {(held - before) * 1024 / n:6.0f} bytes",
              flush=True)
        return (held - before) * 1024 / n
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            broker.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def provisioning(tmp):
    path = os.path.join(tmp, "provisioning.json")
    with open(path, "w") as f:
        f.write('{"tenants":[{"id":"demo","users":[{"name":"device_a",'
                '"password":"demo-device-pass","roles":["device"]}]}]}')
    return path


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    for path in (LOADGEN, os.path.join(BUILD, "mosquitto_c8y.so")):
        if not os.path.exists(path):
            sys.exit(f"no {path}: build the tree first")
    if len(sys.argv) > 2 and sys.argv[2] == "plugin-only":
        run("mosquitto-c8y", n, lambda tmp: (
            f"allow_zero_length_clientid false\nplugin {BUILD}/mosquitto_c8y.so\n"
            f"plugin_opt_data_dir {tmp}/data\nplugin_opt_rest_port 0\n"
            f"plugin_opt_provisioning_file {provisioning(tmp)}\n"))
        return
    bare = run("no plugin", n, lambda tmp: "allow_anonymous true\n")
    null = run("null plugin", n, lambda tmp: f"plugin {BUILD}/bench/c8y_null_plugin.so\n")
    c8y = run("mosquitto-c8y", n, lambda tmp: (
        f"allow_zero_length_clientid false\nplugin {BUILD}/mosquitto_c8y.so\n"
        f"plugin_opt_data_dir {tmp}/data\nplugin_opt_rest_port 0\n"
        f"plugin_opt_provisioning_file {provisioning(tmp)}\n"))
    print(f"the plugin's share: {c8y - bare:.0f} bytes per connected device "
          f"(the null plugin's: {null - bare:.0f})")


if __name__ == "__main__":
    main()
