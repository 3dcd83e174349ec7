//! The reactor's side of the endpoint seam ([`crate::endpoint`]): its services, as a
//! [`View`](crate::endpoint::View) reads them.

use super::Slot;
use crate::endpoint::Services;
use crate::service::Service;

impl Services for Vec<Slot> {
    fn at(&self, index: usize) -> Option<&Service> {
        self.get(index).map(|slot| &slot.service)
    }
}
