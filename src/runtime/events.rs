//! What the main thread hears from the other threads (signals, ExaBGP's replies, closed
//! pipes): a channel whose every message also writes a byte to a wake-up socket, so that the
//! main thread can wait for an event, a running check's exit and its output in the same
//! `poll()`.

use super::signals::Signal;
use crate::exabgp::inbound::Inbound;
use crate::exabgp::pipe::{Notify, PipeEvent};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::sync::Arc;

/// Everything the main thread hears about.
#[derive(Debug)]
pub enum Event {
    /// A signal.
    Signal(Signal),
    /// Lines from ExaBGP, parsed, to take from the [`Inbound`] (once for all that came
    /// since the last time they were taken).
    Heard(Arc<Inbound>),
    /// ExaBGP closed our stdin: it is gone.
    StdinClosed,
    /// Writing to ExaBGP failed: it is gone.
    StdoutClosed(String),
}

impl From<PipeEvent> for Event {
    fn from(event: PipeEvent) -> Event {
        match event {
            PipeEvent::Heard(inbound) => Event::Heard(inbound),
            PipeEvent::StdinClosed => Event::StdinClosed,
            PipeEvent::StdoutClosed(why) => Event::StdoutClosed(why),
        }
    }
}

/// The sending side, for any number of threads.
#[derive(Clone)]
pub struct Sender {
    tx: mpsc::Sender<Event>,
    wake: Arc<UnixStream>,
}

/// The receiving side, for the main thread.
pub struct Inbox {
    rx: mpsc::Receiver<Event>,
    woken: UnixStream,
}

/// A new channel.
pub fn channel() -> io::Result<(Sender, Inbox)> {
    let (woken, wake) = UnixStream::pair()?;
    woken.set_nonblocking(true)?;
    // A full socket already holds a wake-up: the byte is not needed then.
    wake.set_nonblocking(true)?;
    let (tx, rx) = mpsc::channel();
    Ok((Sender { tx, wake: Arc::new(wake) }, Inbox { rx, woken }))
}

impl Sender {
    /// Queue `event` and wake the main thread. Fails (giving the event back) once the
    /// [`Inbox`] is gone.
    pub fn send(&self, event: Event) -> Result<(), Event> {
        self.tx.send(event).map_err(|mpsc::SendError(event)| event)?;
        let _ = (&*self.wake).write(&[1]);
        Ok(())
    }
}

/// ExaBGP's pipes tell the main thread here.
impl Notify for Sender {
    fn notify(&self, event: PipeEvent) -> bool {
        self.send(event.into()).is_ok()
    }
}

impl Inbox {
    /// The socket that is readable while events may be waiting: poll it, and when it polls
    /// readable, [`Inbox::clear`] it before [`Inbox::pending`].
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.woken.as_fd()
    }

    /// Clear the wake-ups (so that an event sent after this leaves the socket readable).
    pub fn clear(&self) {
        let mut bytes = [0u8; 256];
        while matches!((&self.woken).read(&mut bytes), Ok(n) if n > 0) {}
    }

    /// The events queued now, in order; no system call.
    pub fn pending(&self) -> Vec<Event> {
        self.rx.try_iter().collect()
    }

    /// Every event queued now, in order, with the wake-ups cleared first (for tests).
    #[cfg(test)]
    pub fn take(&self) -> Vec<Event> {
        self.clear();
        self.pending()
    }

    /// Wait for the next event, `limit` at most (for tests).
    #[cfg(test)]
    pub fn recv_timeout(&self, limit: std::time::Duration) -> Option<Event> {
        use nix::errno::Errno;
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::time::{Duration, Instant};
        let until = Instant::now() + limit;
        loop {
            if let Ok(event) = self.rx.try_recv() {
                return Some(event);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let timeout = PollTimeout::try_from(left + Duration::from_millis(1)).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return self.rx.recv_timeout(left).ok(),
            }
            self.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::time::{Duration, Instant};

    fn readable(inbox: &Inbox) -> bool {
        let mut fds = [PollFd::new(inbox.fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::ZERO).unwrap() == 1
    }

    #[test]
    fn events_arrive_in_order_and_wake_the_poll() {
        let (tx, inbox) = channel().unwrap();
        assert!(!readable(&inbox));
        tx.send(Event::Signal(Signal::Terminate)).unwrap();
        tx.clone().send(Event::StdinClosed).unwrap();
        assert!(readable(&inbox));
        let got = inbox.take();
        assert!(matches!(got[..], [Event::Signal(Signal::Terminate), Event::StdinClosed]), "{got:?}");
        assert!(!readable(&inbox), "the wake-ups are cleared with the events");
        assert!(inbox.take().is_empty());
    }

    #[test]
    fn many_events_never_block_the_sender() {
        let (tx, inbox) = channel().unwrap();
        for _ in 0..100_000 {
            tx.send(Event::Signal(Signal::Hangup)).unwrap();
        }
        assert_eq!(inbox.take().len(), 100_000);
    }

    #[test]
    fn an_event_from_another_thread_ends_a_wait() {
        let (tx, inbox) = channel().unwrap();
        let started = Instant::now();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            tx.send(Event::StdoutClosed("gone".into())).unwrap();
        });
        assert!(matches!(inbox.recv_timeout(Duration::from_secs(20)), Some(Event::StdoutClosed(_))));
        assert!(started.elapsed() < Duration::from_secs(10));
        sender.join().unwrap();
        assert!(inbox.recv_timeout(Duration::from_millis(10)).is_none());
    }

    #[test]
    fn sending_after_the_inbox_is_gone_fails() {
        let (tx, inbox) = channel().unwrap();
        drop(inbox);
        assert!(tx.send(Event::StdinClosed).is_err());
    }
}
