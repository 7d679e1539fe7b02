#!/usr/bin/env bash
# Entrypoint of the mosquitto-c8y image. Prepares what the broker needs, then execs it
# (default command: mosquitto -c /etc/mosquitto-c8y/mosquitto.conf).
#
#  * /etc/mosquitto-c8y/certs: if server.crt, server.key or ca.crt is missing, generates
#    DEVELOPMENT certificates (gen-dev-certs.sh). For production mount your own three files.
#  * /etc/mosquitto-c8y/secrets/bootstrap.secret: generated (144 random bits) if missing.
#  * /var/lib/mosquitto-c8y: handed to the user `mosquitto`, which the broker drops to
#    before it loads the plugin and opens its listeners.
set -euo pipefail

etc=${C8Y_ETC_DIR:-/etc/mosquitto-c8y}
data=${C8Y_DATA_DIR:-/var/lib/mosquitto-c8y}
certs=$etc/certs
secrets=$etc/secrets
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "docker-entrypoint: $*" >&2; }
as_mosquitto() { runuser -u mosquitto -- "$@" 2>/dev/null; }

if ((EUID != 0)); then
  log "not running as root: no ownership changes; files must already be readable by uid $EUID"
fi

# --- TLS material ---------------------------------------------------------------------------
if [[ ! -e $certs/server.crt || ! -e $certs/server.key || ! -e $certs/ca.crt ]]; then
  log "no TLS material in $certs: generating DEVELOPMENT certificates (not for production)"
  "$here/gen-dev-certs.sh" "$certs"
fi

# --- bootstrap secret -----------------------------------------------------------------------
secret=$secrets/bootstrap.secret
if [[ ! -e $secret ]]; then
  mkdir -p "$secrets"
  chmod 0700 "$secrets"
  (
    umask 077
    head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$secret"
  )
  if ((EUID == 0)); then
    chown mosquitto:mosquitto "$secrets" "$secret"
  fi
  log "generated the bootstrap secret (user management/devicebootstrap) in $secret;" \
    "read it with: docker compose exec broker cat $secret"
fi

# --- data directory -------------------------------------------------------------------------
mkdir -p "$data"
if ((EUID == 0)); then
  if [[ $(stat -c %U "$data") != mosquitto ]]; then
    chown -R mosquitto:mosquitto "$data"
  fi
  for f in "$certs/server.key" "$certs/server.crt" "$certs/ca.crt" "$secret" \
    "$etc/provisioning.json"; do
    [[ -e $f ]] || continue
    as_mosquitto test -r "$f" ||
      log "WARNING: user mosquitto cannot read $f (the broker reads it after dropping privileges)"
  done
  as_mosquitto test -w "$data" || log "WARNING: user mosquitto cannot write $data"
fi

# `docker run IMAGE -v` style: options only, so prepend the default command.
if (($# == 0)) || [[ $1 == -* ]]; then
  set -- /usr/sbin/mosquitto -c "$etc/mosquitto.conf" "$@"
fi
exec "$@"
