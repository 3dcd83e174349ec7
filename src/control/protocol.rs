//! The control socket's protocol, pure (no I/O): the request a client sends, the answer the
//! plugin sends back, which services a request names, and the `ctl status` table.
//!
//! One request per connection: a JSON object on one line (`{"cmd":"status","service":null}`),
//! answered by one JSON object on one line, then the plugin closes the connection. Every
//! answer has `ok`; a refused request has `error` (a sentence) and `kind` (`usage`: the
//! request is wrong, `ctl` exits 2; `failed`: it could not be done, `ctl` exits 1); an
//! accepted one has `cmd` and `services`, the status of each service it concerns.
//! `docs/operating.md` ("Control") documents it for other clients.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::Duration;

/// The most bytes a request may have, its newline included.
pub const MAX_REQUEST: usize = 4096;

/// What a client asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// Each service's status.
    Status,
    /// Check now.
    Check,
    /// Drain (RFC 8326): announce with GRACEFUL_SHUTDOWN for the drain time, then withdraw.
    Drain,
    /// Take a drain request back: the service starts again from INIT.
    Resume,
}

impl Command {
    /// Every command, as the protocol spells it.
    pub const ALL: [Command; 4] = [Command::Status, Command::Check, Command::Drain, Command::Resume];

    /// Its name in requests and answers.
    pub fn name(self) -> &'static str {
        match self {
            Command::Status => "status",
            Command::Check => "check",
            Command::Drain => "drain",
            Command::Resume => "resume",
        }
    }

    fn named(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|cmd| cmd.name() == name)
    }
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub cmd: Command,
    /// The service it is about (its section, else its `--name`); `None`: every service.
    pub service: Option<String>,
    /// `drain` only: answer once every service it names is DRAINED (or its time is up).
    pub wait: bool,
    /// With `wait`: how long at most (the plugin's default: the longest `--drain-time` of
    /// those services and [`WAIT_MARGIN`]).
    pub timeout: Option<Duration>,
}

/// What a drain waited for takes beyond its drain time, at most, before `drain --wait` gives
/// up: the iteration that starts the drain, and the lines' way to ExaBGP.
pub const WAIT_MARGIN: Duration = Duration::from_secs(30);

/// A request as it travels, before its fields are checked.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    cmd: String,
    #[serde(default)]
    service: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    wait: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout_ms: Option<u64>,
}

impl Request {
    /// `cmd` for `service` (`None`: every service), not waiting.
    pub fn new(cmd: Command, service: Option<&str>) -> Request {
        Request { cmd, service: service.map(str::to_owned), wait: false, timeout: None }
    }

    /// The request's line, newline included.
    pub fn to_line(&self) -> String {
        let wire = Wire {
            cmd: self.cmd.name().to_owned(),
            service: self.service.clone(),
            wait: self.wait,
            timeout_ms: self.timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        };
        let mut line = serde_json::to_string(&wire).unwrap_or_default();
        line.push('\n');
        line
    }

    /// A request read from a client: `bytes` up to its newline (or the end of the
    /// connection). A refusal is the [`Answer`] to send back.
    pub fn parse(bytes: &[u8]) -> Result<Request, Answer> {
        let text = std::str::from_utf8(bytes).map_err(|_| Answer::usage("the request is not UTF-8"))?;
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(Answer::usage("empty request: send one JSON object, such as {\"cmd\":\"status\"}"));
        }
        // serde_json's message quotes an unknown field's name as it came: its control
        // characters (a newline) are escaped, so that the refusal stays one line.
        let wire: Wire = serde_json::from_str(text).map_err(|err| {
            Answer::usage(format!("the request is not understood: {}", on_one_line(&err.to_string())))
        })?;
        let cmd = Command::named(&wire.cmd).ok_or_else(|| Answer::usage(unknown_command(&wire.cmd)))?;
        if wire.wait && cmd != Command::Drain {
            return Err(Answer::usage(format!("\"wait\" goes with \"drain\", not with {:?}", cmd.name())));
        }
        if wire.timeout_ms.is_some() && !wire.wait {
            return Err(Answer::usage("\"timeout_ms\" goes with \"wait\""));
        }
        let timeout = wire.timeout_ms.map(Duration::from_millis);
        Ok(Request { cmd, service: wire.service, wait: wire.wait, timeout })
    }
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`): one line, whatever it quotes.
fn on_one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_debug().to_string() } else { c.to_string() }).collect()
}

/// The refusal of a command that does not exist, naming those that do.
pub fn unknown_command(name: &str) -> String {
    let all: Vec<&str> = Command::ALL.iter().map(|cmd| cmd.name()).collect();
    format!("unknown command {name:?} (the commands: {})", all.join(", "))
}

/// What a refused request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The request is wrong (an unknown command or service): `ctl` exits 2.
    Usage,
    /// It could not be done: `ctl` exits 1.
    Failed,
}

/// The plugin's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub ok: bool,
    /// The command answered, when accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Command>,
    /// The status of each service the request concerns, when accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceStatus>,
    /// `status` of every service (no SERVICE named), with `--bfd`: each BFD session.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bfd: Vec<BfdStatus>,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
}

impl Answer {
    /// `cmd` done, concerning `services`.
    pub fn done(cmd: Command, services: Vec<ServiceStatus>) -> Answer {
        Answer { ok: true, cmd: Some(cmd), services, bfd: Vec::new(), error: None, kind: None }
    }

    /// Refused: the request is wrong.
    pub fn usage(why: impl Into<String>) -> Answer {
        Answer {
            ok: false,
            cmd: None,
            services: Vec::new(),
            bfd: Vec::new(),
            error: Some(why.into()),
            kind: Some(Kind::Usage),
        }
    }

    /// Refused: it could not be done.
    pub fn failed(why: impl Into<String>) -> Answer {
        Answer { kind: Some(Kind::Failed), ..Answer::usage(why) }
    }

    /// The answer's line, newline included.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_else(|_| r#"{"ok":false}"#.to_owned());
        line.push('\n');
        line
    }

    /// An answer read from the plugin (one line).
    pub fn parse(line: &str) -> Result<Answer, String> {
        serde_json::from_str(line.trim_end()).map_err(|err| format!("the answer is not understood: {err}"))
    }
}

/// One service as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// Its section, else its `--name`; `None` for the one unnamed service of a command line.
    pub service: Option<String>,
    /// `UP`, `DOWN`, ...: the reference's names.
    pub state: String,
    /// When it entered that state, RFC 3339 in UTC (`2026-12-01T23:11:49Z`).
    pub since: String,
    /// How long it has been in that state, in seconds.
    pub since_seconds: f64,
    /// Whether it has a check (`--command`, `--check`); without one it is always healthy.
    pub check: bool,
    /// Whether a drain was asked for (`ctl drain`, until `ctl resume`); its `--drain-file`
    /// aside.
    #[serde(default)]
    pub drain_requested: bool,
    /// Its last check's end, if one ran.
    pub last_check: Option<LastCheck>,
    /// Checks that ended so far.
    pub checks: Checks,
    /// Its routes, in order, with the MED each is announced with now.
    pub routes: Vec<Route>,
    /// With `--dampening`: its penalty, and when a suppression ends. Absent without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dampening: Option<Dampening>,
}

/// A service's flap dampening, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dampening {
    /// The penalty now, rounded.
    pub penalty: u64,
    /// While suppressed: when it will be reused, RFC 3339 in UTC, and in how many seconds.
    pub reuse_at: Option<String>,
    pub reuse_in_seconds: Option<f64>,
}

/// A service's last check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastCheck {
    /// When it ended, RFC 3339 in UTC.
    pub at: String,
    /// How long ago it ended, in seconds.
    pub ago_seconds: f64,
    pub ok: bool,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

/// Counts of checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checks {
    pub passed: u64,
    pub failed: u64,
}

/// A route and the MED it is announced with (`None`: withdrawn, or not announced yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub route: String,
    pub med: Option<i64>,
}

/// One BFD session as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BfdStatus {
    /// The router, as `--bfd` gives it.
    pub peer: String,
    /// The address and source port we send from.
    pub local: String,
    /// `up`, `down`, `init`, `admin-down`: ours, and the peer's as it last said.
    pub state: String,
    pub remote_state: String,
    /// Why our state last changed (RFC 5880's words).
    pub diag: String,
    /// The negotiated intervals in milliseconds: we send every `tx_ms`, the peer every `rx_ms`.
    pub tx_ms: u64,
    pub rx_ms: u64,
    /// `None` before the peer's first packet.
    pub detection_time_ms: Option<u64>,
    /// How long it has been in its state, in seconds.
    pub since_seconds: f64,
}

/// The `ctl status` table of the BFD sessions, as [`table`] draws the services'.
pub fn bfd_table(sessions: &[BfdStatus]) -> String {
    let header = ["BFD PEER", "LOCAL", "STATE", "REMOTE", "DIAG", "TX/RX", "DETECT", "SINCE"];
    let mut rows: Vec<Vec<String>> = vec![header.map(str::to_owned).to_vec()];
    for s in sessions {
        rows.push(vec![
            s.peer.clone(),
            s.local.clone(),
            s.state.clone(),
            s.remote_state.clone(),
            s.diag.clone(),
            format!("{}/{} ms", s.tx_ms, s.rx_ms),
            s.detection_time_ms.map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms")),
            age(from_seconds(s.since_seconds)),
        ]);
    }
    columns(&rows)
}

/// `rows` in columns as wide as their widest cell, two blanks apart; no trailing blanks.
fn columns<R: AsRef<[String]>>(rows: &[R]) -> String {
    let count = rows.iter().map(|row| row.as_ref().len()).max().unwrap_or(0);
    let mut widths = vec![0usize; count];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row.as_ref()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let row = row.as_ref();
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A duration in seconds, to the millisecond, for the answers.
pub fn seconds(duration: Duration) -> f64 {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    millis as f64 / 1000.0
}

/// The services `service` names among `names` (each service's name, in order): its index,
/// or every index when it is `None`. An unknown name is refused, naming the ones there are.
pub fn select(service: Option<&str>, names: &[Option<&str>]) -> Result<Vec<usize>, Answer> {
    let Some(wanted) = service else { return Ok((0..names.len()).collect()) };
    if let Some(found) = names.iter().position(|name| *name == Some(wanted)) {
        return Ok(vec![found]);
    }
    let known: Vec<&str> = names.iter().flatten().copied().collect();
    const SHOWN: usize = 10;
    let mut list = known.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
    if known.len() > SHOWN {
        let _ = write!(list, " and {} more", known.len() - SHOWN);
    }
    let hint = match known.len() {
        0 => "this plugin's service has no name (give no SERVICE)".to_owned(),
        _ => format!("the services: {list}"),
    };
    Err(Answer::usage(format!("unknown service {wanted:?} ({hint})")))
}

/// A duration the way the table shows ages: `45s`, `2m13s`, `3h04m`, `2d05h`.
pub fn age(duration: Duration) -> String {
    let s = duration.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A check's duration: `12 ms` below a second, else `1.5 s`.
fn took(millis: u64) -> String {
    if millis < 1000 {
        format!("{millis} ms")
    } else {
        format!("{}.{} s", millis / 1000, millis % 1000 / 100)
    }
}

fn from_seconds(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or_default()
}

/// The `ctl status` table: a header, then one line per route of each service (its first on
/// the service's line). Columns are as wide as their widest cell; no trailing blanks.
pub fn table(services: &[ServiceStatus]) -> String {
    let mut rows: Vec<[String; 5]> = vec![["SERVICE", "STATE", "SINCE", "LAST CHECK", "ROUTES"].map(str::to_owned)];
    for status in services {
        let last = match &status.last_check {
            None if !status.check => "no check".to_owned(),
            None => "none yet".to_owned(),
            Some(check) => format!(
                "{} {} ago ({})",
                if check.ok { "passed" } else { "failed" },
                age(from_seconds(check.ago_seconds)),
                took(check.duration_ms)
            ),
        };
        let mut routes = status.routes.iter().map(|route| match route.med {
            Some(med) => format!("{} med {med}", route.route),
            None => format!("{} withdrawn", route.route),
        });
        let state = match &status.dampening {
            Some(Dampening { penalty, reuse_in_seconds: Some(reuse), .. }) => {
                format!("{} (penalty {penalty}, reuse in {})", status.state, age(from_seconds(*reuse)))
            }
            Some(Dampening { penalty, .. }) if *penalty > 0 => format!("{} (penalty {penalty})", status.state),
            _ => status.state.clone(),
        };
        rows.push([
            status.service.clone().unwrap_or_else(|| "-".to_owned()),
            state,
            age(from_seconds(status.since_seconds)),
            last,
            routes.next().unwrap_or_else(|| "none".to_owned()),
        ]);
        rows.extend(routes.map(|route| [String::new(), String::new(), String::new(), String::new(), route]));
    }
    columns(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Request, String> {
        Request::parse(text.as_bytes()).map_err(|answer| {
            assert_eq!((answer.ok, answer.kind), (false, Some(Kind::Usage)), "{answer:?}");
            answer.error.unwrap()
        })
    }

    /// Found by the `control` fuzz target: serde_json quotes an unknown field's name as it
    /// came, and a newline in it split the refusal in two lines.
    #[test]
    fn regression_an_unknown_field_with_a_newline_is_refused_on_one_line() {
        for request in [
            "{\"ounkvic[ \\n \\\"x\\\" (the : web)\",\"kind\":\"usage\"}\n",
            "{\"cmd\":\"status\",\"a\\n\\r\\u001b\":1}",
        ] {
            let why = parse(request).unwrap_err();
            assert!(why.starts_with("the request is not understood: unknown field `"), "{why}");
            assert!(!why.chars().any(char::is_control), "{why:?}");
        }
        let why = parse("{\"cmd\":\"status\",\"a\\nb\":1}").unwrap_err();
        assert!(why.contains("unknown field `a\\nb`"), "{why}");
    }

    #[test]
    fn requests_parse_with_or_without_a_service_and_a_newline() {
        let status = Request::new(Command::Status, None);
        assert_eq!(parse("{\"cmd\":\"status\"}\n"), Ok(status.clone()));
        assert_eq!(parse("{\"cmd\":\"status\",\"service\":null}"), Ok(status.clone()));
        assert_eq!(parse(" { \"cmd\" : \"status\" } \r\n"), Ok(status));
        let check = Request::new(Command::Check, Some("web"));
        assert_eq!(parse(r#"{"service":"web","cmd":"check"}"#), Ok(check));
        let drain =
            Request { wait: true, timeout: Some(Duration::from_secs(40)), ..Request::new(Command::Drain, None) };
        assert_eq!(parse(r#"{"cmd":"drain","wait":true,"timeout_ms":40000}"#), Ok(drain));
        assert_eq!(parse(r#"{"cmd":"resume","service":"dns"}"#), Ok(Request::new(Command::Resume, Some("dns"))));
    }

    #[test]
    fn a_request_goes_out_as_one_line_and_comes_back_the_same() {
        for request in [
            Request::new(Command::Status, None),
            Request::new(Command::Check, Some("we\"b\n")),
            Request {
                wait: true,
                timeout: Some(Duration::from_millis(1500)),
                ..Request::new(Command::Drain, Some("web"))
            },
            Request::new(Command::Resume, None),
        ] {
            let line = request.to_line();
            assert!(line.ends_with('\n') && line.matches('\n').count() == 1, "{line:?}");
            assert_eq!(Request::parse(line.as_bytes()), Ok(request));
        }
        assert_eq!(Request::new(Command::Status, None).to_line(), "{\"cmd\":\"status\",\"service\":null}\n");
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        assert_eq!(
            parse("{\"cmd\":\"reboot\"}").unwrap_err(),
            "unknown command \"reboot\" (the commands: status, check, drain, resume)"
        );
        assert!(parse("").unwrap_err().starts_with("empty request"));
        assert!(parse("\n").unwrap_err().starts_with("empty request"));
        assert!(parse("status").unwrap_err().starts_with("the request is not understood: "));
        assert_eq!(
            parse("{\"cmd\":\"check\",\"wait\":true}").unwrap_err(),
            "\"wait\" goes with \"drain\", not with \"check\""
        );
        assert_eq!(parse("{\"cmd\":\"drain\",\"timeout_ms\":5}").unwrap_err(), "\"timeout_ms\" goes with \"wait\"");
        assert!(parse("{\"cmd\":\"drain\",\"wait\":true,\"timeout_ms\":-5}").is_err());
        assert!(parse("{\"cmd\":\"status\",\"force\":true}").unwrap_err().contains("unknown field `force`"));
        assert!(parse("{\"service\":\"web\"}").unwrap_err().contains("missing field `cmd`"));
        assert!(parse("{\"cmd\":7}").unwrap_err().starts_with("the request is not understood: "));
        assert!(parse("{\"cmd\":\"status\"} {\"cmd\":\"check\"}").unwrap_err().contains("trailing characters"));
        assert_eq!(
            Request::parse(b"{\"cmd\":\"\xff\"}").unwrap_err().error.as_deref(),
            Some("the request is not UTF-8")
        );
    }

    #[test]
    fn answers_are_one_line_of_json_with_only_their_fields() {
        assert_eq!(Answer::done(Command::Check, Vec::new()).to_line(), "{\"ok\":true,\"cmd\":\"check\"}\n");
        assert_eq!(
            Answer::usage("unknown service \"x\"").to_line(),
            "{\"ok\":false,\"error\":\"unknown service \\\"x\\\"\",\"kind\":\"usage\"}\n"
        );
        assert_eq!(Answer::failed("busy").to_line(), "{\"ok\":false,\"error\":\"busy\",\"kind\":\"failed\"}\n");
        let answer = Answer::done(Command::Status, sample());
        let line = answer.to_line();
        assert_eq!(line.matches('\n').count(), 1);
        assert_eq!(Answer::parse(&line), Ok(answer));
        assert!(Answer::parse("nonsense").unwrap_err().starts_with("the answer is not understood"));
    }

    #[test]
    fn a_status_answer_is_pinned() {
        let line = Answer::done(Command::Status, sample()[1..2].to_vec()).to_line();
        assert_eq!(
            line,
            concat!(
                r#"{"ok":true,"cmd":"status","services":[{"service":"dns","state":"DOWN","since":"2026-12-01T23:00:00Z","#,
                r#""since_seconds":4000.0,"check":true,"drain_requested":false,"last_check":{"at":"2026-12-01T23:59:59Z","ago_seconds":1.5,"ok":false,"#,
                r#""duration_ms":1500},"checks":{"passed":0,"failed":3},"routes":[{"route":"192.0.2.53/32","med":null}]}]}"#,
                "\n"
            )
        );
    }

    #[test]
    fn services_are_selected_by_name_or_all() {
        let names = [Some("web"), Some("dns"), None];
        assert_eq!(select(None, &names), Ok(vec![0, 1, 2]));
        assert_eq!(select(Some("dns"), &names), Ok(vec![1]));
        let err = select(Some("ntp"), &names).unwrap_err();
        assert_eq!(err.kind, Some(Kind::Usage));
        assert_eq!(err.error.as_deref(), Some("unknown service \"ntp\" (the services: web, dns)"));
        let err = select(Some("web"), &[None]).unwrap_err();
        assert_eq!(
            err.error.as_deref(),
            Some("unknown service \"web\" (this plugin's service has no name (give no SERVICE))")
        );
        let many: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
        let many: Vec<Option<&str>> = many.iter().map(|s| Some(s.as_str())).collect();
        let err = select(Some("x\n"), &many).unwrap_err().error.unwrap();
        assert_eq!(err, "unknown service \"x\\n\" (the services: s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 and 2 more)");
    }

    #[test]
    fn ages_and_durations_read_at_a_glance() {
        let s = Duration::from_secs;
        assert_eq!([s(0), s(59), s(60), s(133), s(3599)].map(age), ["0s", "59s", "1m00s", "2m13s", "59m59s"]);
        assert_eq!(
            [s(3600), s(11_040), s(86_399), s(86_400), s(190_800)].map(age),
            ["1h00m", "3h04m", "23h59m", "1d00h", "2d05h"]
        );
        assert_eq!([0, 999, 1000, 1550, 61_000].map(took), ["0 ms", "999 ms", "1.0 s", "1.5 s", "61.0 s"]);
        assert_eq!(seconds(Duration::from_micros(1_234_567)), 1.234);
        assert_eq!(from_seconds(-1.0), Duration::ZERO);
        assert_eq!(from_seconds(f64::NAN), Duration::ZERO);
    }

    #[test]
    fn bfd_sessions_travel_only_when_there_are_some_and_have_their_table() {
        let plain = Answer::done(Command::Status, Vec::new()).to_line();
        assert!(!plain.contains("bfd"), "{plain}");
        let session = BfdStatus {
            peer: "10.0.0.1".to_owned(),
            local: "10.0.0.2:49152".to_owned(),
            state: "up".to_owned(),
            remote_state: "up".to_owned(),
            diag: "no diagnostic".to_owned(),
            tx_ms: 300,
            rx_ms: 300,
            detection_time_ms: Some(900),
            since_seconds: 75.0,
        };
        let mut answer = Answer::done(Command::Status, Vec::new());
        answer.bfd = vec![session.clone(), BfdStatus { detection_time_ms: None, state: "down".into(), ..session }];
        assert_eq!(Answer::parse(&answer.to_line()).unwrap(), answer);
        assert_eq!(
            bfd_table(&answer.bfd),
            "BFD PEER  LOCAL           STATE  REMOTE  DIAG           TX/RX       DETECT  SINCE\n\
             10.0.0.1  10.0.0.2:49152  up     up      no diagnostic  300/300 ms  900 ms  1m15s\n\
             10.0.0.1  10.0.0.2:49152  down   up      no diagnostic  300/300 ms  -       1m15s\n"
        );
    }

    fn sample() -> Vec<ServiceStatus> {
        let route = |route: &str, med| Route { route: route.to_owned(), med };
        vec![
            ServiceStatus {
                service: Some("web".to_owned()),
                state: "UP".to_owned(),
                since: "2026-12-01T23:57:47Z".to_owned(),
                since_seconds: 133.2,
                check: true,
                drain_requested: false,
                last_check: Some(LastCheck {
                    at: "2026-12-01T23:59:59Z".to_owned(),
                    ago_seconds: 1.0,
                    ok: true,
                    duration_ms: 3,
                }),
                checks: Checks { passed: 40, failed: 0 },
                routes: vec![route("192.0.2.1/32", Some(100)), route("192.0.2.2/32", Some(101))],
                dampening: None,
            },
            ServiceStatus {
                service: Some("dns".to_owned()),
                state: "DOWN".to_owned(),
                since: "2026-12-01T23:00:00Z".to_owned(),
                since_seconds: 4000.0,
                check: true,
                drain_requested: false,
                last_check: Some(LastCheck {
                    at: "2026-12-01T23:59:59Z".to_owned(),
                    ago_seconds: 1.5,
                    ok: false,
                    duration_ms: 1500,
                }),
                checks: Checks { passed: 0, failed: 3 },
                routes: vec![route("192.0.2.53/32", None)],
                dampening: None,
            },
            ServiceStatus {
                service: None,
                state: "INIT".to_owned(),
                since: "2026-12-01T23:59:59Z".to_owned(),
                since_seconds: 0.2,
                check: true,
                drain_requested: false,
                last_check: None,
                checks: Checks::default(),
                routes: Vec::new(),
                dampening: None,
            },
        ]
    }

    #[test]
    fn the_status_table_is_pinned() {
        assert_eq!(
            table(&sample()),
            "\
SERVICE  STATE  SINCE  LAST CHECK             ROUTES
web      UP     2m13s  passed 1s ago (3 ms)   192.0.2.1/32 med 100
                                              192.0.2.2/32 med 101
dns      DOWN   1h06m  failed 1s ago (1.5 s)  192.0.2.53/32 withdrawn
-        INIT   0s     none yet               none
"
        );
        assert_eq!(table(&[]), "SERVICE  STATE  SINCE  LAST CHECK  ROUTES\n");
        let unchecked = ServiceStatus { check: false, ..sample().remove(2) };
        assert_eq!(
            table(&[unchecked]),
            "SERVICE  STATE  SINCE  LAST CHECK  ROUTES\n-        INIT   0s     no check    none\n"
        );
    }

    #[test]
    fn dampening_travels_only_with_it_and_shows_in_the_state_column() {
        let plain = Answer::done(Command::Status, sample()).to_line();
        assert!(!plain.contains("dampening"), "{plain}");
        let mut services = sample();
        services[0].dampening = Some(Dampening { penalty: 812, reuse_at: None, reuse_in_seconds: None });
        services[1].state = "SUPPRESSED".to_owned();
        services[1].dampening = Some(Dampening {
            penalty: 3120,
            reuse_at: Some("2026-12-02T00:01:30Z".to_owned()),
            reuse_in_seconds: Some(90.4),
        });
        services[2].dampening = Some(Dampening { penalty: 0, reuse_at: None, reuse_in_seconds: None });
        let answer = Answer::done(Command::Status, services.clone());
        let line = answer.to_line();
        assert!(
            line.contains(r#""dampening":{"penalty":3120,"reuse_at":"2026-12-02T00:01:30Z","reuse_in_seconds":90.4}"#),
            "{line}"
        );
        assert!(line.contains(r#""dampening":{"penalty":0,"reuse_at":null,"reuse_in_seconds":null}"#), "{line}");
        assert_eq!(Answer::parse(&line).unwrap(), answer);
        assert_eq!(
            table(&services),
            "\
SERVICE  STATE                                      SINCE  LAST CHECK             ROUTES
web      UP (penalty 812)                           2m13s  passed 1s ago (3 ms)   192.0.2.1/32 med 100
                                                                                  192.0.2.2/32 med 101
dns      SUPPRESSED (penalty 3120, reuse in 1m30s)  1h06m  failed 1s ago (1.5 s)  192.0.2.53/32 withdrawn
-        INIT                                       0s     none yet               none
"
        );
    }
}
