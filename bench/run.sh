#!/usr/bin/env bash
# Benchmark: the same mosquitto 2.0.11 under the same load, without and with the mosquitto-c8y
# plugin, once per durability setting. Prints rates, their ratio and the broker's CPU use.
#
# usage: bench/run.sh [--seconds N] [--devices N] [--warmup N] [--window N] [--durability "wal batched"]
# env:   BENCH_SECONDS (10) BENCH_DEVICES (100) BENCH_WARMUP (2) BENCH_WINDOW (20)
#        BENCH_DURABILITY ("wal batched")  BENCH_BROKER_CPU (0)  BENCH_LOADGEN_CPU (1)
#        BENCH_EXTRA_CONF  extra mosquitto.conf lines added to BOTH configs (e.g. set_tcp_nodelay true)
#        BENCH_NO_BUILD=1  use the existing binaries, build nothing
#        BENCH_KEEP=1      keep the temp dir (configs, logs, RocksDB data) after the run
#
# All traffic stays on 127.0.0.1; every broker started here is killed on exit.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$REPO/build"
MOSQUITTO=/usr/sbin/mosquitto

SECS="${BENCH_SECONDS:-10}"
DEVICES="${BENCH_DEVICES:-100}"
WARMUP="${BENCH_WARMUP:-2}"
WINDOW="${BENCH_WINDOW:-20}"
DURABILITY="${BENCH_DURABILITY:-wal batched}"
BROKER_CPU="${BENCH_BROKER_CPU:-0}"
LOADGEN_CPU="${BENCH_LOADGEN_CPU:-1}"
PASSWORD=bench-pass
START_TIMEOUT=30  # seconds for the broker (and the plugin opening RocksDB) to listen

while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECS="$2"; shift 2 ;;
    --devices) DEVICES="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --durability) DURABILITY="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in SECS DEVICES WARMUP WINDOW BROKER_CPU LOADGEN_CPU; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a non-negative integer, got '${!v}'" >&2; exit 2; }
done
[[ "$SECS" -ge 1 && "$DEVICES" -ge 1 && "$WINDOW" -ge 1 ]] || { echo "run.sh: seconds, devices, window must be >= 1" >&2; exit 2; }

log() { echo "[bench] $*" >&2; }
die() { echo "[bench] ERROR: $*" >&2; exit 1; }

[[ -x "$MOSQUITTO" ]] || die "$MOSQUITTO not found"
command -v taskset >/dev/null || die "taskset not found (util-linux)"
command -v ss >/dev/null || die "ss not found (iproute2)"

# ---- build ------------------------------------------------------------------------------------
LOADGEN=""
PLUGIN_SO="$BUILD/mosquitto_c8y.so"
PLUGIN_BUILD_NOTE=""
build() {
  if [[ "${BENCH_NO_BUILD:-0}" == 1 ]]; then
    return
  fi
  if [[ ! -f "$BUILD/Makefile" && ! -f "$BUILD/build.ninja" ]]; then
    log "configuring the project in $BUILD"
    cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake-configure.log" 2>&1 \
      || log "top-level configure failed (see $WORK/cmake-configure.log); will build the loadgen standalone"
  fi
  if [[ -f "$BUILD/Makefile" || -f "$BUILD/build.ninja" ]]; then
    log "building c8y_loadgen in $BUILD"
    cmake --build "$BUILD" --target c8y_loadgen >"$WORK/build-loadgen.log" 2>&1 \
      || log "building c8y_loadgen in $BUILD failed (see $WORK/build-loadgen.log)"
    log "building mosquitto_c8y in $BUILD (if it exists yet)"
    if ! cmake --build "$BUILD" --target mosquitto_c8y >"$WORK/build-plugin.log" 2>&1; then
      PLUGIN_BUILD_NOTE="building mosquitto_c8y failed: $(tail -n 3 "$WORK/build-plugin.log" | tr '\n' ' ')"
      log "$PLUGIN_BUILD_NOTE"
    fi
  fi
  if [[ ! -x "$BUILD/bench/c8y_loadgen" ]]; then
    log "building c8y_loadgen standalone in $BUILD/bench-standalone"
    if ! { cmake -S "$REPO/bench" -B "$BUILD/bench-standalone" -DCMAKE_BUILD_TYPE=Release &&
      cmake --build "$BUILD/bench-standalone"; } >"$WORK/build-standalone.log" 2>&1; then
      cat "$WORK/build-standalone.log" >&2
      die "could not build c8y_loadgen"
    fi
  fi
}

# ---- broker lifecycle -------------------------------------------------------------------------
BROKER_PIDS=()
WORK=""
FAILED=1
cleanup() {
  local pid
  for pid in "${BROKER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    if [[ "${BENCH_KEEP:-0}" == 1 || "$FAILED" == 1 ]]; then
      log "temp dir kept: $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BROKER_PID=""
# start_broker <conf> <log>: starts mosquitto pinned to BROKER_CPU, waits until it listens.
start_broker() {
  local conf="$1" blog="$2" port="$3"
  taskset -c "$BROKER_CPU" "$MOSQUITTO" -c "$conf" >"$blog" 2>&1 &
  BROKER_PID=$!
  BROKER_PIDS+=("$BROKER_PID")
  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
      local rc=0
      wait "$BROKER_PID" || rc=$?
      echo "---- $conf" >&2; cat "$conf" >&2
      echo "---- broker log ($blog)" >&2; cat "$blog" >&2
      die "mosquitto exited during startup (exit code $rc)"
    fi
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      echo "---- $conf" >&2; cat "$conf" >&2
      echo "---- broker log ($blog)" >&2; cat "$blog" >&2
      die "mosquitto (pid $BROKER_PID) not listening on 127.0.0.1:$port after ${START_TIMEOUT}s"
    fi
    sleep 0.1
  done
}

stop_broker() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker $pid did not stop within 15 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

json_field() {  # json_field <json> <name> -> value or "-"
  local v
  v="$(sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1")"
  echo "${v:--}"
}

COMMANDS=()
# run_loadgen <port> <label> <out-json-var>
LAST_JSON=""
run_loadgen() {
  local port="$1" label="$2" blog="$3"
  local cmd=(taskset -c "$LOADGEN_CPU" "$LOADGEN" --host 127.0.0.1 --port "$port"
    --devices "$DEVICES" --seconds "$SECS" --warmup "$WARMUP" --window "$WINDOW" --qos 1
    --user-format 'demo/device_bench-%d' --password "$PASSWORD" --client-format 'bench-%d'
    --topic s/us --payload-format '211,%d' --broker-pid "$BROKER_PID")
  COMMANDS+=("$label: $(printf '%q ' "${cmd[@]}")")
  log "$label: loadgen running for ${WARMUP}+${SECS} s"
  local rc=0
  LAST_JSON="$(timeout $((SECS + WARMUP + 60)) "${cmd[@]}" 2>"$WORK/loadgen-err.txt")" || rc=$?
  if [[ $rc -ne 0 ]]; then
    cat "$WORK/loadgen-err.txt" >&2
    echo "---- broker log ($blog)" >&2; tail -n 50 "$blog" >&2
    die "$label: loadgen failed (exit code $rc)"
  fi
  log "$label: $LAST_JSON"
}

# ---- main -------------------------------------------------------------------------------------
WORK="$(mktemp -d /tmp/c8y-bench.XXXXXX)"
chmod 755 "$WORK"
build
if [[ -z "$LOADGEN" ]]; then
  for c in "$BUILD/bench/c8y_loadgen" "$BUILD/bench-standalone/c8y_loadgen"; do
    [[ -x "$c" ]] && { LOADGEN="$c"; break; }
  done
fi
[[ -n "$LOADGEN" ]] || die "c8y_loadgen not found in $BUILD/bench or $BUILD/bench-standalone"
log "loadgen: $LOADGEN"

PLUGIN_OK=1
PLUGIN_PATH="$PLUGIN_SO"
if [[ ! -f "$PLUGIN_SO" ]]; then
  PLUGIN_OK=0
  log "plugin $PLUGIN_SO not found; only the runs without the plugin will be made. ${PLUGIN_BUILD_NOTE}"
fi

# mosquitto started as root drops to user 'mosquitto' before loading plugins: the data dir and the
# provisioning file must belong to it, and the .so must be readable by it.
AS_ROOT=0
if [[ "$(id -u)" == 0 ]]; then AS_ROOT=1; fi
if [[ $AS_ROOT == 1 ]] && ! id mosquitto >/dev/null 2>&1; then
  die "running as root but there is no 'mosquitto' user for the broker to drop privileges to"
fi
if [[ $PLUGIN_OK == 1 && $AS_ROOT == 1 ]]; then
  if ! runuser -u mosquitto -- test -r "$PLUGIN_SO"; then
    PLUGIN_PATH="$WORK/mosquitto_c8y.so"
    cp "$PLUGIN_SO" "$PLUGIN_PATH"
    chmod 644 "$PLUGIN_PATH"
    log "user mosquitto cannot read $PLUGIN_SO; using a copy at $PLUGIN_PATH"
  fi
fi

# Provisioning: tenant demo, users device_bench-<i> with role device.
PROV="$WORK/provisioning.json"
{
  printf '{"tenants":[{"id":"demo","users":['
  for ((i = 0; i < DEVICES; i++)); do
    if ((i > 0)); then printf ','; fi
    printf '{"name":"device_bench-%d","password":"%s","roles":["device"]}' "$i" "$PASSWORD"
  done
  printf ']}]}\n'
} >"$PROV"
chmod 644 "$PROV"

declare -A RATE_NO RATE_WITH CPU_NO CPU_WITH MAIN_WITH OTHER_NO OTHER_WITH LG_NO LG_WITH THREADS_WITH DATA_WITH
WARNINGS=()
for setting in $DURABILITY; do
  # -- without the plugin
  port="$("$LOADGEN" --free-port)"
  conf="$WORK/no-plugin-$setting.conf"
  blog="$WORK/no-plugin-$setting.log"
  {
    echo "listener $port 127.0.0.1"
    echo "allow_anonymous true"
    echo "persistence false"
    echo "log_dest none"
    if [[ -n "${BENCH_EXTRA_CONF:-}" ]]; then printf '%s\n' "$BENCH_EXTRA_CONF"; fi
  } >"$conf"
  chmod 644 "$conf"
  COMMANDS+=("$setting/no-plugin broker: taskset -c $BROKER_CPU $MOSQUITTO -c $conf   # $(tr '\n' ';' <"$conf")")
  start_broker "$conf" "$blog" "$port"
  log "$setting: broker without plugin, pid $BROKER_PID, port $port"
  run_loadgen "$port" "$setting/no-plugin" "$blog"
  RATE_NO[$setting]="$(json_field "$LAST_JSON" rate)"
  CPU_NO[$setting]="$(json_field "$LAST_JSON" broker_cpu_pct)"
  OTHER_NO[$setting]="$(json_field "$LAST_JSON" other_cpu_pct)"
  LG_NO[$setting]="$(json_field "$LAST_JSON" loadgen_cpu_pct)"
  stop_broker "$BROKER_PID"

  # -- with the plugin
  if [[ $PLUGIN_OK == 0 ]]; then
    RATE_WITH[$setting]="-"; CPU_WITH[$setting]="-"; MAIN_WITH[$setting]="-"
    OTHER_WITH[$setting]="-"; LG_WITH[$setting]="-"; THREADS_WITH[$setting]="-"; DATA_WITH[$setting]="-"
    continue
  fi
  port="$("$LOADGEN" --free-port)"
  conf="$WORK/plugin-$setting.conf"
  blog="$WORK/plugin-$setting.log"
  data="$WORK/data-$setting"
  mkdir "$data"
  if [[ $AS_ROOT == 1 ]]; then chown -R mosquitto: "$data" "$PROV"; fi
  {
    echo "listener $port 127.0.0.1"
    echo "allow_zero_length_clientid false"
    echo "persistence false"
    echo "log_dest stderr"
    echo "plugin $PLUGIN_PATH"
    echo "plugin_opt_data_dir $data"
    echo "plugin_opt_durability $setting"
    echo "plugin_opt_rest_port 0"
    echo "plugin_opt_provisioning_file $PROV"
    if [[ -n "${BENCH_EXTRA_CONF:-}" ]]; then printf '%s\n' "$BENCH_EXTRA_CONF"; fi
  } >"$conf"
  chmod 644 "$conf"
  COMMANDS+=("$setting/plugin broker: taskset -c $BROKER_CPU $MOSQUITTO -c $conf   # $(tr '\n' ';' <"$conf")")
  start_broker "$conf" "$blog" "$port"
  log "$setting: broker with plugin, pid $BROKER_PID, port $port"
  run_loadgen "$port" "$setting/plugin" "$blog"
  RATE_WITH[$setting]="$(json_field "$LAST_JSON" rate)"
  CPU_WITH[$setting]="$(json_field "$LAST_JSON" broker_cpu_pct)"
  MAIN_WITH[$setting]="$(json_field "$LAST_JSON" broker_main_thread_cpu_pct)"
  OTHER_WITH[$setting]="$(json_field "$LAST_JSON" other_cpu_pct)"
  LG_WITH[$setting]="$(json_field "$LAST_JSON" loadgen_cpu_pct)"
  THREADS_WITH[$setting]="$(find "/proc/$BROKER_PID/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
  stop_broker "$BROKER_PID"
  DATA_WITH[$setting]="$(du -sh "$data" 2>/dev/null | cut -f1)"
  if grep -qiE 'error|warning' "$blog"; then
    WARNINGS+=("$setting/plugin: broker log has errors/warnings: $(grep -iE 'error|warning' "$blog" | head -n 3 | tr '\n' ' ')")
  fi
done

# ---- report -----------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b != "-") printf "%.3f", b / a; else printf "-" }'; }
echo
echo "mosquitto-c8y benchmark: $DEVICES devices, QoS 1 '211,<n>' to s/us, window $WINDOW, ${WARMUP} s warmup + ${SECS} s measured"
echo "broker pinned to CPU $BROKER_CPU, loadgen to CPU $LOADGEN_CPU (taskset). The plugin's threads (RocksDB"
echo "background flush/compaction, any plugin workers) inherit the broker's affinity, so they share CPU $BROKER_CPU"
echo "with the broker: their cost is charged to the broker, like on a one-core deployment."
echo "CPU% = utime+stime of the whole broker process (all threads) over the measured window, % of one core."
echo
printf '%-10s %14s %14s %8s %12s %12s %14s %10s %10s\n' setting "rate-no-plugin" "rate-plugin" ratio \
  "cpu%-no" "cpu%-plugin" "main-thr-cpu%" "threads" "data"
for setting in $DURABILITY; do
  printf '%-10s %14s %14s %8s %12s %12s %14s %10s %10s\n' "$setting" "${RATE_NO[$setting]}" \
    "${RATE_WITH[$setting]}" "$(ratio "${RATE_NO[$setting]}" "${RATE_WITH[$setting]}")" \
    "${CPU_NO[$setting]}" "${CPU_WITH[$setting]}" "${MAIN_WITH[$setting]}" \
    "${THREADS_WITH[$setting]}" "${DATA_WITH[$setting]}"
done
echo
printf '%-10s %16s %16s %16s %16s\n' setting "loadgen-cpu%-no" "loadgen-cpu%-pl" "other-cpu%-no" "other-cpu%-pl"
for setting in $DURABILITY; do
  printf '%-10s %16s %16s %16s %16s\n' "$setting" "${LG_NO[$setting]}" "${LG_WITH[$setting]}" \
    "${OTHER_NO[$setting]}" "${OTHER_WITH[$setting]}"
  c="${CPU_NO[$setting]}"
  if [[ "$c" != "-" ]] && awk -v c="$c" 'BEGIN { exit !(c < 90) }'; then
    WARNINGS+=("$setting: broker without plugin used only $c % of a core: it was not the bottleneck, the ratio is not meaningful")
  fi
  for o in "${OTHER_NO[$setting]}" "${OTHER_WITH[$setting]}"; do
    if [[ "$o" != "-" ]] && awk -v c="$o" 'BEGIN { exit !(c > 10) }'; then
      WARNINGS+=("$setting: other processes used $o % of a core during a measured window: the machine was not idle, results are noisy")
      break
    fi
  done
done
if [[ $PLUGIN_OK == 0 ]]; then WARNINGS+=("plugin not found at $PLUGIN_SO: no runs with the plugin. $PLUGIN_BUILD_NOTE"); fi
echo "(other-cpu% = user+system time of everything else on the machine during the window; softirq not included)"
echo
echo "commands:"
printf '  %s\n' "${COMMANDS[@]}"
if [[ ${#WARNINGS[@]} -gt 0 ]]; then
  echo
  printf 'WARNING: %s\n' "${WARNINGS[@]}"
fi
FAILED=0
