//! The afl harness of [`exabgp_healthcheck_fuzz::certificate_expiry`]: one input a run, from afl (or stdin).

fn main() {
    afl::fuzz!(|data: &[u8]| exabgp_healthcheck_fuzz::certificate_expiry::run(data));
}
