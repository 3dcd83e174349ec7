//! One service: its state machine ([`fsm`]) and the hooks it runs on entering a state ([`hooks`]).

pub mod fsm;
pub mod hooks;
