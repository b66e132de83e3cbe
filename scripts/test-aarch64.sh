#!/usr/bin/env bash
# Checks sparkbench's code as built for aarch64-unknown-linux-gnu, the DGX Spark's CPU, on an
# x86-64 machine: clippy with -D warnings sees the aarch64-only code (the NEON kernels), and the
# library crates' tests run under qemu user-mode emulation (the engine's portable and NEON
# kernels, the parity tests against ../shared/fixtures, the tasks on real data). Emulated
# timings mean nothing; this checks code and numbers, not speed.
#
# Installs what it needs where it can (Debian packages qemu-user, gcc-aarch64-linux-gnu,
# libc6-dev-arm64-cross as root; the rustup target) and stops with a message naming what is
# missing where it cannot (skips, saying so, where only the rustup download fails). On an aarch64 machine `cargo test --workspace` already runs natively,
# so there is nothing to emulate.
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-unknown-linux-gnu
sysroot=/usr/aarch64-linux-gnu

if [ "$(uname -m)" = aarch64 ]; then
  echo "this machine is aarch64: cargo test --workspace runs the tests natively; nothing to emulate"
  exit 0
fi

missing=()
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu)
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || missing+=(libc6-dev-arm64-cross)
scripts/install-packages.sh ${missing[@]+"${missing[@]}"}

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  if ! command -v rustup >/dev/null 2>&1; then
    echo "the aarch64 tests need the Rust standard library for $target: install Rust with rustup" >&2
    exit 1
  fi
  # The one download outside a package registry (static.rust-lang.org): where it cannot be
  # reached, the aarch64 checks are skipped, saying so, rather than failing the whole run.
  if ! rustup target add "$target"; then
    echo "aarch64 checks skipped: rustup could not install the $target standard library (no route to static.rust-lang.org?)" >&2
    exit 0
  fi
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $sysroot"

echo "== cargo clippy --target $target"
cargo clippy --workspace --all-targets --target "$target" -- -D warnings

# Not emulated (both hold process handling, no code that differs by architecture):
# - sparkbench (the binary): its tests run the built binary as a child process, which needs
#   qemu registered with the kernel's binfmt_misc, and the wizard's terminal calls the TCGETS2
#   ioctl, which qemu-user 7.2 does not implement.
# - sparkbench-supervisor: one test expects spawning a missing program to fail, and qemu-user's
#   emulation of the child's clone loses that failure.
echo "== cargo test --target $target (under qemu-aarch64)"
cargo test --workspace --exclude sparkbench --exclude sparkbench-supervisor --target "$target"
