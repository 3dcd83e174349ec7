//! The man page and the shell completions under `contrib/generated/` are generated from the
//! clap definition (`exabgp_healthcheck::cli::Args`): this test renders them again and fails
//! when the committed files differ. Regenerate with
//! `UPDATE_GENERATED=1 cargo test --test generated`.
//! They are committed, rather than built by a `build.rs`, so that packaging (`cargo deb`, a
//! distribution's own build) only copies files and the installed package carries no generator.

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};
use exabgp_healthcheck::cli::ctl::{Ctl, DEFAULT_SOCKET};
use exabgp_healthcheck::cli::Args;
use std::path::{Path, PathBuf};

const NAME: &str = "exabgp-healthcheck";
/// The man page's NAME line.
const SUMMARY: &str = "announce a service address through ExaBGP while a health check passes";

fn generated_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/generated")
}

/// Every generated file: its path under `contrib/generated/` and its content.
fn generated() -> Vec<(&'static str, String)> {
    let mut files = vec![("exabgp-healthcheck.1", man_page())];
    for (path, shell) in [
        ("completions/exabgp-healthcheck.bash", Shell::Bash),
        ("completions/_exabgp-healthcheck", Shell::Zsh),
        ("completions/exabgp-healthcheck.fish", Shell::Fish),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut with_ctl(), NAME, &mut out);
        let mut script = String::from_utf8(out).expect("completions are UTF-8");
        if shell == Shell::Bash {
            // clap_complete 4.6 names the functions of a subcommand of a dashed program two
            // ways (`exabgp__healthcheck__subcmd__ctl` where it finds the subcommand,
            // `exabgp__subcmd__healthcheck__subcmd__ctl` where it completes it): one name.
            script = script.replace("exabgp__subcmd__healthcheck__", "exabgp__healthcheck__");
        }
        files.push((path, script));
    }
    files
}

/// The plugin's command with `ctl` as a subcommand, for the completions: `ctl` has its own
/// parser (`cli::ctl::Ctl`, recognised before the plugin's), but a shell completes both.
fn with_ctl() -> clap::Command {
    Args::command().subcommand(Ctl::command()).disable_help_subcommand(true)
}

/// clap_mangen's page (name, synopsis, description, the options by heading, the after-help
/// text, version) with the sections an operator looks for in a man page added before the
/// version.
fn man_page() -> String {
    // NAME takes the one-line `about`, DESCRIPTION the long one: the help's paragraph goes to
    // DESCRIPTION and NAME gets a line that fits `apropos`.
    let cmd = Args::command();
    let description = cmd.get_about().expect("an about text").clone();
    let cmd = cmd.about(SUMMARY).long_about(description);
    let man = clap_mangen::Man::new(cmd).manual("User Commands");
    let mut page = Vec::new();
    man.render(&mut page).expect("render the man page");
    let page = String::from_utf8(page).expect("the man page is UTF-8");
    // clap_mangen calls the after-help text EXTRA.
    let page = page.replacen(".SH EXTRA\n", ".SH \"DURATIONS AND CONFIGURATION FILE\"\n", 1);
    // The help's last line points at `ctl`: here a second synopsis line does (and CONTROL
    // below says the rest).
    let pointer = "Control a running plugin (\\-\\-control\\-socket): exabgp\\-healthcheck ctl \\-\\-help\n";
    assert!(page.contains(pointer), "the help's pointer to ctl");
    let page = page.replacen(pointer, "", 1);
    let ctl = "\\fBexabgp\\-healthcheck ctl\\fR [\\fB\\-\\-socket\\fR \\fIPATH\\fR] [\\fB\\-\\-json\\fR] \
               \\fBstatus\\fR|\\fBcheck\\fR|\\fBdrain\\fR|\\fBresume\\fR [\\fISERVICE\\fR] [\\fB\\-\\-wait\\fR]";
    let page = page.replacen(".SH DESCRIPTION\n", &format!(".br\n{ctl}\n.SH DESCRIPTION\n"), 1);
    let extra = extra_sections().render();
    let preamble = Roff::new().render();
    let extra = extra.strip_prefix(&preamble).expect("roff preamble");
    let at = page.find(".SH VERSION\n").expect("a VERSION section");
    format!("{}{extra}{}", &page[..at], &page[at..])
}

fn section(roff: &mut Roff, title: &str) {
    roff.control("SH", [title]);
}

fn paragraph(roff: &mut Roff, inlines: impl Into<Vec<Inline>>) {
    roff.control("PP", []).text(inlines);
}

/// A tagged paragraph: `tag` in bold, then its text indented.
fn item(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []).text([bold(tag)]).text([roman(text)]);
}

fn example(roff: &mut Roff, lines: &[&str]) {
    roff.control("PP", []).control("RS", ["4"]).control("nf", []);
    for line in lines {
        roff.text([roman(*line)]);
    }
    roff.control("fi", []).control("RE", []);
}

fn extra_sections() -> Roff {
    let mut roff = Roff::new();

    section(&mut roff, "STATES");
    paragraph(
        &mut roff,
        [roman(
            "INIT at start-up. A passing check moves INIT or DOWN to RISING, and --rise passes in a row to UP; \
             a failing check moves to FALLING, and --fall failures in a row to DOWN. While the --disable file \
             exists the service is DISABLED; when it is gone, INIT again. UP, DOWN and DISABLED announce the \
             service addresses at every check (only on changes with --debounce) with --up-metric, \
             --down-metric and --disabled-metric as the MED of the first address, growing by --increase for \
             each next one; with --withdraw-on-down, DOWN and DISABLED withdraw them instead. With --metric-from, \
             UP's MED is raised by what the check measured (its averaged latency in --metric-step steps, or the \
             number the command prints), kept below the down and disabled metrics, and changed only by \
             --metric-hysteresis or more, no sooner than --metric-hold after the last change. INIT, RISING and \
             FALLING announce nothing. RISING and FALLING check every --fast-interval, the others every \
             --interval, start to start. With --dampening, a service whose flaps (UP -> DOWN) take its penalty \
             above --dampening-suppress is SUPPRESSED: announced as DOWN is, whatever its checks say, until the \
             penalty decays below --dampening-reuse; then INIT. On SIGTERM every address is withdrawn.",
        )],
    );

    section(&mut roff, "EXIT STATUS");
    item(&mut roff, "0", "Stopped by SIGTERM or SIGINT, ExaBGP's shutdown or the end of its input, or --interval 0; with --once: healthy.");
    item(
        &mut roff,
        "1",
        "No service address (no --ip and none on lo: \"No IP found\"), or another start-up failure; with --once: \
         unhealthy or disabled.",
    );
    item(&mut roff, "2", "A bad flag, configuration file line or combination of flags; nothing was changed.");
    item(&mut roff, "70", "A bug: the withdraws were written, then the process exited.");

    section(&mut roff, "SIGNALS");
    item(&mut roff, "SIGTERM, SIGINT", "Withdraw every address, remove the addresses this process added, exit 0.");
    item(&mut roff, "SIGUSR1", "Log the current state, counter and the number of checks run, then check at once.");
    item(
        &mut roff,
        "SIGHUP",
        "Read the --config files again: unchanged services keep their state, removed ones withdraw, changed ones \
         start again from INIT, new ones start; a file that does not load changes nothing. Without --config, \
         logged and ignored.",
    );

    section(&mut roff, "CONTROL");
    paragraph(
        &mut roff,
        [roman(
            "Started with --control-socket PATH, the plugin listens on that unix socket (mode 0600, removed at \
             exit; a file there that is not a socket is refused) and answers:",
        )],
    );
    example(
        &mut roff,
        &["exabgp-healthcheck ctl [--socket PATH] [--json] status|check|drain|resume [SERVICE] [--wait [--timeout DURATION]]"],
    );
    item(
        &mut roff,
        "status [SERVICE]",
        "A table of every service (or SERVICE): its state, since when, its last check and its routes with the MED \
         each is announced with.",
    );
    item(&mut roff, "check [SERVICE]", "Check every service (or SERVICE) now, as SIGUSR1 does.");
    item(
        &mut roff,
        "drain [SERVICE] [--wait [--timeout DURATION]]",
        "Drain every service (or SERVICE), as its --drain-file would: DRAINING for --drain-time, then DRAINED \
         (withdrawn) until resumed. With --wait, return once every one is DRAINED (exit 1 after --timeout, by \
         default the longest --drain-time plus 30 s).",
    );
    item(
        &mut roff,
        "resume [SERVICE]",
        "Take the drain request back: INIT, then rising as usual (a --drain-file that exists still drains).",
    );
    item(
        &mut roff,
        "--socket PATH",
        &format!("The plugin's --control-socket; both must name the same path. Default: {DEFAULT_SOCKET}."),
    );
    item(&mut roff, "--json", "Print the plugin's answer, one JSON object, instead of text.");
    paragraph(
        &mut roff,
        [roman(
            "ctl exits 0 when done, 1 when nothing listens on the socket or the request could not be done, 2 on a \
             usage error (an unknown command or service).",
        )],
    );

    section(&mut roff, "EXAMPLES");
    paragraph(&mut roff, [roman("In "), italic("exabgp.conf"), roman(":")]);
    example(
        &mut roff,
        &[
            "process watch-nginx {",
            "    run /usr/bin/exabgp-healthcheck --name nginx --cmd \"curl -sf --max-time 2 http://127.0.0.1/\" --ip 37.72.160.20/32;",
            "    encoder text;",
            "}",
            "neighbor 192.0.2.254 {",
            "    router-id 192.0.2.10;",
            "    local-address 192.0.2.10;",
            "    local-as 64512;",
            "    peer-as 64512;",
            "    api { processes [ watch-nginx ]; }",
            "}",
        ],
    );
    paragraph(
        &mut roff,
        [roman("Test a health script by hand: run it once and show the verdict and the lines it would send:")],
    );
    example(&mut roff, &["exabgp-healthcheck --once --ip 192.0.2.1 --cmd /etc/exabgp/check-web.sh"]);
    paragraph(
        &mut roff,
        [roman("Run the whole state machine on the real schedule, changing nothing, with each check explained:")],
    );
    example(
        &mut roff,
        &["exabgp-healthcheck --dry-run --no-syslog --interval 2 --ip 192.0.2.1 --cmd 'test ! -e /tmp/maintenance'"],
    );

    section(&mut roff, "FILES");
    item(&mut roff, "/etc/exabgp/exabgp.conf", "ExaBGP's configuration, whose process stanzas run this program.");
    item(
        &mut roff,
        "/usr/share/doc/exabgp-healthcheck/examples/",
        "Complete exabgp.conf files with their health scripts, one directory per setup.",
    );
    item(
        &mut roff,
        "/usr/share/doc/exabgp-healthcheck/contrib/routers/",
        "The routers' side of each example, for BIRD 2 and FRR, and notes for Juniper, Cisco and Arista.",
    );
    item(
        &mut roff,
        "/usr/share/doc/exabgp-healthcheck/contrib/systemd/exabgp.service.d/healthcheck.conf",
        "A systemd drop-in for ExaBGP's unit that gives its processes CAP_NET_ADMIN, which adding the service \
         addresses needs.",
    );
    item(
        &mut roff,
        "/usr/share/doc/exabgp-healthcheck/contrib/systemd/exabgp.service.d/drain.conf",
        "A systemd drop-in for ExaBGP's unit whose ExecStop= drains every service (ctl drain --wait) before \
         ExaBGP stops.",
    );

    section(&mut roff, "SEE ALSO");
    paragraph(
        &mut roff,
        [
            bold("exabgp"),
            roman("(1), "),
            bold("exabgp.conf"),
            roman("(5), "),
            bold("ip-address"),
            roman("(8). The documentation in /usr/share/doc/exabgp-healthcheck/docs/: operating.md, state-machine.md, troubleshooting.md, compatibility.md, packaging.md."),
        ],
    );
    roff
}

#[test]
fn generated_files_match_the_cli() {
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for (path, wanted) in generated() {
        let full = generated_dir().join(path);
        let current = std::fs::read_to_string(&full).unwrap_or_default();
        if current == wanted {
            continue;
        }
        if update {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, wanted).unwrap_or_else(|e| panic!("write {}: {e}", full.display()));
        } else {
            stale.push(format!("contrib/generated/{path}"));
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (regenerate with UPDATE_GENERATED=1 cargo test --test generated): {}",
        stale.join(", ")
    );
}

#[test]
fn the_man_page_documents_every_option() {
    let page = man_page();
    for arg in Args::command().get_arguments() {
        if let Some(long) = arg.get_long() {
            // roff escapes each dash of an option as \-.
            let shown = format!("\\-\\-{}", long.replace('-', "\\-"));
            assert!(page.contains(&shown), "the man page lacks --{long}");
        }
    }
    for arg in Ctl::command().get_arguments() {
        if let Some(long) = arg.get_long().filter(|long| !matches!(*long, "help" | "version")) {
            let shown = format!("\\-\\-{}", long.replace('-', "\\-"));
            assert!(page.contains(&shown), "the man page lacks ctl --{long}");
        }
    }
    for command in Ctl::command().get_subcommands() {
        assert!(page.contains(&format!("\\fB{}", command.get_name())), "the man page lacks ctl {}", command.get_name());
    }
    for heading in ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "CONTROL", "EXAMPLES", "SEE ALSO"] {
        assert!(page.contains(&format!(".SH {heading}")) || page.contains(&format!(".SH \"{heading}\"")), "{heading}");
    }
}

#[test]
fn the_bash_completion_is_valid_bash() {
    let (_, script) = generated().into_iter().find(|(p, _)| p.ends_with(".bash")).unwrap();
    let out = std::process::Command::new("bash").args(["-n", "-c", &script]).output().expect("bash");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(script.contains("--withdraw-on-down") && script.contains("complete -F"), "{script}");
    // What bash offers after these words (the last one being completed).
    let complete = |words: &str| {
        let call = format!(
            "{script}\nCOMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _exabgp__healthcheck {NAME} \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[*]}}\""
        );
        let out = std::process::Command::new("bash").args(["-c", &call]).output().expect("bash");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(complete("exabgp-healthcheck --withd"), "--withdraw-on-down");
    assert_eq!(complete("exabgp-healthcheck ctl st"), "status");
    assert_eq!(complete("exabgp-healthcheck ctl status --js"), "--json");
}
