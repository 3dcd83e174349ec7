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
# as they are. lld skips a name that no longer exists (the names carry hashes that change with
# the toolchain and the code), so the link also writes its map (exabgp-healthcheck.map beside
# the binary, symbols not demangled), and the list's names are looked up in it: more than a
# fifth gone and a warning says so (tests/release.rs checks it too), as the memory is lost.
target_dir=${CARGO_TARGET_DIR:-$(pwd)/target}
map=
order=()
if [ "$host" = x86_64-unknown-linux-gnu ]; then
    map=$(realpath -m "$target_dir/$host/release/exabgp-healthcheck.map")
    order=(-C "link-arg=-Wl,--symbol-ordering-file=$(pwd)/contrib/hot-symbols.txt"
        -C link-arg=-Wl,--no-warn-symbol-ordering -C "link-arg=-Wl,-Map=$map" -C link-arg=-Wl,--no-demangle)
fi
RUSTFLAGS="-C target-feature=+crt-static ${RUSTFLAGS:-}" \
    cargo rustc --release --locked --target "$host" --bin exabgp-healthcheck "$@" -- "${order[@]}" >&2
if [ -n "$map" ] && [ ! -f "$map" ]; then
    echo "warning: $map is missing: contrib/hot-symbols.txt was not checked" >&2
elif [ -n "$map" ]; then
    # Every line of the map ends with a symbol, an input section or an output section: a name
    # of the list is there if it ends a line.
    read -r missing total < <(awk 'NR == FNR { have[$NF] = 1; next }
        NF { total++; if (!($1 in have)) missing++ } END { print missing + 0, total + 0 }' "$map" contrib/hot-symbols.txt)
    if [ $((missing * 5)) -gt "$total" ]; then
        echo "warning: contrib/hot-symbols.txt is stale: $missing of $total functions not found; run contrib/hot-symbols.sh" >&2
    fi
fi
echo "$target_dir/$host/release/exabgp-healthcheck"
