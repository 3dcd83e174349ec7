#!/usr/bin/env bash
# Build the Debian package with `cargo deb` and check it: unpack it into a scratch root with
# `dpkg -x` (nothing is installed on this machine) and check that every file is where it
# belongs, with its mode, and that the packaged binary runs. Takes about 30 s once cargo-deb is
# installed (`cargo install cargo-deb`, a few minutes, done here when it is missing).
# Usage: contrib/check-deb.sh [--no-build] [--install]
#   --no-build: check the .deb already built;
#   --install: then install it for real with dpkg (as root, on a machine where neither it nor
#              Debian's exabgp is installed yet: a fresh one, or CI), run the installed binary
#              and its man page, and remove it again, checking that nothing of it is left; then
#              install it beside Debian's exabgp in both orders (apt-get fetches exabgp and
#              python3-exabgp from the Debian archive) and check the diversion of
#              python3-exabgp's /usr/bin/exabgp-healthcheck (docs/packaging.md, "Beside Debian's
#              exabgp"); everything it installed is purged again at the end.
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
has $doc/contrib/prometheus/alerts.yml 644 contrib/prometheus/alerts.yml
for f in contrib/routers/*/*.conf; do has "$doc/$f" 644 "$f"; done
has $doc/examples/README.md 644 exabgp-examples/README.md
for f in exabgp-examples/*/*; do
    mode=644
    case "$f" in *.sh) mode=755 ;; esac
    has "$doc/examples/${f#exabgp-examples/}" "$mode" "$f"
done

# The maintainer scripts are contrib/debian's preinst and postrm (the diversion of
# python3-exabgp's /usr/bin/exabgp-healthcheck), as they are in the repository: mode 755, POSIX
# sh with `set -e`; there are no others. Nothing lands outside /usr.
control=$(mktemp -d)
dpkg-deb -e "$deb" "$control"
for script in preinst postrm; do
    path=$control/$script
    if [ ! -f "$path" ]; then fail "the package has no $script script"; continue; fi
    [ "$(stat -c %a "$path")" = 755 ] || fail "$script has mode $(stat -c %a "$path"), not 755"
    cmp -s "contrib/debian/$script" "$path" || fail "$script differs from contrib/debian/$script"
    [ "$(head -n 1 "$path")" = "#!/bin/sh" ] || fail "$script does not start with #!/bin/sh"
    grep -qx 'set -e' "$path" || fail "$script has no 'set -e' line"
    sh -n "$path" || fail "$script does not parse with sh -n"
    # dash is Debian's /bin/sh; checkbashisms (devscripts) is used when it is there.
    if command -v dash >/dev/null 2>&1; then dash -n "$path" || fail "$script does not parse with dash -n"; fi
    if command -v checkbashisms >/dev/null 2>&1; then checkbashisms "$path" || fail "checkbashisms $script"; fi
done
for script in postinst prerm config templates triggers; do
    [ ! -e "$control/$script" ] || fail "the package has a $script"
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

[ "$install" = 1 ] || exit 0

# --install: for real, with dpkg, on this machine. Alone first, then beside Debian's exabgp,
# whose python3-exabgp ships ExaBGP's own /usr/bin/exabgp-healthcheck: installed before ours
# (a), with ours removed and purged again (b), installed after ours (c), and removed while ours
# stays. At the end (d), and on any failure, everything this installed is purged again.
[ "$(id -u)" = 0 ] || { echo "contrib/check-deb.sh --install: run it as root" >&2; exit 1; }
bin=/usr/bin/exabgp-healthcheck
diverted=/usr/bin/exabgp-healthcheck.python3-exabgp
diversion="diversion of $bin to $diverted by exabgp-healthcheck"

# What was here is not touched: refuse unless none of the three packages is known to dpkg (not
# even as config-files) and nothing is at, or diverts, /usr/bin/exabgp-healthcheck.
known() {
    local status
    status=$(dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null) || return 1
    [ -n "$status" ] && [ "$status" != not-installed ]
}
for package in exabgp-healthcheck exabgp python3-exabgp; do
    if known "$package"; then
        echo "$package is already installed here: not touching it" >&2
        exit 1
    fi
done
if [ -e "$bin" ] || [ -e "$diverted" ] || [ -n "$(dpkg-divert --list "$bin")" ]; then
    echo "$bin, $diverted or a diversion of $bin is already here: not touching it" >&2
    exit 1
fi
had_user=0
getent passwd exabgp >/dev/null && had_user=1
had_group=0
getent group exabgp >/dev/null && had_group=1
had_home=0
[ -e /run/exabgp ] && had_home=1

# Debian's exabgp starts its service when it is installed: a policy-rc.d that denies every start
# (exit 101, as contrib/run-tests.sh does for nginx) keeps it from running; one already there is
# put back afterwards, even on failure.
policy=/usr/sbin/policy-rc.d
policy_saved=
policy_ours=
apt_installed=()
cleanup() {
    set +e
    if known exabgp-healthcheck; then dpkg -P exabgp-healthcheck >/dev/null 2>&1; fi
    local installed=()
    for package in "${apt_installed[@]}"; do
        if known "$package"; then installed+=("$package"); fi
    done
    if [ "${#installed[@]}" -gt 0 ]; then
        echo "== apt-get purge ${installed[*]} (installed by this check)"
        apt-get purge -y -q "${installed[@]}" </dev/null >/dev/null
    fi
    apt_installed=()
    # Debian's exabgp adds a system user (and group) exabgp that its purge leaves.
    if [ "$had_user" = 0 ] && getent passwd exabgp >/dev/null; then userdel exabgp; fi
    if [ "$had_group" = 0 ] && getent group exabgp >/dev/null; then groupdel exabgp; fi
    if [ "$had_home" = 0 ] && [ -d /run/exabgp ]; then rmdir /run/exabgp 2>/dev/null; fi
    if [ -n "$policy_ours" ]; then
        rm -f "$policy"
        if [ -n "$policy_saved" ]; then mv -f "$policy_saved" "$policy"; fi
        policy_ours=
    fi
    rm -rf "$root"
    set -e
}
trap cleanup EXIT
if [ -e "$policy" ]; then
    policy_saved="$policy.ehc-saved"
    cp -p "$policy" "$policy_saved"
fi
policy_ours=1
printf '#!/bin/sh\n# exabgp-healthcheck contrib/check-deb.sh: no service starts while it installs.\nexit 101\n' >"$policy"
chmod 755 "$policy"
export DEBIAN_FRONTEND=noninteractive

ours() { "$bin" --version 2>/dev/null | grep -qx "exabgp-healthcheck $version"; }
# theirs PATH: PATH is python3-exabgp's script, and it runs: its --help prints the reference's
# usage, under the name it was run as, with the reference's flags.
theirs() {
    local help
    [ -f "$1" ] && [ "$(head -n 1 "$1")" = "#!/usr/bin/python3" ] || return 1
    help=$("$1" --help 2>/dev/null) || return 1
    [[ "$help" == "usage: $(basename "$1") [-h]"* ]] && [[ "$help" == *--no-ack* ]]
}
diverted_by_us() { [ "$(dpkg-divert --list "$bin")" = "$diversion" ]; }
no_diversion() { [ -z "$(dpkg-divert --list "$bin")" ]; }
apt_install_exabgp() {
    echo "== apt-get install --no-install-recommends exabgp"
    local package
    # Exactly what apt installs (exabgp, python3-exabgp, and what they need that is not here).
    while read -r package; do
        apt_installed+=("$package")
    done < <(apt-get install -s -q --no-install-recommends exabgp </dev/null | sed -n 's/^Inst \([^ ]*\) .*/\1/p')
    apt-get install -y -q --no-install-recommends exabgp </dev/null >/dev/null
}
purge_ours() {
    echo "== dpkg -P exabgp-healthcheck"
    dpkg -P exabgp-healthcheck
    no_diversion || fail "a diversion of $bin is left after dpkg -P: $(dpkg-divert --list "$bin")"
    ! known exabgp-healthcheck || fail "exabgp-healthcheck is still known to dpkg after dpkg -P"
}
finish() {
    if [ "$failures" -gt 0 ]; then
        echo "$failures problem(s) installing $deb ($1)" >&2
        exit 1
    fi
    echo "ok: $1"
}

# Alone.
echo "== dpkg -i $deb"
dpkg -i "$deb"
ours || fail "the installed binary does not report version $version"
if command -v man >/dev/null 2>&1; then
    man -w exabgp-healthcheck >/dev/null || fail "man does not find exabgp-healthcheck(1)"
fi
diverted_by_us || fail "dpkg-divert --list $bin does not show ours: $(dpkg-divert --list "$bin")"
[ ! -e "$diverted" ] || fail "$diverted is there without python3-exabgp"
echo "== dpkg -i $deb (again: preinst upgrade)"
dpkg -i "$deb" >/dev/null
ours || fail "the reinstalled binary does not report version $version"
diverted_by_us || fail "the diversion is not there after a reinstall"
echo "== dpkg -r exabgp-healthcheck"
dpkg -r exabgp-healthcheck
[ ! -e "$bin" ] || fail "$bin is left after dpkg -r"
[ ! -e "/$doc" ] || fail "/$doc is left after dpkg -r"
no_diversion || fail "a diversion of $bin is left after dpkg -r: $(dpkg-divert --list "$bin")"
purge_ours
finish "$deb installs, runs and removes cleanly"

echo "== apt-get update"
apt-get update -q </dev/null >/dev/null

# (a) Debian's exabgp first, then ours.
apt_install_exabgp
theirs "$bin" || fail "apt-get install exabgp did not put python3-exabgp's exabgp-healthcheck at $bin"
echo "== dpkg -i $deb (beside Debian's exabgp)"
dpkg -i "$deb"
ours || fail "$bin is not ours beside Debian's exabgp"
theirs "$diverted" || fail "python3-exabgp's exabgp-healthcheck is not at $diverted, or does not run"
diverted_by_us || fail "dpkg-divert --list $bin does not show ours: $(dpkg-divert --list "$bin")"
# (b) Ours removed: theirs is back.
echo "== dpkg -r exabgp-healthcheck (beside Debian's exabgp)"
dpkg -r exabgp-healthcheck
theirs "$bin" || fail "python3-exabgp's exabgp-healthcheck is not back at $bin after dpkg -r"
[ ! -e "$diverted" ] || fail "$diverted is left after dpkg -r"
no_diversion || fail "a diversion of $bin is left after dpkg -r: $(dpkg-divert --list "$bin")"
purge_ours
theirs "$bin" || fail "python3-exabgp's exabgp-healthcheck is not at $bin after dpkg -P"
finish "$deb installs after Debian's exabgp, and gives its exabgp-healthcheck back"

# (c) Ours first, then Debian's exabgp.
echo "== apt-get purge exabgp python3-exabgp"
apt-get purge -y -q exabgp python3-exabgp </dev/null >/dev/null
[ ! -e "$bin" ] || fail "$bin is left after purging Debian's exabgp"
echo "== dpkg -i $deb (before Debian's exabgp)"
dpkg -i "$deb" >/dev/null
apt_install_exabgp
ours || fail "$bin is not ours after apt-get install exabgp"
theirs "$diverted" || fail "apt-get install exabgp did not put python3-exabgp's exabgp-healthcheck at $diverted"
diverted_by_us || fail "dpkg-divert --list $bin does not show ours: $(dpkg-divert --list "$bin")"
echo "== dpkg -r exabgp-healthcheck (Debian's exabgp installed after it)"
dpkg -r exabgp-healthcheck
theirs "$bin" || fail "python3-exabgp's exabgp-healthcheck is not back at $bin after dpkg -r"
[ ! -e "$diverted" ] || fail "$diverted is left after dpkg -r"
purge_ours
finish "$deb installs before Debian's exabgp, and gives its exabgp-healthcheck back"

# Debian's exabgp removed while ours stays: their diverted file goes, ours stays.
echo "== dpkg -i $deb, then apt-get purge exabgp python3-exabgp"
dpkg -i "$deb" >/dev/null
theirs "$diverted" || fail "python3-exabgp's exabgp-healthcheck is not at $diverted"
apt-get purge -y -q exabgp python3-exabgp </dev/null >/dev/null
ours || fail "$bin is not ours after purging Debian's exabgp"
[ ! -e "$diverted" ] || fail "$diverted is left after purging Debian's exabgp"
diverted_by_us || fail "the diversion is gone after purging Debian's exabgp"
purge_ours
[ ! -e "$bin" ] || fail "$bin is left after dpkg -P"
finish "Debian's exabgp removes beside $deb, which stays"

# (d) The machine as it was found: Debian's exabgp and what came with it purged.
cleanup
trap - EXIT
[ ! -e "$bin" ] || fail "$bin is left after purging Debian's exabgp"
[ ! -e "$diverted" ] || fail "$diverted is left after purging Debian's exabgp"
no_diversion || fail "a diversion of $bin is left: $(dpkg-divert --list "$bin")"
for package in exabgp python3-exabgp; do
    ! known "$package" || fail "$package is still installed after the check"
done
finish "Debian's exabgp, and all this check installed, purged again"
