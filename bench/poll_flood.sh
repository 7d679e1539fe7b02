#!/usr/bin/env bash
# Bootstrap poll flood (empty publishes on s/ucr by management/devicebootstrap): do devices
# notice when pollers hammer s/ucr?
#
# One broker with the plugin. Devices publish a paced QoS 1 '211' load and the loadgen measures
# their PUBACK latency: first alone, then while FLOOD bootstrap connections (registered serials,
# requests never accepted) publish empty s/ucr messages as fast as their window allows and
# reconnect whenever the broker throws them out. The plugin answers at most one poll per
# connection per plugin_opt_bootstrap_poll_interval and disconnects connections that keep
# polling faster; it never sleeps on the broker thread.
#
# usage: bench/poll_flood.sh        env: FLOOD (50) DEVICES (50) RATE (10000) SECONDS_EACH (20)
#                                        BENCH_BROKER_CPU (0) BENCH_LOADGEN_CPU (1)
# All traffic stays on 127.0.0.1; the broker is killed on exit.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$REPO/build"
LOADGEN="$BUILD/bench/c8y_loadgen"
PLUGIN_SO="$BUILD/mosquitto_c8y.so"
FLOOD="${FLOOD:-50}"
DEVICES="${DEVICES:-50}"
RATE="${RATE:-10000}"
SECS="${SECONDS_EACH:-20}"
BROKER_CPU="${BENCH_BROKER_CPU:-0}"
LOADGEN_CPU="${BENCH_LOADGEN_CPU:-1}"
SECRET=bench-bootstrap-secret-0123
for v in FLOOD DEVICES RATE SECS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "poll_flood.sh: $v must be a positive integer" >&2; exit 2; }
done
[[ -x "$LOADGEN" && -f "$PLUGIN_SO" ]] || { echo "build first: cmake --build build" >&2; exit 1; }

WORK="$(mktemp -d /tmp/c8y-flood.XXXXXX)"
chmod 755 "$WORK"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cp "$PLUGIN_SO" "$WORK/plugin.so" && chmod 644 "$WORK/plugin.so"
mkdir "$WORK/data"
printf '%s\n' "$SECRET" >"$WORK/secret" && chmod 600 "$WORK/secret"
{
  printf '{"tenants":[{"id":"demo","users":[{"name":"admin","password":"bench-admin-pass","roles":["admin"]}'
  for ((i = 0; i < DEVICES; i++)); do
    printf ',{"name":"device_bench-%d","password":"bench-pass","roles":["device"]}' "$i"
  done
  printf ']}]}\n'
} >"$WORK/prov.json"
[[ "$(id -u)" == 0 ]] && chown -R mosquitto: "$WORK/data" "$WORK/secret" "$WORK/prov.json"
PORT="$("$LOADGEN" --free-port)"
REST="$("$LOADGEN" --free-port)"
cat >"$WORK/mosquitto.conf" <<EOF
listener $PORT 127.0.0.1
allow_zero_length_clientid false
per_listener_settings false
persistence false
set_tcp_nodelay true
log_dest stderr
plugin $WORK/plugin.so
plugin_opt_data_dir $WORK/data
plugin_opt_rest_port $REST
plugin_opt_rest_bind 127.0.0.1
plugin_opt_provisioning_file $WORK/prov.json
plugin_opt_bootstrap_secret_file $WORK/secret
EOF
chmod 644 "$WORK/mosquitto.conf"
/usr/sbin/mosquitto -c "$WORK/mosquitto.conf" >"$WORK/broker.log" 2>&1 &
PID=$!
for _ in $(seq 150); do ss -Hltn "sport = :$REST" | grep -q . && break; sleep 0.1; done
taskset -p -c "$BROKER_CPU" "$PID" >/dev/null

# Register the flood's serials (requests stay WAITING/PENDING: nobody accepts them).
/usr/bin/python3 - "$REST" "$FLOOD" <<'EOF'
import base64, json, sys, urllib.request
port, n = sys.argv[1], int(sys.argv[2])
auth = "Basic " + base64.b64encode(b"demo/admin:bench-admin-pass").decode()
for i in range(n):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/devicecontrol/newDeviceRequests",
                                 data=json.dumps({"id": f"flood-{i}"}).encode(), method="POST",
                                 headers={"Authorization": auth, "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
EOF

measure=(taskset -c "$LOADGEN_CPU" "$LOADGEN" --port "$PORT" --devices "$DEVICES" --seconds "$SECS"
  --warmup 2 --rate "$RATE" --qos 1 --user-format 'demo/device_bench-%d' --password bench-pass
  --client-format 'bench-%d' --topic s/us --payload-format '211,%d')
flood=(taskset -c "$LOADGEN_CPU" "$LOADGEN" --port "$PORT" --devices "$FLOOD" --seconds "$((SECS + 2))"
  --warmup 0 --window 20 --qos 1 --user-format 'management/devicebootstrap' --password "$SECRET"
  --client-format 'flood-%d' --topic s/ucr --payload-format '' --reconnect 1 --broker-pid "$PID")

field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"; }
echo "[flood] devices alone: ${DEVICES} devices, ${RATE} msg/s, ${SECS} s" >&2
alone="$("${measure[@]}")"
echo "[flood] devices with ${FLOOD} bootstrap pollers flooding s/ucr" >&2
"${flood[@]}" >"$WORK/flood.json" &
FPID=$!
sleep 1
with="$("${measure[@]}")"
wait "$FPID"
floodj="$(cat "$WORK/flood.json")"

echo
echo "Bootstrap poll flood: ${DEVICES} devices at ${RATE} QoS 1 '211' msg/s (PUBACK latency, us),"
echo "alone and while ${FLOOD} bootstrap connections poll s/ucr as fast as they can (window 20,"
echo "reconnecting when disconnected). Broker event loop on CPU ${BROKER_CPU}, both loadgens on CPU ${LOADGEN_CPU}."
printf '%-22s %9s %7s %7s %7s %8s %8s\n' run rate p50 p90 p99 p99.9 max
for run in alone with; do
  j="${!run}"
  printf '%-22s %9s %7s %7s %7s %8s %8s\n' "devices $run" "$(field "$j" rate)" \
    "$(field "$j" puback_us_p50)" "$(field "$j" puback_us_p90)" "$(field "$j" puback_us_p99)" \
    "$(field "$j" puback_us_p999)" "$(field "$j" puback_us_max)"
done
echo "flood: $(field "$floodj" total_sent) polls sent, $(field "$floodj" reconnects) reconnects" \
  "(disconnected for polling too fast), broker CPU $(field "$floodj" broker_cpu_pct) %"
echo "plugin log lines about the kicks (rate-limited to about one a second):" \
  "$(grep -c "polls faster" "$WORK/broker.log" || true)"
echo
echo "raw: alone $alone"
echo "raw: with  $with"
echo "raw: flood $floodj"
