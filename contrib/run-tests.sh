#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian machine (as root, no
# stdin needed) and runs every test. Idempotent and quick when everything is already there:
# nothing is installed twice. CI runs this through .ci/run.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n=== %s\n' "$*"; }

# The reference implementations the differential and end-to-end tests run, pinned.
versions=(5.0.15 4.2.25)
venvs_missing=()
for version in "${versions[@]}"; do
    "$root/target/exabgp-venv/$version/bin/python" -c 'import exabgp' >/dev/null 2>&1 ||
        venvs_missing+=("$version")
done

say "system packages (iproute2, bird2, frr, nftables, sudo, faketime, nginx, unbound, chrony, prometheus)"
missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v bird >/dev/null 2>&1 || missing+=(bird2)
command -v sudo >/dev/null 2>&1 || missing+=(sudo)
command -v setpriv >/dev/null 2>&1 && command -v prlimit >/dev/null 2>&1 || missing+=(util-linux)
command -v vtysh >/dev/null 2>&1 || missing+=(frr)
# nft freezes a load balancer's namespace in tests/e2e_bfd.rs (every packet dropped, the link up).
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
# The real servers that tests/e2e_checks.rs checks with --check (it starts its own, in its own
# namespaces, on its own ports; the packages' services are never started, see below).
servers=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || servers+=(nginx)
command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ] || servers+=(unbound)
# chronyd, the NTP server tests/checks.rs and tests/e2e_checks.rs check with ntp:// (in its own
# namespace, with its own configuration file, never touching the clock).
command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ] || servers+=(chrony)
# promtool, which tests/metrics.rs runs on the metrics (`promtool check metrics`), comes only with
# Debian's prometheus package, whose Prometheus server is a service too: kept from starting the
# same way, and disabled.
command -v promtool >/dev/null 2>&1 || servers+=(prometheus)
missing+=("${servers[@]}")
if [ "${#venvs_missing[@]}" -gt 0 ]; then
    # Debian's python3 has no ensurepip (so no `python3 -m venv`) without python3-venv.
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
fi
# Debian starts nginx, unbound, chrony and prometheus when it installs them (on ports 80, 53, 123 and 9090,
# and unbound may take over /etc/resolv.conf): a policy-rc.d that denies every start (exit 101)
# keeps them from running during the install; one already there is put back afterwards, even on
# failure.
policy=/usr/sbin/policy-rc.d
policy_saved=
policy_ours=
restore_policy() {
    if [ -n "$policy_ours" ]; then
        rm -f "$policy"
        if [ -n "$policy_saved" ]; then mv -f "$policy_saved" "$policy"; fi
        policy_ours=
    fi
}
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    if [ "${#servers[@]}" -gt 0 ]; then
        if [ -e "$policy" ]; then
            policy_saved="$policy.ehc-saved"
            cp -p "$policy" "$policy_saved"
        fi
        trap restore_policy EXIT
        policy_ours=1
        printf '#!/bin/sh\n# exabgp-healthcheck contrib/run-tests.sh: no service starts while it installs.\nexit 101\n' >"$policy"
        chmod 755 "$policy"
    fi
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
    restore_policy
    trap - EXIT
    # Nor at the next boot: the tests never use the packages' services.
    if [ "${#servers[@]}" -gt 0 ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --quiet "${servers[@]}" >/dev/null 2>&1 || true
    fi
else
    echo "all present"
fi
# bird2's and frr's packages enable their own services on some systems; the tests start their
# own BIRD and FRR daemons (zebra, bgpd, bfdd) in their own namespaces.

say "ExaBGP virtualenvs (pinned: ${versions[*]})"
for version in "${versions[@]}"; do
    venv="$root/target/exabgp-venv/$version"
    if "$venv/bin/python" -c 'import exabgp' >/dev/null 2>&1; then
        echo "exabgp $version: present"
    else
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --disable-pip-version-check -q "exabgp==$version" </dev/null
        "$venv/bin/python" -c 'import exabgp'
        echo "exabgp $version: installed"
    fi
done
export EXABGP_VENV_5="$root/target/exabgp-venv/5.0.15"
export EXABGP_VENV_4="$root/target/exabgp-venv/4.2.25"

say "cargo test (every test: unit, integration, addresses, differential, end-to-end)"
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install a Rust toolchain (https://rustup.rs) first" >&2
    exit 1
fi
cargo test --all-targets --locked --no-fail-fast

say "fuzz targets: each for 5 s under AFL++ (contrib/fuzz.sh 5)"
# Each target builds (cargo afl build --release, in fuzz/target/), its seeds run without a crash,
# and 5 s of fuzzing find no crash or hang. cargo-afl is installed when missing (a few minutes,
# once); afl's findings go to a scratch folder, removed after; the machine is left as it was.
fuzz_out=$(mktemp -d)
fuzz_status=0
EHC_FUZZ_OUT="$fuzz_out" bash contrib/fuzz.sh 5 || fuzz_status=$?
rm -rf "$fuzz_out"
[ "$fuzz_status" -eq 0 ] || exit "$fuzz_status"

say "the Debian package: its files, then installed beside Debian's exabgp in both orders (contrib/check-deb.sh --install)"
# Builds the static release binary and the .deb (cargo-deb is installed when missing), installs
# it with dpkg alone, after and before Debian's exabgp (python3-exabgp ships a file of the same
# name, which our package diverts), removes and purges it, and leaves the machine as it was.
bash contrib/check-deb.sh --install
