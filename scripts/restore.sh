#!/usr/bin/env bash
# Restores a backup made by POST /admin/backups (scripts/backup.sh) into the data directory of a
# STOPPED node: one command, then start the broker.
#
#   scripts/restore.sh BACKUP_DIR DATA_DIR [--force]
#
# BACKUP_DIR  one backup: <plugin_opt_backup_dir>/<id> (a RocksDB checkpoint)
# DATA_DIR    the node's plugin_opt_data_dir; must be empty or absent, unless --force, which moves
#             what is there aside to DATA_DIR.before-restore.<time> first (never deletes it).
# Refuses while a process holds DATA_DIR's RocksDB LOCK (a running broker). As root, the copy is
# given to user mosquitto, as the broker needs.
set -euo pipefail
usage() { sed -n '2,12p' "$0" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
backup="$1" data="$2" force="${3:-}"
[[ -z "$force" || "$force" == --force ]] || usage
die() { echo "restore.sh: $*" >&2; exit 1; }

[[ -f "$backup/CURRENT" ]] || die "$backup is not a backup (no CURRENT file)"
if [[ -e "$data" && -n "$(ls -A "$data" 2>/dev/null)" ]]; then
  if [[ -f "$data/LOCK" ]] && command -v fuser >/dev/null && fuser "$data/LOCK" >/dev/null 2>&1; then
    die "$data is in use by a running process: stop the broker first"
  fi
  [[ "$force" == --force ]] || die "$data is not empty (add --force to move it aside)"
  aside="$data.before-restore.$(date -u +%Y%m%dT%H%M%SZ)"
  mv "$data" "$aside"
  echo "restore.sh: moved the old data directory to $aside"
fi
mkdir -p "$data"
cp -a "$backup/." "$data/"
if [[ $EUID -eq 0 ]] && id mosquitto >/dev/null 2>&1; then chown -R mosquitto: "$data"; fi
echo "restore.sh: $backup restored into $data; start the broker"
