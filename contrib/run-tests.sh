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

say "system packages (iproute2, bird2, frr, sudo, faketime)"
missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v bird >/dev/null 2>&1 || missing+=(bird2)
command -v sudo >/dev/null 2>&1 || missing+=(sudo)
command -v setpriv >/dev/null 2>&1 && command -v prlimit >/dev/null 2>&1 || missing+=(util-linux)
command -v vtysh >/dev/null 2>&1 || missing+=(frr)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
if [ "${#venvs_missing[@]}" -gt 0 ]; then
    # Debian's python3 has no ensurepip (so no `python3 -m venv`) without python3-venv.
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
    echo "all present"
fi
# bird2's and frr's packages enable their own services on some systems; the tests start their
# own BIRDs and only ask FRR's vtysh to check configuration files.

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
# The fuzz targets are their own crate (cargo fuzz builds them): make sure they still compile
# against the library.
cargo check --manifest-path fuzz/Cargo.toml --bins --locked --quiet
cargo test --all-targets --locked --no-fail-fast
