//! `exabgp-healthcheck ctl`: one request to a running plugin's control socket, its answer
//! printed (text, or the JSON as it came with `--json`), and an exit status that says how it
//! went ([`crate::exit::Code`]: 0 done, 1 nobody listens or it could not be done, 2 a usage
//! error). Blocking I/O with timeouts: this is a short-lived command, not the plugin.

use super::protocol::{self, Answer, Command, Kind, Request};
use crate::cli::ctl::{Ctl, CtlCommand};
use crate::exit::Code;
use crate::os_error::{in_words, Words};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long an answer may take (the plugin answers from its main loop, at once).
const ANSWER_TIME: Duration = Duration::from_secs(10);

/// How long `drain --wait` waits without `--timeout` (the plugin gives up before that: after
/// the drain time and [`protocol::WAIT_MARGIN`]).
const DRAIN_WAIT: Duration = Duration::from_secs(3600);

/// The most bytes of an answer (a status of 1,000 services fits many times over).
const MAX_ANSWER: u64 = 16 << 20;

/// Run `ctl` with `argv` (`ctl` first, then its arguments).
pub fn main(argv: &[OsString]) -> Code {
    let ctl = match Ctl::parse_from_argv(argv) {
        Ok(ctl) => ctl,
        Err(err) => {
            use clap::error::ErrorKind;
            let code = match err.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Code::Ok,
                _ => Code::Usage,
            };
            let _ = err.print();
            return code;
        }
    };
    let request = request_of(&ctl.command);
    let limit = match (request.wait, request.timeout) {
        (false, _) => ANSWER_TIME,
        (true, Some(timeout)) => timeout.saturating_add(ANSWER_TIME),
        (true, None) => DRAIN_WAIT,
    };
    let answer = match ask(&ctl.socket, &request, limit) {
        Ok(answer) => answer,
        Err(err) => {
            crate::say!("error: {err}");
            return Code::Unhealthy;
        }
    };
    if ctl.json {
        crate::show!("{}", answer.to_line());
    } else if answer.ok {
        crate::show!("{}", text(&request, &answer));
    }
    match (answer.ok, answer.kind) {
        (true, _) => Code::Ok,
        (false, kind) => {
            if !ctl.json {
                crate::say!("error: {}", answer.error.as_deref().unwrap_or("the plugin refused the request"));
            }
            if kind == Some(Kind::Usage) {
                Code::Usage
            } else {
                Code::Unhealthy
            }
        }
    }
}

/// The request a command line makes.
fn request_of(command: &CtlCommand) -> Request {
    let (cmd, wait, timeout) = match *command {
        CtlCommand::Status { .. } => (Command::Status, false, None),
        CtlCommand::Check { .. } => (Command::Check, false, None),
        CtlCommand::Drain { wait, timeout, .. } => (Command::Drain, wait, timeout),
        CtlCommand::Resume { .. } => (Command::Resume, false, None),
    };
    Request { wait, timeout, ..Request::new(cmd, command.service()) }
}

/// Send `request` to the plugin listening on `socket` and read its answer, within `limit`.
pub fn ask(socket: &Path, request: &Request, limit: Duration) -> Result<Answer, String> {
    let shown = socket.display();
    let mut stream = UnixStream::connect(socket)
        .map_err(|err| format!("no exabgp-healthcheck listens on {shown}: {}", in_words(&err, Words::System)))?;
    let failed =
        |what: &str, err: std::io::Error| format!("failed to {what} {shown}: {}", in_words(&err, Words::System));
    stream.set_read_timeout(Some(limit)).map_err(|err| failed("set a timeout on", err))?;
    stream.set_write_timeout(Some(limit)).map_err(|err| failed("set a timeout on", err))?;
    // A plugin that refuses at once (busy) answers and closes before the request is all
    // written: its answer, if it came, says more than the failed write.
    let wrote = stream.write_all(request.to_line().as_bytes());
    let mut line = String::new();
    let read = BufReader::new((&stream).take(MAX_ANSWER)).read_line(&mut line);
    if let Err(err) = wrote {
        if !matches!(read, Ok(n) if n > 0 && line.ends_with('\n')) {
            return Err(failed("write to", err));
        }
    }
    match read {
        Ok(0) => Err(format!("{shown} closed the connection without an answer")),
        Ok(_) if !line.ends_with('\n') => Err(format!("{shown} sent an incomplete answer")),
        Ok(_) => Answer::parse(&line).map_err(|err| format!("{shown}: {err}")),
        Err(err) if matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            Err(format!("{shown} did not answer within {} s", limit.as_secs()))
        }
        Err(err) => Err(failed("read from", err)),
    }
}

/// An accepted answer as text.
fn text(request: &Request, answer: &Answer) -> String {
    let names: Vec<&str> = answer.services.iter().map(|s| s.service.as_deref().unwrap_or("-")).collect();
    let names = names.join(", ");
    match request.cmd {
        Command::Status if answer.bfd.is_empty() => protocol::table(&answer.services),
        Command::Status => format!("{}\n{}", protocol::table(&answer.services), protocol::bfd_table(&answer.bfd)),
        Command::Check => format!("checking now: {names}\n"),
        Command::Drain if request.wait => format!("drained: {names}\n"),
        Command::Drain => format!("draining: {names}\n"),
        Command::Resume => format!("resuming: {names}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ehc-ctl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A one-connection server that reads a line, answers `reply` and closes.
    fn serve(path: &Path, reply: &'static str) -> std::thread::JoinHandle<String> {
        let listener = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            (&stream).write_all(reply.as_bytes()).unwrap();
            line
        })
    }

    #[test]
    fn nobody_listening_is_said_with_the_path() {
        let dir = scratch("nobody");
        let path = dir.join("none.sock");
        let err = ask(&path, &request_of(&CtlCommand::Status { service: None }), ANSWER_TIME).unwrap_err();
        assert!(err.starts_with(&format!("no exabgp-healthcheck listens on {}: ", path.display())), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_request_goes_out_as_one_line_and_the_answer_comes_back() {
        let dir = scratch("ask");
        let path = dir.join("s.sock");
        let server = serve(&path, "{\"ok\":true,\"cmd\":\"check\"}\n");
        let request = request_of(&CtlCommand::Check { service: Some("web".into()) });
        let answer = ask(&path, &request, ANSWER_TIME).unwrap();
        assert_eq!(answer, Answer::done(Command::Check, Vec::new()));
        assert_eq!(server.join().unwrap(), "{\"cmd\":\"check\",\"service\":\"web\"}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_silent_or_garbled_server_is_an_error_not_a_hang() {
        let dir = scratch("garbled");
        let path = dir.join("s.sock");
        let request = request_of(&CtlCommand::Status { service: None });
        let server = serve(&path, "");
        let err = ask(&path, &request, ANSWER_TIME).unwrap_err();
        assert!(err.ends_with("closed the connection without an answer"), "{err}");
        server.join().unwrap();
        std::fs::remove_file(&path).unwrap();
        let server = serve(&path, "{\"ok\":tr");
        assert!(ask(&path, &request, ANSWER_TIME).unwrap_err().ends_with("sent an incomplete answer"));
        server.join().unwrap();
        std::fs::remove_file(&path).unwrap();
        let server = serve(&path, "hello\n");
        assert!(ask(&path, &request, ANSWER_TIME).unwrap_err().contains("the answer is not understood"));
        server.join().unwrap();
        std::fs::remove_file(&path).unwrap();
        // Never answers: the timeout ends the wait.
        let listener = UnixListener::bind(&path).unwrap();
        let err = ask(&path, &request, Duration::from_millis(100)).unwrap_err();
        assert!(err.contains("did not answer within"), "{err}");
        drop(listener);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
