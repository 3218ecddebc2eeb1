//! What this workspace's binaries share at their edges: one clear line per user error (never a
//! backtrace, whatever `RUST_BACKTRACE` says), a quiet exit when the reader of their output
//! goes away (`… | head -1`), and a short report instead of a raw panic for bugs.
//!
//! Nothing here runs unless a binary calls it.

use std::io::Write;
use std::process::ExitCode;

/// The exit status of a program whose output pipe was closed by its reader (as if killed by
/// `SIGPIPE`, the shell's 128 + 13).
pub const BROKEN_PIPE_EXIT: i32 = 141;

/// The exit status of a program stopped by Ctrl-C or `SIGINT` (the shell's 128 + 2).
pub const INTERRUPTED_EXIT: u8 = 130;

/// The exit status of an error: bad input (a flag's value, a configuration, a dataset, a run
/// folder) or a failure reading or writing files.
pub const ERROR_EXIT: u8 = 1;

/// The exit status of a command line that does not parse (an unknown flag, a missing or
/// malformed value), as clap sets it.
pub const USAGE_EXIT: u8 = 2;

/// The commit this crate was built from (`-modified` when its sources differed from it;
/// `unknown` outside a git checkout).
pub const GIT_COMMIT: &str = env!("VRG_GIT_COMMIT");

/// What `--version` prints after the program's name.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("VRG_GIT_COMMIT"),
    ")"
);

/// The exit statuses every binary of the workspace uses, as their `--help` lists them.
pub const EXIT_STATUS_HELP: &str = "\
Exit status (the same for every program of this workspace):
  0    success
  1    error: bad input (a flag's value, a configuration, a dataset, a run folder) or a file
       that cannot be read or written; one line on standard error, nothing existing lost
  2    usage error: an unknown flag, a missing or malformed value
  130  interrupted (Ctrl-C): what was written is kept; fig3 --resume and sweep run continue
  141  the reader of the output went away (`… | head`)";

/// The help of `--force`, worded once for every program that writes a folder.
pub const FORCE_HELP: &str = "Replace an existing output folder that this program wrote, once the new one is complete; any other folder is refused";

/// Installs a panic hook that
/// - exits quietly with [`BROKEN_PIPE_EXIT`] when printing failed because the reader of
///   standard output or error went away, and
/// - otherwise reports the panic as a bug in one line (with the default report and its
///   backtrace after it only when `RUST_BACKTRACE` is set).
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "internal error: {message}{location}\nThis is a bug; please report it with the command that caused it."
        );
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
        }
    }));
}

/// The exit status for a binary's result: success, or the error printed as one line
/// (`error: outer: inner: …`, the whole chain, no backtrace) and status 1, or `code(&error)`
/// when that gives one (e.g. [`INTERRUPTED_EXIT`]).
pub fn exit_code<E: std::fmt::Display>(
    result: Result<(), E>,
    code: impl Fn(&E) -> Option<u8>,
) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(code(&e).unwrap_or(ERROR_EXIT))
        }
    }
}
