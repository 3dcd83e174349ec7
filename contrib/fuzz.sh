#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with cargo fuzz (libFuzzer), each target for a
# bounded time. Not part of the test command. Usage: contrib/fuzz.sh [SECONDS_PER_TARGET]
# (default 60). Exits non-zero when a target crashes; the input that did it is in
# fuzz/artifacts/TARGET/. Needs cargo-fuzz (`cargo install cargo-fuzz`, done here when
# missing); cargo fuzz wants a nightly compiler, and RUSTC_BOOTSTRAP=1 lets the stable one
# accept its flags. docs/fuzzing.md says what each target checks.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${1:-60}
case "$seconds" in
    '' | *[!0-9]*) echo "contrib/fuzz.sh: SECONDS_PER_TARGET must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

targets=(config_file reply arguments http_response dns_answer metrics_request bfd_packet)
# The words each target's input is made of (fuzz/dict/): libFuzzer splices them in.
dictionary() {
    case "$1" in
        reply) echo reply.dict ;;
        metrics_request) echo http_request.dict ;;
        bfd_packet) echo bfd_packet.dict ;;
        *) echo options.dict ;;
    esac
}
cargo fuzz build
failed=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s"
    # The seeds stay as they are in git; what libFuzzer finds goes to a scratch corpus.
    work=fuzz/corpus/$target/found
    mkdir -p "$work"
    # -max_total_time bounds libFuzzer itself; timeout bounds everything else.
    if ! timeout --kill-after=30 $((seconds + 120)) \
        cargo fuzz run "$target" "$work" "fuzz/corpus/$target" -- \
        -dict="fuzz/dict/$(dictionary "$target")" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
        failed+=("$target")
        echo "!! $target failed: the input is in fuzz/artifacts/$target/" >&2
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "ok: ${targets[*]}, ${seconds}s each, no crash"
