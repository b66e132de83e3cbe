#!/usr/bin/env bash
# Installs the Debian packages named as arguments with apt-get when run as root on a machine
# that has it; otherwise stops, naming them, so they can be installed by hand. Nothing to do
# without arguments. Shared by install-system-deps.sh and test-aarch64.sh, which decide what
# is missing.
set -euo pipefail
[ $# -gt 0 ] || exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
else
  echo "missing system packages: $* (Debian package names; install them with your package manager)" >&2
  exit 1
fi
