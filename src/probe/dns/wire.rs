//! The DNS wire format the check speaks: the query's bytes ([`Query`]), what an answer's bytes
//! say about it ([`Query::judge`]: its id, question, response code, records, the TC bit), and
//! the 2-byte length that frames a message over TCP. Pure: bytes in, bytes or a [`Judgement`]
//! out, no I/O; it never panics, on any bytes (the fuzz target `dns_answer` feeds it them).

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, OPCODE, QCLASS, QTYPE, RCODE, TYPE};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The record types a check can ask for, by name in any case (`A`, `mx`). (The message crate
/// parses no answer to a question of a type it does not know: no `TYPEnnn`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    A,
    AAAA,
    CNAME,
    MX,
    NS,
    PTR,
    SOA,
    SRV,
    TXT,
    CAA,
    DS,
    DNSKEY,
    NAPTR,
    SVCB,
    HTTPS,
}

/// The named types: name and number.
const NAMED: [(RecordType, &str, u16); 15] = [
    (RecordType::A, "A", 1),
    (RecordType::NS, "NS", 2),
    (RecordType::CNAME, "CNAME", 5),
    (RecordType::SOA, "SOA", 6),
    (RecordType::PTR, "PTR", 12),
    (RecordType::MX, "MX", 15),
    (RecordType::TXT, "TXT", 16),
    (RecordType::AAAA, "AAAA", 28),
    (RecordType::SRV, "SRV", 33),
    (RecordType::NAPTR, "NAPTR", 35),
    (RecordType::DS, "DS", 43),
    (RecordType::DNSKEY, "DNSKEY", 48),
    (RecordType::SVCB, "SVCB", 64),
    (RecordType::HTTPS, "HTTPS", 65),
    (RecordType::CAA, "CAA", 257),
];

impl RecordType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        NAMED.iter().find(|(t, _, _)| *t == self).map_or(0, |(_, _, code)| *code)
    }

    /// The name, as in the URL (`AAAA`).
    pub fn name(self) -> &'static str {
        NAMED.iter().find(|(t, _, _)| *t == self).map_or("?", |(_, name, _)| name)
    }
}

impl FromStr for RecordType {
    type Err = String;

    fn from_str(text: &str) -> Result<RecordType, String> {
        match NAMED.iter().find(|(_, name, _)| name.eq_ignore_ascii_case(text)) {
            Some((rtype, _, _)) => Ok(*rtype),
            None => {
                let names: Vec<&str> = NAMED.iter().map(|(_, name, _)| *name).collect();
                Err(format!("unknown DNS record type {text:?} (one of {})", names.join(", ")))
            }
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One query: what it asks and its bytes (a standard query, recursion desired, class IN, no
/// EDNS: answers that do not fit 512 bytes come back truncated and are asked again over TCP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    id: u16,
    /// Without the final dot; empty for the root.
    name: String,
    rtype: RecordType,
    bytes: Vec<u8>,
}

/// What an answer's bytes say about a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Not the reply to this query (too short for a header, another id, not a response, a
    /// reply for another question): keep waiting, as a resolver does. Why, in words.
    Ignored(String),
    /// The reply came over UDP with the TC bit: ask again over TCP.
    Truncated,
    /// NOERROR with `records` records of the type asked (and the expected address among them).
    Healthy { records: usize },
    /// The reply to this query, unhealthy: why, in words (`NXDOMAIN`, `no A record in the
    /// answer`, `malformed answer: ...`).
    Unhealthy(String),
}

/// The fixed size of a DNS header.
pub(super) const HEADER: usize = 12;
/// The smallest question (the root, type, class) and resource record (the root, type, class,
/// TTL, length), to refuse counts that the message cannot hold before parsing it.
const SMALLEST_QUESTION: usize = 5;
const SMALLEST_RECORD: usize = 11;

impl Query {
    /// The query for `name` and `rtype` with the id `id`; the reason when the name cannot be
    /// asked (an empty label, one over 63 bytes, a name over 255).
    pub fn new(id: u16, name: &str, rtype: RecordType) -> Result<Query, String> {
        let bare = name.strip_suffix('.').unwrap_or(name);
        if !bare.is_empty() && bare.split('.').any(str::is_empty) {
            return Err(format!("invalid name {name:?}: an empty label"));
        }
        if let Some(label) = bare.split('.').find(|label| label.len() > 63) {
            return Err(format!("invalid name {name:?}: the label {label:?} is over 63 bytes"));
        }
        // The crate splits at dots and refuses a name over 255 bytes on the wire.
        let qname = Name::new(bare).map_err(|e| format!("invalid name {name:?}: {e}"))?;
        let mut packet = Packet::new_query(id);
        packet.set_flags(PacketFlag::RECURSION_DESIRED);
        packet.questions.push(Question::new(qname, question_type(rtype), QCLASS::CLASS(CLASS::IN), false));
        let bytes = packet.build_bytes_vec().map_err(|e| format!("invalid name {name:?}: {e}"))?;
        Ok(Query { id, name: bare.to_owned(), rtype, bytes })
    }

    pub fn id(&self) -> u16 {
        self.id
    }

    /// The query as sent over UDP (over TCP it goes after its 2-byte length: [`Query::framed`]).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The query as sent over TCP: after its length, in 2 bytes.
    pub fn framed(&self) -> Vec<u8> {
        let length = u16::try_from(self.bytes.len()).unwrap_or(u16::MAX);
        length.to_be_bytes().iter().chain(&self.bytes).copied().collect()
    }

    /// The name for messages: `.` for the root.
    pub fn name_shown(&self) -> &str {
        if self.name.is_empty() {
            "."
        } else {
            &self.name
        }
    }

    /// The type asked for.
    pub fn rtype(&self) -> RecordType {
        self.rtype
    }

    /// What `reply` (one whole message) says about this query, for `expect` (an address that
    /// must be among the A and AAAA records of the answer); `over_tcp`: the reply came over
    /// TCP, where the TC bit means nothing more to do. Never panics, on any bytes.
    pub fn judge(&self, reply: &[u8], expect: Option<IpAddr>, over_tcp: bool) -> Judgement {
        if reply.len() < HEADER {
            return Judgement::Ignored(format!("{} bytes, shorter than a DNS header", reply.len()));
        }
        let id = u16::from_be_bytes([reply[0], reply[1]]);
        if id != self.id {
            return Judgement::Ignored(format!("id {id}, not ours ({})", self.id));
        }
        let flags = u16::from_be_bytes([reply[2], reply[3]]);
        if flags & PacketFlag::RESPONSE.bits() == 0 {
            return Judgement::Ignored("a query, not a response".to_owned());
        }
        if !over_tcp && flags & PacketFlag::TRUNCATION.bits() != 0 {
            return Judgement::Truncated;
        }
        let count = |at: usize| usize::from(u16::from_be_bytes([reply[at], reply[at + 1]]));
        let least = HEADER + count(4) * SMALLEST_QUESTION + (count(6) + count(8) + count(10)) * SMALLEST_RECORD;
        if least > reply.len() {
            return Judgement::Unhealthy(format!(
                "malformed answer: {} questions and {} records cannot fit in {} bytes",
                count(4),
                count(6) + count(8) + count(10),
                reply.len()
            ));
        }
        let packet = match Packet::parse(reply) {
            Ok(packet) => packet,
            Err(e) => return Judgement::Unhealthy(format!("malformed answer: {e}")),
        };
        if packet.opcode() != OPCODE::StandardQuery {
            return Judgement::Ignored(format!("opcode {}, not a standard query", (flags >> 11) & 0xf));
        }
        let rcode = packet.rcode();
        match packet.questions.as_slice() {
            // Some servers leave the question out of an error (FORMERR, NOTIMP): it is ours.
            [] if rcode != RCODE::NoError => {}
            [question] if self.asks(question) => {}
            [] => return Judgement::Ignored("an answer without its question".to_owned()),
            [question, ..] => {
                return Judgement::Ignored(format!(
                    "an answer to another question ({} {}{})",
                    shown(&question.qname),
                    type_name(question.qtype.into()),
                    if packet.questions.len() > 1 { ", and more" } else { "" }
                ))
            }
        }
        if rcode != RCODE::NoError {
            return Judgement::Unhealthy(rcode_name(rcode, reply[3]));
        }
        let code = self.rtype.code();
        let records = packet
            .answers
            .iter()
            .filter(|rr| !matches!(rr.rdata, RData::Empty(_)) && u16::from(rr.rdata.type_code()) == code)
            .count();
        if records == 0 {
            return Judgement::Unhealthy(format!("no {} record in the answer", self.rtype));
        }
        if let Some(expect) = expect {
            let addresses: Vec<IpAddr> = packet
                .answers
                .iter()
                .filter_map(|rr| match &rr.rdata {
                    RData::A(a) => Some(IpAddr::V4(Ipv4Addr::from(a.address))),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(Ipv6Addr::from(aaaa.address))),
                    _ => None,
                })
                .collect();
            if !addresses.contains(&expect) {
                let among = if addresses.is_empty() {
                    "no address in them".to_owned()
                } else {
                    addresses.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")
                };
                return Judgement::Unhealthy(format!("{expect} not among the answers ({among})"));
            }
        }
        Judgement::Healthy { records }
    }

    /// Whether `question` is ours (the name in any case, the type, class IN).
    fn asks(&self, question: &Question) -> bool {
        let ours = Name::new(&self.name).ok();
        Some(&question.qname) == ours.as_ref()
            && u16::from(question.qtype) == self.rtype.code()
            && question.qclass == QCLASS::CLASS(CLASS::IN)
            && !question.unicast_response
    }
}

/// Where the first whole message of `read` (what came over TCP) ends, after its 2-byte length;
/// `None` while it is not whole.
pub fn framed_end(read: &[u8]) -> Option<usize> {
    let length = usize::from(u16::from_be_bytes([*read.first()?, *read.get(1)?]));
    (read.len() >= 2 + length).then_some(2 + length)
}

/// A name from the wire for messages: on one line, whatever bytes its labels hold.
fn shown(name: &Name) -> String {
    match name.to_string() {
        root if root.is_empty() => ".".to_owned(),
        text => text.escape_debug().to_string(),
    }
}

/// A type's name for messages (`TYPE99` for one we do not ask for).
fn type_name(code: u16) -> String {
    match NAMED.iter().find(|(_, _, c)| *c == code) {
        Some((_, name, _)) => (*name).to_owned(),
        None => format!("TYPE{code}"),
    }
}

fn question_type(rtype: RecordType) -> QTYPE {
    QTYPE::TYPE(TYPE::from(rtype.code()))
}

/// The response code's mnemonic (RFC 6895), as dig prints it.
fn rcode_name(rcode: RCODE, flags_low: u8) -> String {
    let name = match rcode {
        RCODE::NoError => "NOERROR",
        RCODE::FormatError => "FORMERR",
        RCODE::ServerFailure => "SERVFAIL",
        RCODE::NameError => "NXDOMAIN",
        RCODE::NotImplemented => "NOTIMP",
        RCODE::Refused => "REFUSED",
        RCODE::YXDOMAIN => "YXDOMAIN",
        RCODE::YXRRSET => "YXRRSET",
        RCODE::NXRRSET => "NXRRSET",
        RCODE::NOTAUTH => "NOTAUTH",
        RCODE::NOTZONE => "NOTZONE",
        RCODE::BADVERS => "BADVERS",
        RCODE::Reserved => return format!("RCODE{}", flags_low & 0xf),
    };
    name.to_owned()
}

#[cfg(test)]
pub(super) mod tests {
    //! The query's bytes and the judgement of answers; the messages built here (with the
    //! message crate) also serve the check's own tests.

    use super::*;
    use simple_dns::rdata::{A, AAAA, CNAME, MX, TXT};
    use simple_dns::ResourceRecord;

    pub(crate) const NAME: &str = "example.com";

    pub(crate) fn a(text: &str) -> RData<'static> {
        RData::A(A { address: text.parse::<Ipv4Addr>().unwrap().into() })
    }

    pub(crate) fn aaaa(text: &str) -> RData<'static> {
        RData::AAAA(AAAA { address: text.parse::<Ipv6Addr>().unwrap().into() })
    }

    pub(crate) fn cname(target: &'static str) -> RData<'static> {
        RData::CNAME(CNAME(Name::new_unchecked(target)))
    }

    /// The reply to `query` (its id and question, RD copied, RA set) with `rcode` and
    /// `answers` (owned by the question's name).
    pub(crate) fn reply(query: &[u8], rcode: RCODE, answers: &[RData<'static>]) -> Vec<u8> {
        let asked = Packet::parse(query).unwrap();
        let mut packet = Packet::new_reply(asked.id());
        packet.set_flags(PacketFlag::RECURSION_DESIRED | PacketFlag::RECURSION_AVAILABLE);
        *packet.rcode_mut() = rcode;
        packet.questions = asked.questions.clone();
        let owner = asked.questions[0].qname.clone();
        for rdata in answers {
            packet.answers.push(ResourceRecord::new(owner.clone(), CLASS::IN, 60, rdata.clone()));
        }
        packet.build_bytes_vec_compressed().unwrap()
    }

    /// `message` with the id `id`.
    pub(crate) fn with_id(mut message: Vec<u8>, id: u16) -> Vec<u8> {
        message[..2].copy_from_slice(&id.to_be_bytes());
        message
    }

    pub(crate) fn with_flag(mut message: Vec<u8>, flag: PacketFlag) -> Vec<u8> {
        let flags = u16::from_be_bytes([message[2], message[3]]) | flag.bits();
        message[2..4].copy_from_slice(&flags.to_be_bytes());
        message
    }

    pub(crate) fn query(rtype: RecordType) -> Query {
        Query::new(0x1234, NAME, rtype).unwrap()
    }

    #[test]
    fn record_types_by_name_in_any_case_or_by_number() {
        for (rtype, name, code) in NAMED {
            assert_eq!(name.parse::<RecordType>(), Ok(rtype));
            assert_eq!(name.to_lowercase().parse::<RecordType>(), Ok(rtype));
            assert_eq!(rtype.to_string(), name);
            assert_eq!(rtype.code(), code);
            // Every one is a type the message crate knows (it parses no answer to another).
            assert!(!matches!(TYPE::from(code), TYPE::Unknown(_)), "{name}");
            let answer = reply(query(rtype).bytes(), RCODE::NoError, &[]);
            assert!(Packet::parse(&answer).is_ok(), "{name}");
        }
        assert_eq!("aaaa".parse::<RecordType>(), Ok(RecordType::AAAA));
        assert_eq!("Srv".parse::<RecordType>(), Ok(RecordType::SRV));
        for refused in ["", "B", "ANY", "AXFR", "TYPE1", "TYPE99", " A", "A ", "Aé"] {
            let error = refused.parse::<RecordType>().unwrap_err();
            assert!(error.contains("A, NS, CNAME") && error.contains(&format!("{refused:?}")), "{error}");
        }
    }

    #[test]
    fn the_query_is_a_standard_recursive_query_for_the_name_and_type() {
        let bytes = query(RecordType::A).bytes().to_vec();
        let expected = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        assert_eq!(bytes, expected);
        assert_eq!(Query::new(0x1234, "example.com.", RecordType::A).unwrap().bytes(), expected, "the final dot");
        let mx = Query::new(7, "Mail.Example.ORG", RecordType::MX).unwrap();
        assert_eq!(
            mx.bytes(),
            b"\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04Mail\x07Example\x03ORG\x00\x00\x0f\x00\x01"
        );
        assert_eq!(mx.id(), 7);
        let caa = Query::new(1, "x", RecordType::CAA).unwrap();
        assert_eq!(&caa.bytes()[12..], b"\x01x\x00\x01\x01\x00\x01");
        for root in [".", ""] {
            let root = Query::new(1, root, RecordType::NS).unwrap();
            assert_eq!(&root.bytes()[12..], b"\x00\x00\x02\x00\x01");
            assert_eq!(root.name_shown(), ".");
        }
        let longest = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
        assert_eq!(Query::new(1, &longest, RecordType::A).unwrap().bytes().len(), 12 + 255 + 4);
    }

    #[test]
    fn over_tcp_a_message_goes_after_its_length() {
        let q = query(RecordType::AAAA);
        assert_eq!(q.rtype(), RecordType::AAAA);
        let framed = q.framed();
        assert_eq!(framed[..2], (q.bytes().len() as u16).to_be_bytes());
        assert_eq!(&framed[2..], q.bytes());
        assert_eq!(framed_end(&framed), Some(framed.len()));
        for cut in 0..framed.len() {
            assert_eq!(framed_end(&framed[..cut]), None, "{cut} bytes");
        }
        // Only the first message counts; what follows waits for its turn.
        let mut two = framed.clone();
        two.extend_from_slice(&framed[..5]);
        assert_eq!(framed_end(&two), Some(framed.len()));
        assert_eq!(framed_end(b"\x00\x00"), Some(2));
        assert_eq!(framed_end(b"\xff\xff\x00"), None);
    }

    #[test]
    fn names_that_cannot_be_asked_are_refused_with_the_reason() {
        for (name, why) in [
            ("a..b", "an empty label"),
            (".a", "an empty label"),
            ("a.b..", "an empty label"),
            ("..", "an empty label"),
            (&format!("{}.com", "x".repeat(64)), "is over 63 bytes"),
            (&["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(62)].join("."), "invalid name"),
        ] {
            let error = Query::new(1, name, RecordType::A).unwrap_err();
            assert!(error.starts_with(&format!("invalid name {name:?}: ")) && error.contains(why), "{name}: {error}");
        }
    }

    #[test]
    fn healthy_on_noerror_with_a_record_of_the_type() {
        let q = query(RecordType::A);
        let answer = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        assert_eq!(q.judge(&answer, None, false), Judgement::Healthy { records: 1 });
        assert_eq!(q.judge(&answer, None, true), Judgement::Healthy { records: 1 });
        // A CNAME chain: only the records of the type asked count, whoever owns them.
        let chain = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net"), a("192.0.2.7"), a("192.0.2.8")]);
        assert_eq!(q.judge(&chain, None, false), Judgement::Healthy { records: 2 });
        let q = query(RecordType::CNAME);
        let answer = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net")]);
        assert_eq!(q.judge(&answer, None, false), Judgement::Healthy { records: 1 });
        let q = query(RecordType::MX);
        let mx = RData::MX(MX { preference: 10, exchange: Name::new_unchecked("mx.example.com") });
        assert_eq!(q.judge(&reply(q.bytes(), RCODE::NoError, &[mx]), None, false), Judgement::Healthy { records: 1 });
        let q = query(RecordType::TXT);
        let txt = RData::TXT(TXT::new().with_string("v=spf1 -all").unwrap());
        assert_eq!(q.judge(&reply(q.bytes(), RCODE::NoError, &[txt]), None, false), Judgement::Healthy { records: 1 });
    }

    #[test]
    fn the_question_matches_in_any_case() {
        let q = query(RecordType::A);
        let upper = Query::new(0x1234, "EXAMPLE.Com", RecordType::A).unwrap();
        let answer = reply(upper.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        assert_eq!(q.judge(&answer, None, false), Judgement::Healthy { records: 1 });
    }

    #[test]
    fn every_error_code_is_unhealthy_by_its_name() {
        let q = query(RecordType::A);
        for (rcode, name) in [
            (RCODE::FormatError, "FORMERR"),
            (RCODE::ServerFailure, "SERVFAIL"),
            (RCODE::NameError, "NXDOMAIN"),
            (RCODE::NotImplemented, "NOTIMP"),
            (RCODE::Refused, "REFUSED"),
            (RCODE::YXDOMAIN, "YXDOMAIN"),
            (RCODE::YXRRSET, "YXRRSET"),
            (RCODE::NXRRSET, "NXRRSET"),
            (RCODE::NOTAUTH, "NOTAUTH"),
            (RCODE::NOTZONE, "NOTZONE"),
        ] {
            // Even with a record: the code decides.
            let answer = reply(q.bytes(), rcode, &[a("192.0.2.7")]);
            assert_eq!(q.judge(&answer, None, false), Judgement::Unhealthy(name.to_owned()));
        }
        let mut reserved = reply(q.bytes(), RCODE::NoError, &[]);
        reserved[3] |= 11;
        assert_eq!(q.judge(&reserved, None, false), Judgement::Unhealthy("RCODE11".to_owned()));
    }

    #[test]
    fn noerror_without_a_record_of_the_type_is_unhealthy() {
        let q = query(RecordType::A);
        let empty = reply(q.bytes(), RCODE::NoError, &[]);
        assert_eq!(q.judge(&empty, None, false), Judgement::Unhealthy("no A record in the answer".to_owned()));
        let other = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net"), aaaa("2001:db8::1")]);
        assert_eq!(q.judge(&other, None, false), Judgement::Unhealthy("no A record in the answer".to_owned()));
        let q = query(RecordType::SRV);
        let empty = reply(q.bytes(), RCODE::NoError, &[]);
        assert_eq!(q.judge(&empty, None, false), Judgement::Unhealthy("no SRV record in the answer".to_owned()));
        // An A record without its four bytes is no A record.
        let q = query(RecordType::A);
        let mut hollow = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        hollow.truncate(hollow.len() - 6);
        hollow.extend_from_slice(b"\x00\x00");
        assert_eq!(q.judge(&hollow, None, false), Judgement::Unhealthy("no A record in the answer".to_owned()));
    }

    #[test]
    fn the_expected_address_must_be_among_the_answers() {
        let q = query(RecordType::A);
        let answer = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7"), a("192.0.2.8")]);
        for present in ["192.0.2.7", "192.0.2.8"] {
            assert_eq!(q.judge(&answer, present.parse().ok(), false), Judgement::Healthy { records: 2 });
        }
        assert_eq!(
            q.judge(&answer, "192.0.2.9".parse().ok(), false),
            Judgement::Unhealthy("192.0.2.9 not among the answers (192.0.2.7, 192.0.2.8)".to_owned())
        );
        assert_eq!(
            q.judge(&answer, "::ffff:192.0.2.7".parse().ok(), false),
            Judgement::Unhealthy("::ffff:192.0.2.7 not among the answers (192.0.2.7, 192.0.2.8)".to_owned())
        );
        let q = query(RecordType::AAAA);
        let answer = reply(q.bytes(), RCODE::NoError, &[aaaa("2001:db8::1")]);
        assert_eq!(q.judge(&answer, "2001:db8::1".parse().ok(), false), Judgement::Healthy { records: 1 });
        assert_eq!(
            q.judge(&answer, "2001:db8::2".parse().ok(), false),
            Judgement::Unhealthy("2001:db8::2 not among the answers (2001:db8::1)".to_owned())
        );
        let q = query(RecordType::CNAME);
        let answer = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net")]);
        assert_eq!(
            q.judge(&answer, "192.0.2.7".parse().ok(), false),
            Judgement::Unhealthy("192.0.2.7 not among the answers (no address in them)".to_owned())
        );
    }

    #[test]
    fn what_is_not_the_reply_to_the_query_is_ignored() {
        let q = query(RecordType::A);
        let good = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        let ignored = |bytes: &[u8]| match q.judge(bytes, None, false) {
            Judgement::Ignored(why) => why,
            other => panic!("{other:?} for {bytes:?}"),
        };
        for short in 0..HEADER {
            assert_eq!(ignored(&good[..short]), format!("{short} bytes, shorter than a DNS header"));
        }
        assert_eq!(ignored(&with_id(good.clone(), 0x1235)), "id 4661, not ours (4660)");
        assert_eq!(ignored(q.bytes()), "a query, not a response");
        let other_name = Query::new(0x1234, "example.org", RecordType::A).unwrap();
        let why = ignored(&reply(other_name.bytes(), RCODE::NameError, &[]));
        assert_eq!(why, "an answer to another question (example.org A)");
        let other_type = query(RecordType::AAAA);
        assert_eq!(
            ignored(&reply(other_type.bytes(), RCODE::NoError, &[])),
            "an answer to another question (example.com AAAA)"
        );
        // The other name is shown on one line, whatever its bytes.
        let mut odd = reply(q.bytes(), RCODE::NoError, &[]);
        odd[13..20].copy_from_slice(b"exa\nm\x00e");
        assert_eq!(ignored(&odd), r"an answer to another question (exa\nm\0e.com A)");
        let root = Query::new(0x1234, ".", RecordType::A).unwrap();
        assert_eq!(ignored(&reply(root.bytes(), RCODE::NoError, &[])), "an answer to another question (. A)");
        // No question at all: ignored when it says NOERROR, ours when it is an error.
        let mut bare = good[..HEADER].to_vec();
        bare[4..12].fill(0);
        assert_eq!(ignored(&bare), "an answer without its question");
        bare[3] |= 1;
        assert_eq!(q.judge(&bare, None, false), Judgement::Unhealthy("FORMERR".to_owned()));
        // Two questions, the first ours: not an answer to our one question.
        let mut two = Packet::parse(&good).unwrap();
        two.questions.push(two.questions[0].clone());
        assert!(ignored(&two.build_bytes_vec().unwrap()).ends_with(", and more)"));
        // Another opcode (a NOTIFY).
        let mut notify = good.clone();
        notify[2] |= 4 << 3;
        assert_eq!(ignored(&notify), "opcode 4, not a standard query");
    }

    #[test]
    fn a_truncated_answer_over_udp_asks_for_tcp_and_over_tcp_is_judged() {
        let q = query(RecordType::A);
        let truncated = with_flag(reply(q.bytes(), RCODE::NoError, &[]), PacketFlag::TRUNCATION);
        assert_eq!(q.judge(&truncated, None, false), Judgement::Truncated);
        // Cut in the middle of a record, as servers do: still only "go to TCP".
        let mut cut = with_flag(reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]), PacketFlag::TRUNCATION);
        cut.truncate(cut.len() - 3);
        assert_eq!(q.judge(&cut, None, false), Judgement::Truncated);
        assert_eq!(q.judge(&truncated, None, true), Judgement::Unhealthy("no A record in the answer".to_owned()));
        let full = with_flag(reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]), PacketFlag::TRUNCATION);
        assert_eq!(q.judge(&full, None, true), Judgement::Healthy { records: 1 });
    }

    #[test]
    fn malformed_answers_are_unhealthy_with_the_reason() {
        let q = query(RecordType::A);
        let malformed = |bytes: &[u8]| match q.judge(bytes, None, false) {
            Judgement::Unhealthy(why) if why.starts_with("malformed answer: ") => why,
            other => panic!("{other:?} for {bytes:?}"),
        };
        let good = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        // Counts the message cannot hold, refused before parsing.
        let mut counts = good.clone();
        counts[6..8].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(
            malformed(&counts),
            format!("malformed answer: 1 questions and 65535 records cannot fit in {} bytes", good.len())
        );
        // Our id and the response bit, then garbage.
        let mut garbage = good[..4].to_vec();
        garbage.extend_from_slice(
            b"\x00\x01\x00\x01\x00\x00\x00\x00\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe",
        );
        malformed(&garbage);
        // A name pointing forward (or at itself) is refused, not followed.
        let mut pointer = good[..HEADER].to_vec();
        pointer.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01");
        pointer[6..8].fill(0);
        malformed(&pointer);
        // Every strict prefix of a whole answer: malformed or ignored, never healthy, no panic.
        for end in HEADER..good.len() {
            let why = malformed(&good[..end]);
            assert!(!why.is_empty());
        }
    }

    #[test]
    fn no_bytes_make_the_judgement_panic() {
        let q = query(RecordType::A);
        let good = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net"), a("192.0.2.7"), aaaa("2001:db8::1")]);
        let expect = "192.0.2.7".parse().ok();
        assert_eq!(q.judge(&good, expect, false), Judgement::Healthy { records: 1 });
        for at in 0..good.len() {
            for value in [0u8, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff] {
                let mut changed = good.clone();
                changed[at] = value;
                let _ = q.judge(&changed, expect, false);
                let _ = q.judge(&changed, expect, true);
            }
        }
        // Pseudo-random bytes after our header (xorshift, fixed seed).
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut message = good[..4].to_vec();
            for _ in 0..(state % 200) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                message.push(state as u8);
            }
            let _ = q.judge(&message, expect, false);
        }
    }
}
