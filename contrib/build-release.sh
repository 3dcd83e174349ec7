#!/usr/bin/env bash
# Build the binary as it ships: the release profile, linked statically against the C library
# (glibc's libc.a, from libc6-dev), for this machine's target. Prints the binary's path on
# stdout; cargo's own output goes to stderr. Arguments are passed on to cargo build.
#
# Why static: a dynamic build maps all of libc.so and ld.so, and the kernel's fault-around
# keeps about 1.5 MB of them resident; linked statically only the few hundred kB of the C
# library the plugin uses are there (docs/performance.md, "Memory"). `--user` and `--group` are
# looked up in /etc/passwd and /etc/group first (src/accounts.rs), so NSS modules are only
# loaded for accounts that are not local.
#
# crt-static needs an explicit --target: without one, cargo would apply it to the proc-macro
# crates too, which cannot be linked statically.
set -euo pipefail

cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
    *-linux-gnu*) ;;
    *) echo "contrib/build-release.sh: $host is not a glibc Linux target" >&2; exit 1 ;;
esac
# Where rustc links with lld (its default on x86_64 Linux), the functions the loop runs after
# start-up (contrib/hot-symbols.txt, made by contrib/hot-symbols.sh) are placed side by side, so
# that few 64 kB windows of code come back once src/resident.rs has unmapped the text. Passed
# to the binary's own link only (`cargo rustc`): the dependencies and their symbol names stay
# as they are. A name that no longer exists is skipped without a word.
order=()
if [ "$host" = x86_64-unknown-linux-gnu ]; then
    order=(-C "link-arg=-Wl,--symbol-ordering-file=$(pwd)/contrib/hot-symbols.txt"
        -C link-arg=-Wl,--no-warn-symbol-ordering)
fi
RUSTFLAGS="-C target-feature=+crt-static ${RUSTFLAGS:-}" \
    cargo rustc --release --locked --target "$host" --bin exabgp-healthcheck "$@" -- "${order[@]}" >&2
echo "${CARGO_TARGET_DIR:-$(pwd)/target}/$host/release/exabgp-healthcheck"
