//! Writing to our own stdout and stderr without ever panicking: `print!` and `eprintln!` panic
//! when the write fails (a stderr on a full disk or `/dev/full`, a pipe whose reader has gone,
//! as `ctl status | head -1` makes), and a health checker must not die of its console. A line
//! that cannot be written is lost, nothing more. [`say!`](crate::say) stands for `eprintln!`,
//! [`show!`](crate::show) for `print!`; clippy refuses the panicking macros outside tests.

use std::io::Write;

/// Write `args` and a newline to stderr in one write, ignoring any error.
pub fn err(args: std::fmt::Arguments<'_>) {
    let mut line = args.to_string();
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Write `args` to stdout and flush, ignoring any error.
pub fn out(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_fmt(args).and_then(|()| stdout.flush());
}

/// `eprintln!` that cannot panic: see [`err`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::err(format_args!($($arg)*))
    };
}

/// `print!` that cannot panic: see [`out`].
#[macro_export]
macro_rules! show {
    ($($arg:tt)*) => {
        $crate::console::out(format_args!($($arg)*))
    };
}
