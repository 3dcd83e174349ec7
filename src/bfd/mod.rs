//! BFD (RFC 5880 asynchronous mode over RFC 5881 single hop): the routers drop this node
//! within the detection time when it, or this process, stops answering. The control packet
//! ([`packet`], pure), one session's state machine and timers ([`session`], pure: the time is
//! an argument), the sockets ([`socket`], the I/O edge the reactor polls) and the speaker that
//! drives them all ([`speaker`]).

pub mod packet;
pub mod session;
pub mod socket;
pub mod speaker;
