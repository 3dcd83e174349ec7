//! The afl harness of [`exabgp_healthcheck_fuzz::ntp_reply`]: one input a run, from afl (or stdin).

fn main() {
    afl::fuzz!(|data: &[u8]| exabgp_healthcheck_fuzz::ntp_reply::run(data));
}
