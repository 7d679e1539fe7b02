#!/usr/bin/env bash
# Online backup of a running mosquitto-c8y node: asks the node's REST API to write a checkpoint
# into its plugin_opt_backup_dir, prints the JSON answer ({"id", "path", "bytes", "seconds"}).
#
#   C8Y_MANAGEMENT_PASSWORD=... scripts/backup.sh [REST base URL]     (default http://127.0.0.1:8111)
#
# env: C8Y_MANAGEMENT_USER (default management/admin), C8Y_MANAGEMENT_PASSWORD (required),
#      C8Y_CACERT (a CA file for an HTTPS REST API with a private CA; default: the system's).
# Exit code 0 when the backup was made. Restore with scripts/restore.sh on a stopped node.
set -euo pipefail
url="${1:-http://127.0.0.1:8111}"
user="${C8Y_MANAGEMENT_USER:-management/admin}"
: "${C8Y_MANAGEMENT_PASSWORD:?set C8Y_MANAGEMENT_PASSWORD (password of the management tenant admin)}"
args=(--silent --show-error --fail-with-body -X POST -u "$user:$C8Y_MANAGEMENT_PASSWORD")
[[ -n "${C8Y_CACERT:-}" ]] && args+=(--cacert "$C8Y_CACERT")
curl "${args[@]}" "${url%/}/admin/backups"
echo
