//! The reactor's side of the endpoint seam ([`crate::endpoint`]): its services, as a
//! [`View`](crate::endpoint::View) reads them, with where their lines stand in ExaBGP's pipe.

use super::Slot;
use crate::endpoint::Services;
use crate::exabgp::Outbox;
use crate::service::Service;

/// The services and the queue of lines to ExaBGP, as an endpoint sees them.
pub(super) struct Seen<'a> {
    pub(super) slots: &'a [Slot],
    pub(super) out: &'a Outbox,
}

impl Services for Seen<'_> {
    fn at(&self, index: usize) -> Option<&Service> {
        self.slots.get(index).map(|slot| &slot.service)
    }

    fn written(&self, index: usize) -> bool {
        self.slots.get(index).is_none_or(|slot| self.out.finished(slot.last_line))
    }
}
