#!/usr/bin/env bash
# Build the Debian package with `cargo deb` and check it: unpack it into a scratch root with
# `dpkg -x` (nothing is installed on this machine) and check that every file is where it
# belongs, with its mode, and that the packaged binary runs. Takes about 30 s once cargo-deb is
# installed (`cargo install cargo-deb`, a few minutes, done here when it is missing).
# Usage: contrib/check-deb.sh [--no-build] [--install]
#   --no-build: check the .deb already built;
#   --install: then install it for real with dpkg (as root, on a machine where it is not
#              installed yet: a fresh one, or CI), run the installed binary and its man page,
#              and remove it again, checking that nothing of it is left.
set -euo pipefail

cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
build=1
install=0
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        --install) install=1 ;;
        *) echo "contrib/check-deb.sh: unknown argument $arg (--no-build, --install)" >&2; exit 2 ;;
    esac
done

if [ "$build" = 1 ]; then
    if ! cargo deb --version >/dev/null 2>&1; then
        echo "== installing cargo-deb (cargo install cargo-deb)"
        cargo install --locked cargo-deb
    fi
    # The binary as it ships (static: contrib/build-release.sh), then the package around it.
    echo "== contrib/build-release.sh"
    contrib/build-release.sh >/dev/null
    echo "== cargo deb --no-build --target $host"
    cargo deb --no-build --target "$host"
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
deb=$(ls -t target/"$host"/debian/exabgp-healthcheck_"$version"-*_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "no target/$host/debian/exabgp-healthcheck_$version-*.deb: run contrib/check-deb.sh" >&2; exit 1; }
echo "== checking $deb"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
dpkg-deb -f "$deb" Package Version Depends Recommends | sed 's/^/   /'

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# has PATH MODE [SOURCE]: PATH is in the package with MODE (and the content of SOURCE).
has() {
    local path=$root/$1 mode=$2 source=${3:-}
    if [ ! -f "$path" ]; then fail "missing /$1"; return; fi
    [ "$(stat -c %a "$path")" = "$mode" ] || fail "/$1 has mode $(stat -c %a "$path"), not $mode"
    if [ -n "$source" ] && ! cmp -s "$source" "$path"; then fail "/$1 differs from $source"; fi
}

doc=usr/share/doc/exabgp-healthcheck
has usr/bin/exabgp-healthcheck 755
has usr/share/man/man1/exabgp-healthcheck.1.gz 644
has usr/share/bash-completion/completions/exabgp-healthcheck 644 contrib/generated/completions/exabgp-healthcheck.bash
has usr/share/zsh/vendor-completions/_exabgp-healthcheck 644 contrib/generated/completions/_exabgp-healthcheck
has usr/share/fish/vendor_completions.d/exabgp-healthcheck.fish 644 contrib/generated/completions/exabgp-healthcheck.fish
has $doc/copyright 644
has $doc/README.md 644 README.md
has $doc/CHANGELOG.md 644 CHANGELOG.md
for f in docs/*.md docs/perf/*.svg; do has "$doc/$f" 644 "$f"; done
has $doc/contrib/systemd/exabgp.service.d/healthcheck.conf 644 contrib/systemd/exabgp.service.d/healthcheck.conf
has $doc/contrib/systemd/exabgp.service.d/drain.conf 644 contrib/systemd/exabgp.service.d/drain.conf
has $doc/contrib/routers/VENDORS.md 644 contrib/routers/VENDORS.md
for f in contrib/routers/*/*.conf; do has "$doc/$f" 644 "$f"; done
has $doc/examples/README.md 644 exabgp-examples/README.md
for f in exabgp-examples/*/*; do
    mode=644
    case "$f" in *.sh) mode=755 ;; esac
    has "$doc/examples/${f#exabgp-examples/}" "$mode" "$f"
done

# Nothing runs at install time, and nothing lands outside /usr.
control=$(mktemp -d)
dpkg-deb -e "$deb" "$control"
for script in preinst postinst prerm postrm; do
    [ ! -e "$control/$script" ] || fail "the package has a $script script"
done
rm -rf "$control"
outside=$(cd "$root" && find . -mindepth 1 -maxdepth 1 ! -name usr)
[ -z "$outside" ] || fail "files outside /usr: $outside"

# The packaged binary runs, and its man page is the generated one.
"$root/usr/bin/exabgp-healthcheck" --version | grep -q "^exabgp-healthcheck $version$" ||
    fail "the packaged binary does not report version $version"
"$root/usr/bin/exabgp-healthcheck" --once --no-syslog --ip 192.0.2.1 --cmd true >/dev/null 2>&1 ||
    fail "the packaged binary's --once does not pass with --cmd true"
zcat "$root/usr/share/man/man1/exabgp-healthcheck.1.gz" | cmp -s - contrib/generated/exabgp-healthcheck.1 ||
    fail "the packaged man page differs from contrib/generated/exabgp-healthcheck.1"

count=$(cd "$root" && find . -type f | wc -l)
if [ "$failures" -gt 0 ]; then
    echo "$failures problem(s) in $deb" >&2
    exit 1
fi
echo "ok: $deb ($count files) has everything in place"

if [ "$install" = 1 ]; then
    if dpkg -s exabgp-healthcheck >/dev/null 2>&1; then
        echo "exabgp-healthcheck is already installed here: not touching it" >&2
        exit 1
    fi
    echo "== dpkg -i $deb"
    dpkg -i "$deb"
    trap 'dpkg -r exabgp-healthcheck >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
    /usr/bin/exabgp-healthcheck --version | grep -q "^exabgp-healthcheck $version$" ||
        fail "the installed binary does not report version $version"
    if command -v man >/dev/null 2>&1; then
        man -w exabgp-healthcheck >/dev/null || fail "man does not find exabgp-healthcheck(1)"
    fi
    echo "== dpkg -r exabgp-healthcheck"
    dpkg -r exabgp-healthcheck
    [ ! -e /usr/bin/exabgp-healthcheck ] || fail "/usr/bin/exabgp-healthcheck is left after dpkg -r"
    [ ! -e /$doc ] || fail "/$doc is left after dpkg -r"
    if [ "$failures" -gt 0 ]; then
        echo "$failures problem(s) installing $deb" >&2
        exit 1
    fi
    echo "ok: $deb installs, runs and removes cleanly"
fi
