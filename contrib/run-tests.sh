#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian machine (as root) and
# runs every test. Idempotent: what is already there is not installed again. CI runs this.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n=== %s\n' "$*"; }

say "system packages (iproute2, bird2, sudo)"
missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v bird >/dev/null 2>&1 || missing+=(bird2)
command -v sudo >/dev/null 2>&1 || missing+=(sudo)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "all present"
fi
# bird2's package enables its own service on some systems; the tests start their own BIRDs.

say "ExaBGP virtualenvs (pinned)"
for version in 5.0.15 4.2.25; do
    venv="$root/target/exabgp-venv/$version"
    if "$venv/bin/python" -c 'import exabgp' >/dev/null 2>&1; then
        echo "exabgp $version: present"
    else
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --disable-pip-version-check -q "exabgp==$version"
        echo "exabgp $version: installed"
    fi
done
export EXABGP_VENV_5="$root/target/exabgp-venv/5.0.15"
export EXABGP_VENV_4="$root/target/exabgp-venv/4.2.25"

say "cargo test (every test: unit, integration, addresses, differential, end-to-end)"
cargo test --all-targets --locked
