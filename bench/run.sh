#!/usr/bin/env bash
# Benchmark: the same mosquitto 2.0.11 under the same load, without and with the mosquitto-c8y
# plugin, once per durability setting. Prints rates, their ratio and the broker's CPU use.
#
# usage: bench/run.sh [--seconds N] [--devices N] [--warmup N] [--window N] [--durability "wal batched"]
# env:   BENCH_SECONDS (10) BENCH_DEVICES (100) BENCH_WARMUP (2) BENCH_WINDOW (20)
#        BENCH_DURABILITY ("wal batched")  BENCH_BROKER_CPU (0)  BENCH_LOADGEN_CPU (1)
#        BENCH_PAYLOAD ('211,%d')  SmartREST payload; 'a|b|c' alternates (mixed traffic), e.g.
#                          '211,%d|400,c8y_BenchEvent,event %d|301,c8y_BenchAlarm,alarm %d'
#        BENCH_PIN (main)  main: pin only the broker's event-loop thread to BROKER_CPU (the plugin's
#                          own threads run on any core); process: pin the whole broker process
#        BENCH_RATE (0)    >0: pace the loadgen to this many PUBLISH/s in total and report PUBACK
#                          latency percentiles (broker-thread stalls), plus the RocksDB flushes and
#                          compactions that ran during the plugin run. 0: as fast as possible.
#        BENCH_TOPIC (s/us) the topic the devices publish on, e.g. s/uc/bench (custom templates)
#        BENCH_TEMPLATES    a SmartREST 2.0 collection body published once on s/ut/<X-ID of
#                           BENCH_TOPIC> (with mosquitto_pub, as device 0) before the plugin run
#        BENCH_BASELINE (1) 0: skip the runs without the plugin (long latency runs)
#        BENCH_EXTRA_CONF  extra mosquitto.conf lines added to BOTH configs (e.g. set_tcp_nodelay true)
#        BENCH_NO_BUILD=1  use the existing binaries, build nothing
#        BENCH_PLUGIN=FILE the plugin to measure instead of build/mosquitto_c8y.so (a copy of an
#                          older build: before and after in one sitting)
#        BENCH_KEEP=1      keep the temp dir (configs, logs, RocksDB data) after the run
#        BENCH_PERF=FILE   record the broker's event-loop thread with `perf record -g` during the
#                          measured part of each run into FILE.<durability>.<no-plugin|plugin>
#                          (`perf report -i FILE.wal.plugin --no-children`): where the time goes
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
PIN="${BENCH_PIN:-main}"
PAYLOAD="${BENCH_PAYLOAD:-211,%d}"
RATE="${BENCH_RATE:-0}"
TOPIC="${BENCH_TOPIC:-s/us}"
PASSWORD=bench-pass
START_TIMEOUT=30  # seconds for the broker (and the plugin opening RocksDB) to listen

while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECS="$2"; shift 2 ;;
    --devices) DEVICES="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --durability) DURABILITY="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$PIN" == main || "$PIN" == process ]] || { echo "run.sh: BENCH_PIN must be main or process, got '$PIN'" >&2; exit 2; }
for v in SECS DEVICES WARMUP WINDOW BROKER_CPU LOADGEN_CPU RATE; do
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
PLUGIN_SO="${BENCH_PLUGIN:-$BUILD/mosquitto_c8y.so}"
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
  if [[ "$PIN" == process ]]; then
    taskset -c "$BROKER_CPU" "$MOSQUITTO" -c "$conf" >"$blog" 2>&1 &
  else
    "$MOSQUITTO" -c "$conf" >"$blog" 2>&1 &
  fi
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
      # PIN=main: only the event-loop thread goes to BROKER_CPU; threads the plugin started
      # (storage writer, RocksDB background jobs) stay free to run on any core.
      [[ "$PIN" == process ]] || taskset -p -c "$BROKER_CPU" "$BROKER_PID" >/dev/null
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

PERF_PID=""
perf_start() {  # perf_start <name>: BENCH_PERF only; the event-loop thread is the main thread
  PERF_PID=""
  [[ -n "${BENCH_PERF:-}" ]] || return 0
  (sleep "$WARMUP"; exec perf record -q -g -t "$BROKER_PID" -o "$BENCH_PERF.$1" -- sleep "$SECS") \
    >"$WORK/perf-$1.log" 2>&1 &
  PERF_PID=$!
}
perf_wait() {
  [[ -z "$PERF_PID" ]] || wait "$PERF_PID" || log "perf record failed: $(cat "$WORK"/perf-*.log)"
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
    --topic "$TOPIC" --payload-format "$PAYLOAD" --broker-pid "$BROKER_PID" --rate "$RATE")
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

declare -A JSON THREADS DATA FLUSHES COMPACTIONS
WARNINGS=()
for setting in $DURABILITY; do
  # -- without the plugin
  if [[ "${BENCH_BASELINE:-1}" != 0 ]]; then
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
  perf_start "$setting.no-plugin"
  run_loadgen "$port" "$setting/no-plugin" "$blog"
  perf_wait
  JSON[$setting/no]="$LAST_JSON"
  stop_broker "$BROKER_PID"
  fi

  # -- with the plugin
  if [[ $PLUGIN_OK == 0 ]]; then
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
  if [[ -n "${BENCH_TEMPLATES:-}" ]]; then
    xid="${TOPIC#*/uc/}"
    mosquitto_pub -h 127.0.0.1 -p "$port" -i bench-0 -u demo/device_bench-0 -P "$PASSWORD" \
      -q 1 -t "s/ut/$xid" -m "$BENCH_TEMPLATES" || die "could not create the template collection"
    log "$setting: template collection $xid created"
  fi
  perf_start "$setting.plugin"
  run_loadgen "$port" "$setting/plugin" "$blog"
  perf_wait
  JSON[$setting/plugin]="$LAST_JSON"
  THREADS[$setting]="$(find "/proc/$BROKER_PID/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
  stop_broker "$BROKER_PID"
  DATA[$setting]="$(du -sh "$data" 2>/dev/null | cut -f1)"
  # RocksDB's event log: background work that ran while the broker served the load.
  FLUSHES[$setting]="$(cat "$data"/LOG* 2>/dev/null | grep -c '"event": "flush_finished"' || true)"
  COMPACTIONS[$setting]="$(cat "$data"/LOG* 2>/dev/null | grep -c '"event": "compaction_finished"' || true)"
  if grep -qiE 'error|warning' "$blog"; then
    WARNINGS+=("$setting/plugin: broker log has errors/warnings: $(grep -iE 'error|warning' "$blog" | head -n 3 | tr '\n' ' ')")
  fi
done

# ---- report -----------------------------------------------------------------------------------
f() { json_field "${JSON[$1]:-}" "$2"; }  # f <setting/no|setting/plugin> <field>
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && a + 0 > 0) printf "%.3f", b / a; else printf "-" }'; }
lt() { [[ "$1" != "-" && "$1" != null ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
echo
echo "mosquitto-c8y benchmark: $DEVICES devices, QoS 1 '$PAYLOAD' to $TOPIC, window $WINDOW per device,"
if [[ "$PIN" == process ]]; then
  echo "${WARMUP} s warmup + ${SECS} s measured. Broker process (all its threads) pinned to CPU $BROKER_CPU, loadgen to CPU $LOADGEN_CPU."
  echo "The plugin's threads (storage writer, RocksDB flush/compaction) share CPU $BROKER_CPU with the event loop, as on a one-core deployment."
else
  echo "${WARMUP} s warmup + ${SECS} s measured. Broker event-loop thread pinned to CPU $BROKER_CPU, loadgen to CPU $LOADGEN_CPU."
  echo "The plugin's threads (storage writer, RocksDB flush/compaction) are not pinned: they run where the scheduler puts them."
  echo "Their CPU is in cpu%-pl (whole process) and msg/cpus (messages per CPU-second of the whole broker process)."
fi
echo "broker cpu% = utime+stime of the whole broker process (all threads) / measured window, % of one core;"
echo "main% = the broker's main thread only; core% = how busy CPU $BROKER_CPU was (incl. softirq, anything else);"
echo "msg/cpus = messages per broker CPU-second (rate / cpu%): the plugin's cost per message, less sensitive to"
echo "other load on the machine than the raw rate. ratio = with plugin / without."
echo
per_cpu() { awk -v r="$1" -v c="$2" 'BEGIN { if (r != "-" && c != "-" && c != "null" && c + 0 > 0) printf "%.0f", r * 100 / c; else printf "-" }'; }
row() { printf '%-9s %11s %11s %6s | %8s %8s %6s | %7s %7s | %10s %10s %6s\n' "$@"; }
row setting "msg/s-no" "msg/s-plug" ratio "cpu%-no" "cpu%-pl" "main%" "core%no" "core%pl" "msg/cpus-no" "msg/cpus-pl" ratio
for setting in $DURABILITY; do
  eff_no="$(per_cpu "$(f "$setting/no" rate)" "$(f "$setting/no" broker_cpu_pct)")"
  eff_pl="$(per_cpu "$(f "$setting/plugin" rate)" "$(f "$setting/plugin" broker_cpu_pct)")"
  row "$setting" "$(f "$setting/no" rate)" "$(f "$setting/plugin" rate)" \
    "$(ratio "$(f "$setting/no" rate)" "$(f "$setting/plugin" rate)")" \
    "$(f "$setting/no" broker_cpu_pct)" "$(f "$setting/plugin" broker_cpu_pct)" \
    "$(f "$setting/plugin" broker_main_thread_cpu_pct)" \
    "$(f "$setting/no" broker_core_busy_pct)" "$(f "$setting/plugin" broker_core_busy_pct)" \
    "$eff_no" "$eff_pl" "$(ratio "$eff_no" "$eff_pl")"
done
echo
row2() { printf '%-9s %10s %10s %10s %10s %10s %10s %8s %8s\n' "$@"; }
row2 setting "lg-cpu%no" "lg-cpu%pl" "pub/wr-no" "pub/wr-pl" "other%no" "other%pl" threads data
for setting in $DURABILITY; do
  row2 "$setting" "$(f "$setting/no" loadgen_cpu_pct)" "$(f "$setting/plugin" loadgen_cpu_pct)" \
    "$(f "$setting/no" publish_per_write)" "$(f "$setting/plugin" publish_per_write)" \
    "$(f "$setting/no" other_cpu_pct)" "$(f "$setting/plugin" other_cpu_pct)" \
    "${THREADS[$setting]:--}" "${DATA[$setting]:--}"
  core="$(f "$setting/no" broker_core_busy_pct)"
  if lt "$core" 95; then
    WARNINGS+=("$setting: without the plugin, CPU $BROKER_CPU was only $core % busy: the broker was not the bottleneck, the ratio is not meaningful")
  fi
  core="$(f "$setting/plugin" broker_core_busy_pct)"
  if lt "$core" 95; then
    WARNINGS+=("$setting: with the plugin, CPU $BROKER_CPU was only $core % busy: the broker was waiting (on disk/fsync, locks or the loadgen), not CPU-bound")
  fi
  for run in no plugin; do
    lg="$(f "$setting/$run" loadgen_cpu_pct)"
    if [[ "$lg" != "-" ]] && ! lt "$lg" 90; then
      WARNINGS+=("$setting/$run: the loadgen used $lg % of its core: it may have been the bottleneck")
    fi
    o="$(f "$setting/$run" other_cpu_pct)"
    if [[ "$o" != "-" ]] && ! lt "$o" 10; then
      WARNINGS+=("$setting/$run: other processes used $o % of a core during the measured window: the machine was not idle, results are noisy")
    fi
  done
done
echo "(lg-cpu% = loadgen CPU; pub/wr = PUBLISH packets per write(); other% = user+system time of"
echo " everything except broker and loadgen on the whole machine during the window; threads = broker"
echo " threads at the end of the plugin run; data = size of the plugin's data dir afterwards)"
if [[ "$RATE" -gt 0 ]]; then
  echo
  echo "PUBACK latency at a paced $RATE PUBLISH/s (us, from queueing the PUBLISH to parsing its PUBACK;"
  echo " rocksdb = flushes/compactions finished during the plugin run, from the RocksDB LOG):"
  row3() { printf '%-16s %10s %8s %8s %8s %8s %9s %8s %9s %8s\n' "$@"; }
  row3 run rate p50 p90 p99 p99.9 max ">10ms" behind rocksdb
  for setting in $DURABILITY; do
    for run in no plugin; do
      [[ -n "${JSON[$setting/$run]:-}" ]] || continue
      bg="-"
      [[ $run == plugin ]] && bg="${FLUSHES[$setting]:-?}f/${COMPACTIONS[$setting]:-?}c"
      row3 "$setting/$run" "$(f "$setting/$run" rate)" "$(f "$setting/$run" puback_us_p50)" \
        "$(f "$setting/$run" puback_us_p90)" "$(f "$setting/$run" puback_us_p99)" \
        "$(f "$setting/$run" puback_us_p999)" "$(f "$setting/$run" puback_us_max)" \
        "$(f "$setting/$run" over_10ms)" "$(f "$setting/$run" behind)" "$bg"
    done
  done
fi
if [[ $PLUGIN_OK == 0 ]]; then WARNINGS+=("plugin not found at $PLUGIN_SO: no runs with the plugin. $PLUGIN_BUILD_NOTE"); fi
echo
echo "commands:"
printf '  %s\n' "${COMMANDS[@]}"
echo
echo "raw loadgen results:"
for k in "${!JSON[@]}"; do echo "  $k: ${JSON[$k]}"; done | sort
if [[ ${#WARNINGS[@]} -gt 0 ]]; then
  echo
  printf 'WARNING: %s\n' "${WARNINGS[@]}"
fi
FAILED=0
