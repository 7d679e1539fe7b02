#!/usr/bin/env bash
# Usage: tests/fuzz/run.sh <seconds>
# Configures a clang build in build-fuzz/ (at the repository root), builds every libFuzzer target
# and runs each one for <seconds>. Seeds come from tests/fuzz/corpus/<name>/; what the fuzzer
# finds goes to tests/fuzz/corpus-out/<name>/ (git-ignored), crash inputs to
# build-fuzz/fuzz-artifacts/. Exits non-zero if any target crashed or failed to run.
set -euo pipefail

if [[ $# -ne 1 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 <seconds per target>" >&2
  exit 2
fi
seconds=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="$root/build-fuzz"

launcher=()
if command -v ccache >/dev/null 2>&1; then  # see scripts/test.sh
  export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DC8Y_FUZZ=ON -DC8Y_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build "$build" --target fuzz_all -j "$(nproc)"

mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=()
summary=()
while read -r name exe seeds; do
  [[ -n $name ]] || continue
  out="$root/tests/fuzz/corpus-out/$name"
  mkdir -p "$out"
  dirs=("$out")
  [[ -d $seeds ]] && dirs+=("$seeds")
  log="$build/fuzz-logs/$name.log"
  echo "== $name: ${seconds}s (log: ${log#"$root"/})"
  rc=0
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$name-" "${dirs[@]}" >"$log" 2>&1 || rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  if [[ $rc -ne 0 ]]; then
    failed+=("$name")
    summary+=("$name: FAILED (exit $rc), see ${log#"$root"/}")
    tail -n 40 "$log" >&2
  else
    summary+=("$name: ok, ${runs:-?} runs, ${cov:-cov: ?}, corpus $(find "$out" -type f | wc -l) files")
  fi
done <"$build/fuzz_targets.txt"

echo "== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -ne 0 ]]; then
  echo "crashed: ${failed[*]}" >&2
  exit 1
fi
