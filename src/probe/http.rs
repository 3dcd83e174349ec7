//! The HTTP check (`--check http://HOST[:PORT]/PATH`): for now, the pure part, how an answer
//! is read ([`response`]).

pub mod response;
