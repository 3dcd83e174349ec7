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

impl Reactor {
    /// The exit path: withdraw every service's routes, let ExaBGP take them, remove our
    /// addresses. After `--interval 0`, only the flush.
    pub(super) fn shutdown(&mut self, stop: Stop) {
        self.withdraw_and_clean_up(stop);
        let view = View::new(&self.slots, self.out.tally(), self.generation + 1);
        for endpoint in &mut self.endpoints {
            endpoint.finish(&view);
            endpoint.close();
        }
    }

    fn withdraw_and_clean_up(&mut self, stop: Stop) {
        if stop == Stop::End {
            self.out.flush(EXIT_FLUSH);
            return;
        }
        let started = Instant::now();
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
        if !out.flush(EXIT_FLUSH) {
            log::warn!("ExaBGP did not take the withdraws within {} ms", EXIT_FLUSH.as_millis());
        }
        for slot in slots.iter_mut() {
            let tag = slot.tag.clone();
            logging::scoped(tag.as_ref(), || drive(slot, out, held, lane.as_mut(), Service::leave));
        }
        self.finish_addresses((started + EXIT_ADDRESSES).max(Instant::now() + EXIT_ADDRESSES_LEAST));
        if let Some(tally) = self.out.tally() {
            log::debug!("ExaBGP answered done {} times, error {} times", tally.done, tally.errors);
        }
    }

    /// Run the address lane alone until its work is over or `deadline`: the end of the exit
    /// path (our addresses removed). What is still running then is cancelled.
    fn finish_addresses(&mut self, deadline: Instant) {
        while self.lane.as_ref().is_some_and(Lane::busy) && Instant::now() < deadline {
            let mut fds = Vec::new();
            if let Some(lane) = &self.lane {
                lane.poll_fds(&mut fds);
            }
            let until = self.lane.as_ref().and_then(Lane::deadline).map_or(deadline, |at| at.min(deadline));
            let ready = match poll_until(&mut fds, Some(until)) {
                Ok(_) => Ready::of(&fds),
                Err(_) => Ready::NONE,
            };
            drop(fds);
            self.lane_ready = ready;
            self.answer_addresses();
        }
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
    }
}
