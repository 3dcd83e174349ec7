#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with AFL++ through cargo-afl, on the stable toolchain,
# each target for a bounded time. Usage:
#
#   contrib/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, every target)
#
# Exits 1 when a target crashed or hung (or did not build, or a seed crashed or hung), naming it; the
# inputs that did it are in OUT/TARGET/default/crashes/ and hangs/. OUT is fuzz/out (git ignores
# it), or $EHC_FUZZ_OUT; a target whose OUT/TARGET is there already goes on from where it stopped
# (AFL_AUTORESUME). contrib/run-tests.sh runs this for a few seconds a target, with a scratch OUT.
# Installs cargo-afl when missing (`cargo install --locked cargo-afl`: it builds AFL++'s runtime
# and afl-fuzz from the source it ships; a few minutes once). Changes nothing on the machine:
# afl-fuzz's checks of the CPU governor and of core_pattern are waived through its environment.
# docs/fuzzing.md says what each target checks and how to replay an input.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
all=(arguments bfd_packet certificate_expiry config_file control dns_answer http_response metrics_request ntp_reply reply)
seconds=${1:-60}
case "$seconds" in
    '' | *[!0-9]* | 0) echo "contrib/fuzz.sh: SECONDS_PER_TARGET must be a whole number above 0, not '$seconds'" >&2; exit 2 ;;
esac
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")
for target in "${targets[@]}"; do
    [ -d "fuzz/corpus/$target" ] || { echo "contrib/fuzz.sh: no target '$target' (the targets: ${all[*]})" >&2; exit 2; }
done
out=${EHC_FUZZ_OUT:-$root/fuzz/out}

# AFL++ is built with make (and the C compiler cargo links with): Debian's make when missing.
if ! command -v make >/dev/null 2>&1; then
    echo "== installing make (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends make </dev/null ||
        { apt-get update -q </dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends make </dev/null; }
fi
if ! cargo afl --version >/dev/null 2>&1; then
    echo "== installing cargo-afl (once: a few minutes)"
    cargo install --locked cargo-afl </dev/null
fi

# Whole words for afl to splice in (fuzz/dict/), by target.
dictionary() {
    case "$1" in
        arguments | config_file) echo options.dict ;;
        control) echo control.dict ;;
        http_response) echo http_response.dict ;;
        metrics_request) echo http_request.dict ;;
        bfd_packet) echo bfd_packet.dict ;;
        reply) echo reply.dict ;;
        *) ;;
    esac
}

# AFL++'s runtime for this rustc (cargo install builds it for the rustc of the day; after a
# toolchain update it is built again here). It refuses, at once, when it is there already.
cargo afl config --build </dev/null >/dev/null 2>&1 || true

# The build's folder: fuzz/target, or $CARGO_TARGET_DIR.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/fuzz/target}
echo "== building the targets (cargo afl build --release)"
# cargo afl turns debug assertions and overflow checks on in this build.
(cd fuzz && cargo afl build --release --locked --quiet)

# afl-fuzz's set-up checks, waived rather than the machine changed: no CPU governor change, no
# core_pattern change (a crash is still seen: the harness aborts), no CPU pinning (the cores
# are shared), no terminal UI, no questions.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
export AFL_AUTORESUME=1
mkdir -p "$out"

# One value of afl's fuzzer_stats.
stat() { sed -n "s/^$2 *: //p" "$1" | head -n 1; }

failed=()
for target in "${targets[@]}"; do
    dict=$(dictionary "$target")
    log=$out/$target.log
    echo "== $target: ${seconds}s"
    status=0
    # -V bounds afl-fuzz itself, timeout anything else; -t: an input taking over 2 s is a hang.
    timeout --kill-after=10 $((seconds + 120)) \
        cargo afl fuzz -V "$seconds" -t 2000 -i "fuzz/corpus/$target" -o "$out/$target" \
        ${dict:+-x "fuzz/dict/$dict"} "$CARGO_TARGET_DIR/release/$target" </dev/null >"$log" 2>&1 || status=$?
    stats=$out/$target/default/fuzzer_stats
    if [ "$status" -ne 0 ] || [ ! -f "$stats" ]; then
        failed+=("$target")
        echo "!! $target: afl-fuzz failed (exit $status); the end of $log:" >&2
        tail -n 15 "$log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >&2
        continue
    fi
    crashes=$(stat "$stats" saved_crashes)
    hangs=$(stat "$stats" saved_hangs)
    # afl-fuzz skips a seed that crashes or hangs, with a warning, and goes on: a failure too.
    if grep -q 'Test case .* results in a' "$log"; then
        failed+=("$target")
        echo "!! $target: seeds in fuzz/corpus/$target/ that crash or hang (replay one with" >&2
        echo "   $CARGO_TARGET_DIR/release/$target < SEED):" >&2
        { sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' "$log" | grep -o "orig:[^']*' results in a [a-z]*" |
            sed "s/^orig:\([^']*\)'/   \1/" >&2; } || true
    fi
    printf '%s: %s executions, %s/%s edges (map density %s), %s paths, %s crashes, %s hangs, stability %s\n' \
        "$target" "$(stat "$stats" execs_done)" "$(stat "$stats" edges_found)" "$(stat "$stats" total_edges)" \
        "$(stat "$stats" bitmap_cvg)" "$(stat "$stats" corpus_count)" "$crashes" "$hangs" "$(stat "$stats" stability)"
    if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
        [[ " ${failed[*]} " == *" $target "* ]] || failed+=("$target")
        echo "!! $target: the inputs are in $out/$target/default/crashes/ and hangs/; replay one with" >&2
        echo "   $CARGO_TARGET_DIR/release/$target < INPUT" >&2
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "contrib/fuzz.sh: failed: ${failed[*]}" >&2
    exit 1
fi
echo "ok: ${targets[*]}, ${seconds}s each, no crash, no hang"
