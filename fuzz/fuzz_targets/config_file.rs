//! The `--config` file parser on any text: it never panics; it either gives one argument per
//! option line, each `--name` or `--name=value` with the line number it came from, or an error
//! on one line naming a line of the file.
#![no_main]

use exabgp_healthcheck::config_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    match config_file::parse(&text) {
        Ok(args) => {
            let mut last = 0;
            for line in &args {
                assert!(line.number > last && line.number <= lines, "line numbers out of order: {args:?}");
                last = line.number;
                assert!(line.arg.starts_with("--") && line.arg.len() > 2, "{line:?}");
            }
        }
        Err(err) => {
            assert!(err.line >= 1 && err.line <= lines, "{err:?} in {lines} lines");
            assert!(!err.message.contains('\n'), "{err:?}");
        }
    }
});
