#!/usr/bin/env bash
# Builds and runs every test of mosquitto-c8y (the README's test command; .ci/run calls it).
#
#   scripts/test.sh            all stages
#   scripts/test.sh --quick    the release build's unit and integration tests only
#
# Stages:
#   1. release build (build/): GoogleTest unit tests + integration suite (real mosquitto, real
#      clients, real RocksDB on disk) + cluster tests (real etcd members, three nodes, HAProxy
#      and c8y-router), through ctest
#   2. ASan/UBSan build (build-asan/): unit tests, then the integration suite with the real
#      broker loading the sanitized plugin (the sanitizer runtimes are LD_PRELOADed into it)
#   3. ThreadSanitizer build (build-tsan/): the unit tests of the concurrent core
#   4. libFuzzer targets (build-fuzz/), each for C8Y_FUZZ_SECONDS (default 60)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
jobs=$(nproc)
quick=false
# ccache, when installed (install-deps.sh build), makes a rebuild of unchanged sources a cache hit,
# also from another checkout: paths below the repository are hashed relative to it.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR=$repo CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
[[ "${1:-}" == "--quick" ]] && quick=true

# The JavaScript clients of the integration suite (@c8y/client, MQTT.js), pinned by the lockfile.
if command -v npm >/dev/null 2>&1; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "test.sh: npm ci failed: the @c8y/client test will be skipped" >&2
else
  echo "test.sh: no npm: the @c8y/client test will be skipped" >&2
fi

echo "== stage 1: release build, unit + integration tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure)
$quick && exit 0

echo "== stage 2: ASan/UBSan build, unit, integration and cluster tests with the sanitized plugin"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DC8Y_SANITIZE=ON "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$jobs" --target unit_tests mosquitto_c8y cluster_tests c8y-router
asan_rt=$(g++ -print-file-name=libasan.so)
ubsan_rt=$(g++ -print-file-name=libubsan.so)
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The broker itself is not built with ASan and frees some memory only at exit: leak checking of
# the whole broker process would report Mosquitto's own allocations, so it is off there.
export C8Y_BROKER_PRELOAD="$asan_rt $ubsan_rt"
export C8Y_BROKER_ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure)

echo "== stage 3: ThreadSanitizer build, unit tests of the concurrent core"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DC8Y_TSAN=ON "${launcher[@]}" >/dev/null
cmake --build build-tsan -j"$jobs" --target unit_tests
# Tests that fork a child process to SIGKILL it are left out: TSan does not support starting
# threads after a fork of a multi-threaded process.
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$repo/tests/tsan.supp \
  build-tsan/tests/unit_tests \
  --gtest_filter='*Ingest*:Alarms*:Documents*:Events*:MeasurementsStore*:Availability*:*IdAllocator*-*Sigkill*:*Crash*'

echo "== stage 4: fuzz targets, ${C8Y_FUZZ_SECONDS:-60} s each"
tests/fuzz/run.sh "${C8Y_FUZZ_SECONDS:-60}"
echo "== all stages passed"
