#!/usr/bin/env bash
# Installs the system packages sparkbench's tests need (tmux for the end-to-end terminal test).
# Idempotent; does nothing when everything is present.
set -euo pipefail
missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "missing system packages: ${missing[*]} (install them with your package manager)" >&2
    exit 1
  fi
fi
