#!/usr/bin/env bash
# Installs the system packages sparkbench's tests need (tmux for the end-to-end terminal test).
# Idempotent; does nothing when everything is present.
set -euo pipefail
missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
"$(dirname "$0")/install-packages.sh" ${missing[@]+"${missing[@]}"}
