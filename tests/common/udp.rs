//! UDP across the test's namespaces: a socket opened inside a namespace (from a short-lived
//! thread that joins it: the socket stays there), an echo server answering every probe with
//! its tag, and a steady stream of numbered probes whose answers are counted. Every loop stops
//! on a flag or a deadline; the threads are joined when their handle is dropped or finished.

use super::netns::Netns;
use nix::sched::{setns, CloneFlags};
use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A UDP socket bound to `addr` inside `ns`.
pub fn socket_in(ns: &Netns, addr: SocketAddr) -> UdpSocket {
    let path = Path::new("/run/netns").join(&ns.name);
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
                setns(&file, CloneFlags::CLONE_NEWNET).unwrap_or_else(|e| panic!("enter {}: {e}", ns.name));
                UdpSocket::bind(addr).unwrap_or_else(|e| panic!("bind {addr} in {}: {e}", ns.name))
            })
            .join()
            .expect("the thread that opens a socket in a namespace")
    })
}

/// Answers every datagram on its socket with `TAG SAME-PAYLOAD`, until dropped.
pub struct Echo {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Echo {
    pub fn start(ns: &Netns, addr: SocketAddr, tag: &str) -> Echo {
        let socket = socket_in(ns, addr);
        socket.set_read_timeout(Some(Duration::from_millis(50))).expect("a read timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let tag = tag.to_owned();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !flag.load(Ordering::SeqCst) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else { continue };
                let mut answer = format!("{tag} ").into_bytes();
                answer.extend_from_slice(&buf[..n]);
                let _ = socket.send_to(&answer, from);
            }
        });
        Echo { stop, thread: Some(thread) }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a stream of probes got.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub sent: u64,
    /// Answers by the tag of the echo that sent them.
    pub answered: BTreeMap<String, u64>,
    /// The probes that got no answer.
    pub lost: Vec<u64>,
    /// For each tag, the first and last probe it answered.
    pub spans: BTreeMap<String, (u64, u64)>,
}

/// Numbered probes from a socket in a namespace to one address, one every `every`, for at most
/// `limit`, until finished.
pub struct Stream {
    stop: Arc<AtomicBool>,
    sender: Option<JoinHandle<u64>>,
    receiver: Option<JoinHandle<()>>,
    answers: Arc<Mutex<BTreeMap<u64, String>>>,
    done: Arc<AtomicBool>,
}

impl Stream {
    pub fn start(ns: &Netns, to: SocketAddr, every: Duration, limit: Duration) -> Stream {
        let socket = socket_in(ns, SocketAddr::from(([0, 0, 0, 0], 0)));
        // Not connected: an echo bound to the wildcard address answers from the address the
        // kernel picks for the way back, not necessarily the one probed.
        socket.set_read_timeout(Some(Duration::from_millis(50))).expect("a read timeout");
        let reading = socket.try_clone().expect("a second handle on the probe socket");
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(Mutex::new(BTreeMap::new()));
        let (flag, into, over) = (Arc::clone(&stop), Arc::clone(&answers), Arc::clone(&done));
        let receiver = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !over.load(Ordering::SeqCst) {
                let Ok((n, _)) = reading.recv_from(&mut buf) else { continue };
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if let Some((tag, seq)) = text.split_once(' ') {
                    if let Ok(seq) = seq.trim().parse::<u64>() {
                        into.lock().unwrap().insert(seq, tag.to_owned());
                    }
                }
            }
        });
        let sender = std::thread::spawn(move || {
            let deadline = Instant::now() + limit;
            let mut seq = 0;
            while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                let _ = socket.send_to(seq.to_string().as_bytes(), to);
                seq += 1;
                std::thread::sleep(every);
            }
            seq
        });
        Stream { stop, sender: Some(sender), receiver: Some(receiver), answers, done }
    }

    /// How many probes were answered so far, by tag.
    pub fn answered(&self) -> BTreeMap<String, u64> {
        let mut by_tag = BTreeMap::new();
        for tag in self.answers.lock().unwrap().values() {
            *by_tag.entry(tag.clone()).or_insert(0) += 1;
        }
        by_tag
    }

    /// Stop sending, give the last answers `grace` to come, and count.
    pub fn finish(mut self, grace: Duration) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        let sent = self.sender.take().map_or(0, |t| t.join().unwrap_or(0));
        std::thread::sleep(grace);
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.receiver.take() {
            let _ = thread.join();
        }
        let answers = self.answers.lock().unwrap();
        let mut tally = Tally { sent, ..Tally::default() };
        for seq in 0..sent {
            match answers.get(&seq) {
                Some(tag) => {
                    *tally.answered.entry(tag.clone()).or_insert(0) += 1;
                    let span = tally.spans.entry(tag.clone()).or_insert((seq, seq));
                    span.1 = seq;
                }
                None => tally.lost.push(seq),
            }
        }
        tally
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.sender.take() {
            let _ = thread.join();
        }
        if let Some(thread) = self.receiver.take() {
            let _ = thread.join();
        }
    }
}
