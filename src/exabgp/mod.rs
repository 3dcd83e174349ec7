//! The ExaBGP process API, all of it: the lines we write ([`lines`]), the replies we read
//! ([`reply`]) and the paced pipes that carry them ([`pipe`]).

pub mod lines;
pub mod pipe;
pub mod reply;
