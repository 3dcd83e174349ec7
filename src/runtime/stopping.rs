//! The exit path: every service's withdraws, the flush to ExaBGP, then the removal of our
//! addresses on the address lane, each bounded in time; the endpoints' last look.

use super::*;

/// How long the exit path waits for the withdraws to reach ExaBGP (ExaBGP 5 kills us 2 s
/// after its SIGTERM).
pub(super) const EXIT_FLUSH: Duration = Duration::from_millis(1000);

/// How long the exit path gives the removal of our addresses, counted from its start (the
/// withdraws' flush included), and at least [`EXIT_ADDRESSES_LEAST`] after the flush: within
/// ExaBGP 5's 2 s. Over rtnetlink an address takes tens of microseconds (thousands fit on an
/// idle machine); a `sudo` still running then is killed.
pub(super) const EXIT_ADDRESSES: Duration = Duration::from_millis(1800);
pub(super) const EXIT_ADDRESSES_LEAST: Duration = Duration::from_millis(500);

/// While the exit path waits for the writer (whose progress wakes no descriptor), it looks
/// again this often.
const LINGER_STEP: Duration = Duration::from_millis(5);

impl Reactor {
    /// The exit path: withdraw every service's routes, let ExaBGP take them, say goodbye on
    /// the endpoints (BFD's AdminDown), remove our addresses. After `--interval 0`, only the
    /// flush and the goodbyes. The endpoints are served all along (BFD keeps its packets
    /// going until its AdminDown, so that no router times us out first), within bounds.
    pub(super) fn shutdown(&mut self, stop: Stop) {
        let started = Instant::now();
        self.cancel_reload();
        if stop == Stop::Exit {
            self.withdraw(started);
        } else if !self.linger(started + EXIT_FLUSH, |reactor| reactor.out.backlog() == 0) {
            log::warn!("ExaBGP did not take the withdraws within {} ms", EXIT_FLUSH.as_millis());
        }
        let now = Instant::now();
        for endpoint in &mut self.endpoints {
            endpoint.leave(now);
        }
        if stop == Stop::Exit {
            self.clean_up(started);
        }
        let deadline = (started + EXIT_ADDRESSES).max(Instant::now() + EXIT_ADDRESSES_LEAST);
        self.linger(deadline, |reactor| !reactor.endpoints.iter().any(|e| e.lingering(Instant::now())));
        let seen = endpoint::Seen { slots: &self.slots, out: &self.out };
        let view = View::new(&seen, self.out.tally(), self.generation + 1);
        for endpoint in &mut self.endpoints {
            endpoint.finish(&view);
            endpoint.close();
        }
    }

    /// Every service's withdraws, written within [`EXIT_FLUSH`] of `started` at most.
    fn withdraw(&mut self, started: Instant) {
        let Reactor { slots, out, held, lane, .. } = self;
        for slot in slots.iter_mut() {
            if let Some(lane) = lane.as_mut() {
                // Address work in flight is given up: its `sudo` is killed.
                lane.cancel(slot.service.id);
            }
            let tag = slot.tag.clone();
            logging::scoped(tag.as_ref(), || {
                drive(slot, out, held, lane.as_mut(), |service, cx| {
                    service.exit(cx);
                    Next::Wait
                })
            });
        }
        if !self.linger(started + EXIT_FLUSH, |reactor| reactor.out.backlog() == 0) {
            log::warn!("ExaBGP did not take the withdraws within {} ms", EXIT_FLUSH.as_millis());
        }
    }

    /// The removal of our addresses, on the address lane, until it is over or the exit path's
    /// time for it is ([`EXIT_ADDRESSES`] from `started`, [`EXIT_ADDRESSES_LEAST`] at least).
    fn clean_up(&mut self, started: Instant) {
        let Reactor { slots, out, held, lane, .. } = self;
        for slot in slots.iter_mut() {
            let tag = slot.tag.clone();
            logging::scoped(tag.as_ref(), || drive(slot, out, held, lane.as_mut(), Service::leave));
        }
        let deadline = (started + EXIT_ADDRESSES).max(Instant::now() + EXIT_ADDRESSES_LEAST);
        self.linger(deadline, |reactor| !reactor.lane.as_ref().is_some_and(Lane::busy));
        for slot in self.slots.iter().chain(std::mem::take(&mut self.leaving).iter()) {
            if let Some(lane) = self.lane.as_mut() {
                lane.cancel(slot.service.id);
            }
            if !slot.service.gone() {
                logging::scoped(slot.tag.as_ref(), || {
                    log::warn!("the removal of our addresses did not finish in time: some may be left");
                });
            }
        }
        if let Some(tally) = self.out.tally() {
            log::debug!("ExaBGP answered done {} times, error {} times", tally.done, tally.errors);
        }
    }

    /// Serve the endpoints and the address lane, and nothing else, until `done` or `deadline`;
    /// whether `done`. What the endpoints ask of the services now is not done: they are
    /// leaving. The watchdog sees this loop come round too.
    fn linger(&mut self, deadline: Instant, done: impl Fn(&Reactor) -> bool) -> bool {
        // Bounded in time by `deadline`, and in count: each round waits a step or more, or
        // something polled ready (which it then handles).
        for _ in 0..100_000 {
            if done(self) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            if let Some((heartbeat, _)) = &self.heartbeat {
                heartbeat.beat();
            }
            let endpoints = self.endpoints.iter().filter_map(|endpoint| endpoint.deadline());
            let lane = self.lane.as_ref().and_then(Lane::deadline);
            let until = endpoints.chain(lane).fold(deadline.min(now + LINGER_STEP), Instant::min);
            let mut fds = Vec::new();
            let mut ranges = Vec::with_capacity(self.endpoints.len() + 1);
            for endpoint in &self.endpoints {
                let first = fds.len();
                endpoint.poll_fds(&mut fds);
                ranges.push(first..fds.len());
            }
            let first = fds.len();
            if let Some(lane) = &self.lane {
                lane.poll_fds(&mut fds);
            }
            ranges.push(first..fds.len());
            let mut ready = match poll_until(&mut fds, Some(until)) {
                Ok(_) => ranges.into_iter().map(|range| Ready::of(&fds[range])).collect(),
                Err(_) => Vec::new(),
            };
            drop(fds);
            self.lane_ready =
                if ready.len() > self.endpoints.len() { ready.pop().unwrap_or_default() } else { Ready::NONE };
            self.answer_addresses();
            let seen = endpoint::Seen { slots: &self.slots, out: &self.out };
            let view = View::new(&seen, self.out.tally(), self.generation);
            ready.resize(self.endpoints.len(), Ready::NONE);
            let mut asks = Vec::new();
            for (endpoint, ready) in self.endpoints.iter_mut().zip(ready) {
                endpoint.advance(ready, &view, &mut asks);
            }
        }
        done(self)
    }
}
