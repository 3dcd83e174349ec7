//! What the process serves beside its services: the endpoints its settings ask for (the
//! metrics file and listener, the control socket), opened for the reactor, which polls them
//! with the services' jobs ([`crate::endpoint`] is the seam between them).
//!
//! A new endpoint: a type implementing [`Endpoint`], opened in [`open`] from its
//! [`ProcessConfig`] options (a bad one refused there, before any service starts).

use crate::config::ProcessConfig;
use crate::endpoint::Endpoint;
use crate::error::UsageError;

/// The endpoints that `process` asks for, opened (sockets bound) now. A bad option is refused
/// here, naming its flag, before any service starts.
pub fn open(process: &ProcessConfig) -> Result<Vec<Box<dyn Endpoint>>, UsageError> {
    let mut endpoints: Vec<Box<dyn Endpoint>> = Vec::new();
    crate::metrics::open(process, &mut endpoints)?;
    if let Some(path) = &process.control_socket {
        let owner = (process.user.as_ref(), process.group.as_ref());
        endpoints.push(Box::new(crate::control::server::Server::open(path, owner)?));
    }
    Ok(endpoints)
}
