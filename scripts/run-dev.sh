#!/usr/bin/env bash
# Builds mosquitto-c8y and runs the stock broker with the plugin from the build tree.
#
#   scripts/run-dev.sh [--no-build] [-- <extra mosquitto arguments, e.g. -v>]
#
# Steps:
#   1. cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j$(nproc)
#      (skipped with --no-build; build/mosquitto_c8y.so must then exist)
#   2. ./data/db         the plugin's RocksDB directory (plugin_opt_data_dir)
#      ./data/certs      development CA, server and device certificates (gen-dev-certs.sh)
#      ./data/secrets/bootstrap.secret   random bootstrap password (mode 0600)
#      ./data/mosquitto.conf             conf/mosquitto.dev.conf.in with absolute paths
#   3. exec /usr/sbin/mosquitto -c ./data/mosquitto.conf
#
# Environment:
#   C8Y_DATA_DIR       instead of ./data (when the checkout is not reachable by the user
#                      `mosquitto`, the default is /var/tmp/mosquitto-c8y-<hash of the path>)
#   C8Y_BUILD_DIR      instead of ./build
#   C8Y_PROVISIONING   instead of conf/provisioning.example.json
#
# Run as root, Mosquitto drops to the user `mosquitto` before it loads the plugin and opens
# its listeners, so this script hands the data directory to that user and checks that the
# plugin, certificates, provisioning file and secret are readable by it. Run as a normal
# user, Mosquitto keeps that user and no ownership changes are needed.
set -euo pipefail

die() {
  echo "run-dev.sh: $*" >&2
  exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

do_build=true
while (($#)); do
  case "$1" in
    --no-build) do_build=false ;;
    --)
      shift
      break
      ;;
    -h | --help)
      sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

mosquitto_bin=/usr/sbin/mosquitto
[[ -x $mosquitto_bin ]] || die "$mosquitto_bin not found; run scripts/install-deps.sh"

build_dir=${C8Y_BUILD_DIR:-$repo/build}
if $do_build; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "$build_dir" -j"$(nproc)"
fi
[[ -d $build_dir ]] || die "build directory $build_dir not found (build first, or drop --no-build)"
plugin=$(cd "$build_dir" && pwd)/mosquitto_c8y.so
[[ -f $plugin ]] || die "$plugin not found (build first, or drop --no-build)"

data=${C8Y_DATA_DIR:-$repo/data}
mkdir -p "$data"
data=$(cd "$data" && pwd)
provisioning=${C8Y_PROVISIONING:-$repo/conf/provisioning.example.json}
[[ -f $provisioning ]] || die "provisioning file $provisioning not found"
provisioning=$(cd "$(dirname "$provisioning")" && pwd)/$(basename "$provisioning")

# Mosquitto splits most options at spaces, so paths with whitespace cannot work.
for p in "$plugin" "$data" "$provisioning"; do
  [[ $p != *[[:space:]]* ]] || die "path with whitespace is not usable in mosquitto.conf: '$p'"
done

db=$data/db
trust=$data/trust
certs=$data/certs
secrets=$data/secrets
mkdir -p "$db" "$trust"
chmod 0755 "$data"

as_mosquitto() { runuser -u mosquitto -- "$@" 2>/dev/null; }
if ((EUID == 0)); then
  id mosquitto >/dev/null 2>&1 || die "user mosquitto does not exist (install the mosquitto package)"
  if ! as_mosquitto test -x "$data"; then
    [[ -z ${C8Y_DATA_DIR:-} ]] ||
      die "user mosquitto cannot enter $data (a parent directory is not traversable)"
    # The checkout is not reachable by the broker's user (root's home and mktemp -d directories
    # are 0700): the data goes to a directory of its own for this checkout instead.
    data=/var/tmp/mosquitto-c8y-$(printf '%s' "$repo" | sha1sum | cut -c1-8)
    echo "run-dev.sh: user mosquitto cannot enter $repo; using $data for the data (set" \
      "C8Y_DATA_DIR to choose another)"
    install -d -m 0755 "$data"
    db=$data/db
    trust=$data/trust
    certs=$data/certs
    secrets=$data/secrets
    mkdir -p "$db" "$trust"
  fi
fi

"$repo/scripts/gen-dev-certs.sh" "$certs"

install -d -m 0700 "$secrets"
secret=$secrets/bootstrap.secret
if [[ ! -s $secret ]]; then
  # 18 random bytes = 144 bits, URL-safe base64 without padding, no trailing newline.
  (
    umask 077
    head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$secret"
  )
  echo "run-dev.sh: generated the bootstrap secret in $secret"
fi
chmod 0600 "$secret"

# --- root: make everything reachable by the user `mosquitto` --------------------------------
if ((EUID == 0)); then
  chown -R mosquitto:mosquitto "$db" "$secrets" "$trust"
  # gen-dev-certs.sh already gives server.key to the group mosquitto; redo it in case the
  # certificates were made by another user.
  chgrp mosquitto "$certs/server.key" && chmod 0640 "$certs/server.key"

  if ! as_mosquitto test -r "$plugin"; then
    echo "run-dev.sh: user mosquitto cannot read $plugin; using a copy in $data/lib"
    install -D -m 0644 "$plugin" "$data/lib/mosquitto_c8y.so"
    plugin=$data/lib/mosquitto_c8y.so
  fi
  if ! as_mosquitto test -r "$provisioning"; then
    echo "run-dev.sh: user mosquitto cannot read $provisioning; using a copy in $data"
    install -m 0644 "$provisioning" "$data/provisioning.json"
    provisioning=$data/provisioning.json
  fi
  as_mosquitto test -w "$db" || die "user mosquitto cannot write $db"
  as_mosquitto test -r "$secret" || die "user mosquitto cannot read $secret"
  as_mosquitto test -r "$certs/server.key" || die "user mosquitto cannot read $certs/server.key"
fi

# --- render the configuration ---------------------------------------------------------------
sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
conf=$data/mosquitto.conf
sed -e "s|@PLUGIN@|$(sed_escape "$plugin")|g" \
  -e "s|@DATA_DIR@|$(sed_escape "$db")|g" \
  -e "s|@CERT_DIR@|$(sed_escape "$certs")|g" \
  -e "s|@PROVISIONING@|$(sed_escape "$provisioning")|g" \
  -e "s|@SECRETS_DIR@|$(sed_escape "$secrets")|g" \
  -e "s|@TRUST_DIR@|$(sed_escape "$trust")|g" \
  "$repo/conf/mosquitto.dev.conf.in" >"$conf.tmp"
if grep -n '@[A-Z_]*@' "$conf.tmp" >&2; then
  rm -f "$conf.tmp"
  die "unreplaced placeholder in conf/mosquitto.dev.conf.in"
fi
chmod 0644 "$conf.tmp"
mv -f "$conf.tmp" "$conf"

echo "run-dev.sh: starting $mosquitto_bin -c $conf $*"
echo "run-dev.sh: MQTT 1883, MQTT/TLS 8883, MQTT/TLS+client cert 8884, WS 8080, WSS 8443," \
  "REST http://127.0.0.1:8111; CA for clients: $certs/ca.crt"
exec "$mosquitto_bin" -c "$conf" "$@"
