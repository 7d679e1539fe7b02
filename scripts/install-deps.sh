#!/usr/bin/env bash
# Installs the Debian 12 (bookworm) packages mosquitto-c8y needs. This is the only place the
# package lists live: the README, .ci/run and the Dockerfile all call this script.
#
#   scripts/install-deps.sh [build|runtime] [--list]
#
#   runtime   what a host running the plugin needs: the broker and the shared libraries
#             mosquitto_c8y.so links against, plus openssl (dev certificates, secrets).
#   build     (default) runtime + compiler, headers, test tools (GoogleTest, pytest, paho),
#             MQTT command-line clients and clang (sanitizers, libFuzzer).
#   --list    print the package names of the profile, one per line, and exit.
#
# Idempotent: packages already installed are skipped, and when nothing is missing apt is not
# touched at all. Otherwise `apt-get update` runs once and the missing packages are installed
# non-interactively without recommended packages. Needs root (or sudo).
set -euo pipefail

# libmicrohttpd12: the REST server's HTTP library (GnuTLS for HTTPS, pulled in by it).
runtime_pkgs=(
  mosquitto
  librocksdb7.8
  libmicrohttpd12
  libssl3
  libjwt0
  openssl
  ca-certificates
  # fuser: scripts/restore.sh refuses a data directory a running broker holds
  psmisc
  # curl: scripts/backup.sh asks the REST API for a backup
  curl
  # libcurl4: the cluster's etcd client speaks HTTP to etcd's JSON gateway with libcurl
  libcurl4
)

build_pkgs=(
  "${runtime_pkgs[@]}"
  cmake
  ccache
  g++
  make
  pkg-config
  mosquitto-dev
  libmosquitto-dev
  librocksdb-dev
  nlohmann-json3-dev
  libssl-dev
  libjwt-dev
  libgtest-dev
  libmicrohttpd-dev
  python3
  python3-pytest
  python3-paho-mqtt
  python3-cryptography
  mosquitto-clients
  clang
  libclang-rt-14-dev
  nodejs
  # the metrics integration test scrapes with the real Prometheus
  prometheus
  # libcurl4-openssl-dev: headers of libcurl for the etcd client (plugin/cluster)
  libcurl4-openssl-dev
  # etcd-server: the cluster tests start real etcd members (/usr/bin/etcd)
  etcd-server
  # etcd-client: etcdctl, to look at and repair a test cluster's etcd by hand
  etcd-client
  # haproxy: the cluster tests put a load balancer in front of several broker nodes
  haproxy
)

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
}

profile=build
list_only=false
for arg in "$@"; do
  case "$arg" in
    build | runtime) profile=$arg ;;
    --list) list_only=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "install-deps.sh: unknown argument '$arg'" >&2
      usage >&2
      exit 2
      ;;
  esac
done

if [[ $profile == runtime ]]; then
  pkgs=("${runtime_pkgs[@]}")
else
  pkgs=("${build_pkgs[@]}")
fi

if $list_only; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [[ $status != installed ]]; then
    missing+=("$p")
  fi
done

# npm comes with NodeSource's nodejs but is a separate package in Debian (and the two conflict),
# so it is only asked for when no npm command exists. It installs the JavaScript test clients
# (tests/js: @c8y/client, MQTT.js).
if [[ $profile == build ]] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps.sh: all ${#pkgs[@]} packages of profile '$profile' are installed"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps.sh: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi

echo "install-deps.sh: installing (${profile}): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
