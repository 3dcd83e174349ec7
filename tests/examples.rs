//! The examples under `exabgp-examples/` are complete and working:
//! - every `exabgp*.conf` is accepted by the real ExaBGP, 5.0 (`exabgp validate -n`) and 4.2
//!   (`exabgp --test`), from the pinned virtualenvs the test command installs, and the same
//!   checks refuse deliberately broken copies;
//! - every process is this binary, its flags (as ExaBGP's own parser splits the `run` line) are
//!   valid (`--once --no-ip-setup` runs and does not exit 2), and the lines it would send go to
//!   neighbors that have the process and negotiate the route's address family;
//! - every health script is an executable POSIX sh script that runs to an exit status within
//!   its bound;
//! - the routers' side under `contrib/routers/` parses with BIRD 2 and with FRR's vtysh
//!   (contrib/run-tests.sh installs both).
//!
//! The configurations name `/usr/bin/exabgp-healthcheck` (where the .deb installs it) and
//! `/etc/exabgp/...`; ExaBGP refuses a `run` program that does not exist, so each example is
//! checked in a copy where those two are replaced by the binary under test and the copy's
//! directory. Nothing here touches the network or the system's addresses.

mod common;

use common::{exabgp, in_path, Scratch, BIN};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Where the examples expect the binary and their files once installed.
const INSTALLED_BIN: &str = "/usr/bin/exabgp-healthcheck";
const INSTALLED_DIR: &str = "/etc/exabgp/";

/// One pinned ExaBGP, as the test command installs it.
struct ExaBgp {
    version: &'static str,
    venv: PathBuf,
}

impl ExaBgp {
    fn find(version: &'static str) -> ExaBgp {
        let (venv, var) = (exabgp::venv(version), exabgp::venv_variable(version));
        let exabgp = venv.join("bin/exabgp");
        assert!(
            exabgp.is_file(),
            "ExaBGP {version} is missing: no {exabgp} (set {var}, or run contrib/run-tests.sh, or create it with \
             `python3 -m venv {venv} && {venv}/bin/pip install exabgp=={version}`)",
            exabgp = exabgp.display(),
            venv = venv.display()
        );
        ExaBgp { version, venv }
    }

    fn five() -> ExaBgp {
        ExaBgp::find(exabgp::V5)
    }

    fn four() -> ExaBgp {
        ExaBgp::find(exabgp::V4)
    }

    /// The version's own configuration check: `exabgp validate -n` (5.x), `exabgp --test` (4.x).
    fn validate(&self, conf: &Path) -> Command {
        let mut cmd = Command::new(self.venv.join("bin/exabgp"));
        if self.version.starts_with('4') {
            cmd.arg("--test");
        } else {
            cmd.args(["validate", "-n"]);
        }
        cmd.arg(conf).current_dir(conf.parent().unwrap());
        // 4.2 looks for the CLI's named pipes and says so at length when it finds none.
        cmd.env("exabgp_api_cli", "false");
        cmd
    }

    /// ExaBGP's own parser, asked for each process's argv and each neighbor's processes and
    /// address families (the same attributes in 4.2 and 5.0).
    fn parse(&self, conf: &Path) -> Value {
        let out = run_bounded(
            Command::new(self.venv.join("bin/python")).args(["-c", PARSE, &conf.display().to_string()]),
            Duration::from_secs(60),
        );
        assert!(out.success(), "ExaBGP {} could not parse {}:\n{}", self.version, conf.display(), out.text());
        let last = out.stdout.lines().last().unwrap_or_default().to_owned();
        serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {}", out.text()))
    }
}

const PARSE: &str = r#"
import json, sys
try:
    from exabgp.environment import getenv
    from exabgp.logger import log
    log.init(getenv())
except ImportError:
    from exabgp.configuration.setup import environment
    environment.setup('')
from exabgp.configuration.configuration import Configuration
conf = Configuration([sys.argv[1]])
if not conf.reload():
    sys.exit('invalid: %s' % conf.error)
neighbors = {}
for n in conf.neighbors.values():
    address = n.peer_address if hasattr(n, 'peer_address') else n['peer-address']
    neighbors[str(address)] = {
        'processes': list(n.api['processes']),
        'families': ['%s %s' % (afi, safi) for afi, safi in n.families()],
    }
processes = {name: p['run'] for name, p in conf.processes.items()}
print(json.dumps({'processes': processes, 'neighbors': neighbors}))
"#;

/// What a bounded run ended in.
struct Finished {
    /// None: still running at the limit, killed with its process group.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Finished {
    fn success(&self) -> bool {
        self.code == Some(0)
    }

    fn text(&self) -> String {
        format!("exit {:?} after {:?}\nstdout:\n{}\nstderr:\n{}", self.code, self.took, self.stdout, self.stderr)
    }
}

/// Run `cmd` in its own process group with stdin from /dev/null and its output in files (so a
/// child holding them open cannot block us); after `limit` the whole group is killed.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Finished {
    wait_bounded(spawn(cmd), limit)
}

struct Running {
    child: std::process::Child,
    out: Scratch,
    started: Instant,
}

fn spawn(cmd: &mut Command) -> Running {
    let out = Scratch::new("examples-out");
    let stdout = std::fs::File::create(out.file("stdout")).unwrap();
    let stderr = std::fs::File::create(out.file("stderr")).unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("failed to start {cmd:?}: {e}"));
    Running { child, out, started: Instant::now() }
}

fn wait_bounded(mut running: Running, limit: Duration) -> Finished {
    let left = limit.saturating_sub(running.started.elapsed());
    let status = common::exited_within(&mut running.child, left, Duration::from_millis(10));
    let code = match status {
        Some(status) => Some(status.code().unwrap_or(-1)),
        None => {
            let group = nix::unistd::Pid::from_raw(running.child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = running.child.wait();
            None
        }
    };
    let read = |name| std::fs::read_to_string(running.out.file(name)).unwrap_or_default();
    Finished { code, stdout: read("stdout"), stderr: read("stderr"), took: running.started.elapsed() }
}

/// The example directories, by name.
fn examples() -> Vec<(String, PathBuf)> {
    let dir = Path::new(ROOT).join("exabgp-examples");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .expect("exabgp-examples/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    found.sort();
    assert!(found.len() >= 6, "expected the six examples, found {found:?}");
    found
}

fn files(dir: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && pred(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    found.sort();
    found
}

fn is_exabgp_conf(name: &str) -> bool {
    name.starts_with("exabgp") && name.ends_with(".conf")
}

/// A copy of an example where the installed paths point at the binary under test and the
/// copy itself. File modes are kept.
fn stage(name: &str, dir: &Path) -> Scratch {
    let scratch = Scratch::new(&format!("example-{name}"));
    let here = format!("{}/", scratch.path.display());
    for file in files(dir, |_| true) {
        let target = scratch.file(&file.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&target, text.replace(INSTALLED_BIN, BIN).replace(INSTALLED_DIR, &here)).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    scratch
}

#[test]
fn every_example_is_complete() {
    for (name, dir) in examples() {
        for needed in ["README.md", "exabgp.conf"] {
            assert!(dir.join(needed).is_file(), "{name}: no {needed}");
        }
        assert!(!files(&dir, |n| n.ends_with(".sh")).is_empty(), "{name}: no health script");
        let routers = Path::new(ROOT).join("contrib/routers").join(&name);
        for needed in ["bird.conf", "frr.conf"] {
            assert!(routers.join(needed).is_file(), "{name}: no contrib/routers/{name}/{needed}");
        }
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        assert!(readme.contains(&format!("contrib/routers/{name}")), "{name}/README.md does not point to its routers");
        for conf in files(&dir, is_exabgp_conf) {
            let text = std::fs::read_to_string(&conf).unwrap();
            let runs: Vec<&str> = text.lines().map(str::trim).filter(|l| l.starts_with("run ")).collect();
            assert!(!runs.is_empty(), "{}: no process", conf.display());
            for run in runs {
                assert!(
                    run.starts_with(&format!("run {INSTALLED_BIN} ")),
                    "{}: a process that is not {INSTALLED_BIN}: {run}",
                    conf.display()
                );
            }
        }
    }
    let routers: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("contrib/routers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let names: Vec<String> = examples().into_iter().map(|(n, _)| n).collect();
    for router in routers {
        assert!(names.contains(&router), "contrib/routers/{router} has no example");
    }
}

/// Validate every example's configurations with one ExaBGP, all at once.
fn every_example_is_accepted_by(exabgp: ExaBgp) {
    let staged: Vec<(String, Scratch)> =
        examples().iter().map(|(name, dir)| (name.clone(), stage(name, dir))).collect();
    let runs: Vec<(PathBuf, Running)> = staged
        .iter()
        .flat_map(|(_, scratch)| files(&scratch.path, is_exabgp_conf))
        .map(|conf| {
            let running = spawn(&mut exabgp.validate(&conf));
            (conf, running)
        })
        .collect();
    let mut failures = Vec::new();
    for (conf, running) in runs {
        let done = wait_bounded(running, Duration::from_secs(120));
        if !done.success() {
            failures.push(format!("{}:\n{}", conf.display(), done.text()));
        }
    }
    assert!(failures.is_empty(), "ExaBGP {} refused:\n{}", exabgp.version, failures.join("\n"));
}

#[test]
fn exabgp_5_accepts_every_example() {
    every_example_is_accepted_by(ExaBgp::five());
}

#[test]
fn exabgp_4_accepts_every_example() {
    every_example_is_accepted_by(ExaBgp::four());
}

#[test]
fn both_exabgp_versions_refuse_broken_copies() {
    let dir = Path::new(ROOT).join("exabgp-examples/two-load-balancers-med");
    let scratch = stage("broken", &dir);
    let good = std::fs::read_to_string(scratch.file("exabgp.conf")).unwrap();
    let installed = std::fs::read_to_string(dir.join("exabgp.conf")).unwrap();
    let broken = [
        ("misspelled keyword", good.replacen("peer-as", "peer-az", 1)),
        ("unknown process", good.replacen("processes [ watch-web ]", "processes [ watch-wbe ]", 1)),
        ("unbalanced brace", good.replacen("encoder text;\n}", "encoder text;\n", 1)),
        ("run program missing", installed.replace(INSTALLED_BIN, "/nonexistent/exabgp-healthcheck")),
    ];
    let mut runs = Vec::new();
    for (i, (what, text)) in broken.iter().enumerate() {
        assert_ne!(*text, good, "{what}: the copy is not broken");
        let conf = scratch.write(&format!("broken-{i}.conf"), text);
        for exabgp in [ExaBgp::five(), ExaBgp::four()] {
            runs.push((what, exabgp.version, spawn(&mut exabgp.validate(&conf))));
        }
    }
    // The unbroken copy passes in the same setting, so the failures are the breakage's.
    let conf = scratch.file("exabgp.conf");
    for exabgp in [ExaBgp::five(), ExaBgp::four()] {
        let done = run_bounded(&mut exabgp.validate(&conf), Duration::from_secs(120));
        assert!(done.success(), "ExaBGP {} refused the unbroken copy:\n{}", exabgp.version, done.text());
    }
    for (what, version, running) in runs {
        let done = wait_bounded(running, Duration::from_secs(120));
        assert!(done.code.is_some(), "ExaBGP {version} hung on the {what} copy");
        assert!(!done.success(), "ExaBGP {version} accepted a copy with a {what}:\n{}", done.text());
    }
}

/// The lines `--once` prints: (neighbors selected, or empty for all; the route's prefix).
fn targets(line: &str) -> (Vec<String>, String) {
    let (selector, rest) = match line.find("announce route ").or_else(|| line.find("withdraw route ")) {
        Some(at) => (&line[..at], &line[at..]),
        None => panic!("not an announcement: {line}"),
    };
    let neighbors = selector
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_prefix("neighbor ").unwrap_or_else(|| panic!("selector {s:?} in {line}")).to_owned())
        .collect();
    let prefix = rest.split_whitespace().nth(2).unwrap_or_else(|| panic!("no prefix in {line}")).to_owned();
    (neighbors, prefix)
}

#[test]
fn every_process_is_this_binary_with_valid_flags_and_reachable_neighbors() {
    let five = ExaBgp::five();
    let four = ExaBgp::four();
    for (name, dir) in examples() {
        let scratch = stage(&name, &dir);
        for conf in files(&scratch.path, is_exabgp_conf) {
            let label = format!("{name}/{}", conf.file_name().unwrap().to_string_lossy());
            let parsed = five.parse(&conf);
            assert_eq!(parsed, four.parse(&conf), "{label}: ExaBGP 5.0 and 4.2 read it differently");
            let processes = parsed["processes"].as_object().unwrap();
            let neighbors = parsed["neighbors"].as_object().unwrap();
            assert!(!processes.is_empty(), "{label}: no process");
            for (process, argv) in processes {
                let argv: Vec<&str> = argv.as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
                assert_eq!(argv[0], BIN, "{label}: process {process} is not exabgp-healthcheck");
                let attached: BTreeMap<&str, &Value> = neighbors
                    .iter()
                    .filter(|(_, n)| n["processes"].as_array().unwrap().iter().any(|p| p == process.as_str()))
                    .map(|(a, n)| (a.as_str(), n))
                    .collect();
                assert!(!attached.is_empty(), "{label}: process {process} is in no neighbor's api {{ processes }}");

                // What `--once` refuses (the process's BFD speaker and watchdog), with their
                // values: it checks the services, not those.
                let process_only = ["--bfd", "--bfd-local", "--bfd-interval", "--bfd-multiplier", "--watchdog"];
                let mut service_argv: Vec<&str> = Vec::new();
                let mut skip = false;
                for arg in &argv[1..] {
                    if std::mem::take(&mut skip) {
                        continue;
                    }
                    if process_only.contains(arg) {
                        skip = true;
                        continue;
                    }
                    service_argv.push(arg);
                }
                let mut cmd = Command::new(BIN);
                cmd.args(&service_argv).args(["--once", "--no-ip-setup"]);
                // --no-syslog conflicts with --silent and --syslog-facility (and --debug implies it).
                let quiet = ["--silent", "-s", "--debug", "-d", "--syslog-facility", "-sF"];
                if !argv.iter().any(|a| quiet.contains(a)) {
                    cmd.arg("--no-syslog");
                }
                let done = run_bounded(&mut cmd, Duration::from_secs(30));
                let context = format!("{label}: process {process}: {argv:?} --once --no-ip-setup\n{}", done.text());
                assert!(matches!(done.code, Some(0 | 1)), "{context}");
                let lines: Vec<&str> = done.stdout.lines().collect();
                assert!(!lines.is_empty(), "{context}");
                for line in lines {
                    let (selected, prefix) = targets(line);
                    let family = if prefix.contains(':') { "ipv6 unicast" } else { "ipv4 unicast" };
                    let reached: Vec<&str> = if selected.is_empty() {
                        attached.keys().copied().collect()
                    } else {
                        selected.iter().map(String::as_str).collect()
                    };
                    for neighbor in reached {
                        let Some(n) = attached.get(neighbor) else {
                            panic!("{context}\n{line}: neighbor {neighbor} does not have process {process}");
                        };
                        let families = n["families"].as_array().unwrap();
                        assert!(
                            families.iter().any(|f| f == family),
                            "{context}\n{line}: neighbor {neighbor} does not negotiate {family}: {families:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn every_health_script_is_posix_sh_and_ends_within_its_bound() {
    let scripts: Vec<PathBuf> = examples().iter().flat_map(|(_, dir)| files(dir, |n| n.ends_with(".sh"))).collect();
    assert!(scripts.len() >= 6, "{scripts:?}");
    let mut runs = Vec::new();
    for script in scripts {
        let shown = script.strip_prefix(ROOT).unwrap().display().to_string();
        let mode = std::fs::metadata(&script).unwrap().permissions().mode();
        assert!(mode & 0o111 == 0o111, "{shown} is not executable by everyone: {mode:o}");
        let text = std::fs::read_to_string(&script).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"), "{shown} does not start with #!/bin/sh");
        let syntax = run_bounded(Command::new("/bin/sh").arg("-n").arg(&script), Duration::from_secs(10));
        assert!(syntax.success() && syntax.stderr.is_empty(), "sh -n {shown}:\n{}", syntax.text());
        // Run as ExaBGP would have the plugin run it: no arguments (each defaults to this
        // host's loopback), nothing on stdin. No service runs here, so it may well fail.
        runs.push((shown, spawn(&mut Command::new(&script))));
    }
    for (shown, running) in runs {
        let done = wait_bounded(running, Duration::from_secs(15));
        assert!(done.code.is_some(), "{shown} did not end within 15 s:\n{}", done.text());
        assert!(!matches!(done.code, Some(126 | 127)), "{shown} could not run:\n{}", done.text());
        let said = format!("{}{}", done.stdout, done.stderr);
        for bad in ["syntax error", "not found", "unbound variable", "parameter not set"] {
            assert!(!said.contains(bad), "{shown} said {bad:?}:\n{}", done.text());
        }
        assert!(done.took < Duration::from_secs(5), "{shown} took {:?}, more than its bound", done.took);
    }
}

/// `program` in `PATH`, else in /usr/sbin or /usr/bin.
fn installed(program: &str) -> Option<PathBuf> {
    in_path(program)
        .or_else(|| ["/usr/sbin", "/usr/bin"].map(|d| Path::new(d).join(program)).into_iter().find(|p| p.is_file()))
}

#[test]
fn bird_accepts_every_router_configuration() {
    let bird = installed("bird").expect("bird is not installed (contrib/run-tests.sh installs bird2)");
    let mut failures = Vec::new();
    for (name, _) in examples() {
        let conf = Path::new(ROOT).join("contrib/routers").join(&name).join("bird.conf");
        let done = run_bounded(Command::new(&bird).arg("-p").arg("-c").arg(&conf), Duration::from_secs(30));
        if !done.success() {
            failures.push(format!("{name}:\n{}", done.text()));
        }
    }
    assert!(failures.is_empty(), "bird -p refused:\n{}", failures.join("\n"));
}

#[test]
fn frr_accepts_every_router_configuration() {
    let vtysh = installed("vtysh").expect("vtysh is not installed (contrib/run-tests.sh installs frr)");
    let mut failures = Vec::new();
    for (name, _) in examples() {
        let conf = Path::new(ROOT).join("contrib/routers").join(&name).join("frr.conf");
        let done = run_bounded(Command::new(&vtysh).arg("-C").arg("-f").arg(&conf), Duration::from_secs(30));
        if !done.success() {
            failures.push(format!("{name}:\n{}", done.text()));
        }
    }
    assert!(failures.is_empty(), "vtysh -C refused:\n{}", failures.join("\n"));
}
