#!/usr/bin/env bash
# Generates DEVELOPMENT TLS material for mosquitto-c8y. Never use it in production.
#
#   scripts/gen-dev-certs.sh <out-dir> [--force] [--device SERIAL]...
#
# Writes into <out-dir>:
#   ca.crt  ca.key                  a self-signed dev CA (EC P-256, CA:true,
#                                   keyUsage keyCertSign+cRLSign, subjectKeyIdentifier)
#   server.crt  server.key          CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1,
#                                   extendedKeyUsage serverAuth
#   device-<serial>.crt/.key        CN=<serial>, extendedKeyUsage clientAuth, signed by the CA
#                                   (default: one device, demo-device-001)
# All keys EC P-256, certificates valid 825 days, SHA-256.
#
# Idempotent: files that exist are kept. A missing leaf is issued by the existing CA. --force
# regenerates everything (a new CA invalidates every certificate it signed before).
#
# Permissions: Mosquitto drops to the `mosquitto` user before it opens its listeners, so it
# reads server.key as that user. When run as root and the group `mosquitto` exists, server.key
# becomes root:mosquitto 0640; other keys are 0600; certificates 0644.
set -euo pipefail

days=825
force=false
changed=false
out=""
devices=()

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

while (($#)); do
  case "$1" in
    --force) force=true ;;
    --device)
      [[ $# -ge 2 ]] || { echo "gen-dev-certs.sh: --device needs a serial" >&2; exit 2; }
      devices+=("$2")
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      echo "gen-dev-certs.sh: unknown option '$1'" >&2
      exit 2
      ;;
    *)
      [[ -z $out ]] || { echo "gen-dev-certs.sh: only one output directory" >&2; exit 2; }
      out=$1
      ;;
  esac
  shift
done
[[ -n $out ]] || { usage >&2; exit 2; }
((${#devices[@]})) || devices=(demo-device-001)
for d in "${devices[@]}"; do
  # D3: ':', '/', '+', '#' are invalid in a serial (and the CN is the serial).
  if [[ -z $d || $d == *[:/+#]* || $d == *[[:space:]]* ]]; then
    echo "gen-dev-certs.sh: invalid device serial '$d'" >&2
    exit 2
  fi
done

command -v openssl >/dev/null || { echo "gen-dev-certs.sh: openssl not found" >&2; exit 1; }

mkdir -p "$out"
chmod 0755 "$out"
umask 077

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Our own config, so nothing from /etc/ssl/openssl.cnf (default extensions) leaks in.
cnf=$tmp/openssl.cnf
cat >"$cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_client]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

newkey() { # <file>
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

serial() { echo "0x$(openssl rand -hex 16)"; }

# <name> <subject> <extension section>: <name>.key + <name>.crt signed by the CA.
issue() {
  local name=$1 subj=$2 ext=$3
  newkey "$tmp/$name.key"
  openssl req -new -config "$cnf" -key "$tmp/$name.key" -subj "$subj" -out "$tmp/$name.csr"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -set_serial "$(serial)" -days "$days" -sha256 -extfile "$cnf" -extensions "$ext" \
    -out "$tmp/$name.crt" 2>/dev/null
  mv -f "$tmp/$name.key" "$out/$name.key"
  mv -f "$tmp/$name.crt" "$out/$name.crt"
  echo "gen-dev-certs.sh: wrote $out/$name.crt ($subj)"
  changed=true
}

# --- CA ------------------------------------------------------------------------------------
if $force || [[ ! -e $out/ca.crt && ! -e $out/ca.key ]]; then
  newkey "$tmp/ca.key"
  openssl req -x509 -new -config "$cnf" -extensions v3_ca -key "$tmp/ca.key" \
    -subj "/O=mosquitto-c8y/CN=mosquitto-c8y development CA" -days "$days" -sha256 \
    -set_serial "$(serial)" -out "$tmp/ca.crt"
  mv -f "$tmp/ca.key" "$out/ca.key"
  mv -f "$tmp/ca.crt" "$out/ca.crt"
  echo "gen-dev-certs.sh: wrote $out/ca.crt (new development CA)"
  changed=true
  force=true # every leaf must be re-issued by the new CA
elif [[ ! -e $out/ca.crt || ! -e $out/ca.key ]]; then
  echo "gen-dev-certs.sh: $out has only one of ca.crt/ca.key; use --force to regenerate all" >&2
  exit 1
fi

# --- leaves --------------------------------------------------------------------------------
if $force || [[ ! -e $out/server.crt || ! -e $out/server.key ]]; then
  issue server "/O=mosquitto-c8y/CN=localhost" v3_server
fi
for d in "${devices[@]}"; do
  if $force || [[ ! -e $out/device-$d.crt || ! -e $out/device-$d.key ]]; then
    issue "device-$d" "/CN=$d" v3_client
  fi
done

# --- permissions ---------------------------------------------------------------------------
# Only files this run wrote are touched, so a read-only directory of existing files still works.
if $changed; then
  files=(ca server)
  for d in "${devices[@]}"; do files+=("device-$d"); done
  for f in "${files[@]}"; do
    chmod 0644 "$out/$f.crt"
    chmod 0600 "$out/$f.key"
  done
  if ((EUID == 0)) && getent group mosquitto >/dev/null; then
    chgrp mosquitto "$out/server.key"
    chmod 0640 "$out/server.key"
  fi
else
  echo "gen-dev-certs.sh: $out already complete (use --force to regenerate)"
fi
if ((EUID == 0)) && id mosquitto >/dev/null 2>&1 &&
  ! runuser -u mosquitto -- test -r "$out/server.key" 2>/dev/null; then
  echo "gen-dev-certs.sh: WARNING: user mosquitto cannot read $out/server.key;" \
    "the broker opens its TLS listeners after dropping to that user" >&2
fi

# --- self-check ----------------------------------------------------------------------------
openssl verify -CAfile "$out/ca.crt" "$out/server.crt" >/dev/null
openssl verify -CAfile "$out/ca.crt" -purpose sslserver "$out/server.crt" >/dev/null
for d in "${devices[@]}"; do
  openssl verify -CAfile "$out/ca.crt" -purpose sslclient "$out/device-$d.crt" >/dev/null
done
echo "gen-dev-certs.sh: certificates in $out verify against ca.crt"
