//! How library code reports what it is doing: lines of progress, warnings and notes go to one
//! process-wide sink, the terminal unless a program or a test sets another (the way the `log`
//! crate's logger works, without Burn's training logger capturing the lines into a file).
//! This is the one library file that writes to the terminal.
//!
//! ```
//! use experiments::progress::{self, Kind};
//! use std::sync::{Arc, Mutex};
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let sink = seen.clone();
//! let previous = progress::set_sink(Box::new(move |kind, line: &str| {
//!     sink.lock().unwrap().push((kind, line.to_string()));
//! }));
//! progress::warn("the disk is nearly full");
//! progress::restore(previous);
//! assert_eq!(seen.lock().unwrap()[0], (Kind::Warning, "the disk is nearly full".to_string()));
//! ```

use std::fmt::Display;
use std::sync::{Arc, RwLock};

/// What a reported line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Progress (standard output on the terminal).
    Info,
    /// Something went wrong and the work goes on (standard error, "warning: …").
    Warning,
    /// Something the user should know (standard error, "note: …").
    Note,
}

/// Where reported lines go.
pub type Sink = Box<dyn Fn(Kind, &str) + Send + Sync>;

/// The current sink; `None` is the terminal.
static SINK: RwLock<Option<Arc<Sink>>> = RwLock::new(None);

/// Sends reported lines to `sink` from now on; returns the sink it replaces (for
/// [`restore`]).
pub fn set_sink(sink: Sink) -> Option<Arc<Sink>> {
    let mut current = SINK.write().unwrap_or_else(|e| e.into_inner());
    current.replace(Arc::new(sink))
}

/// Puts back a sink [`set_sink`] returned (`None`: the terminal).
pub fn restore(previous: Option<Arc<Sink>>) {
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = previous;
}

/// Reports one line of `kind`.
pub fn report(kind: Kind, line: impl Display) {
    let line = line.to_string();
    let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
    match sink {
        Some(sink) => sink(kind, &line),
        None => terminal(kind, &line),
    }
}

/// Reports progress.
pub fn info(line: impl Display) {
    report(Kind::Info, line);
}

/// Reports a warning.
pub fn warn(line: impl Display) {
    report(Kind::Warning, line);
}

/// Reports a note.
pub fn note(line: impl Display) {
    report(Kind::Note, line);
}

/// The terminal: progress to standard output, warnings and notes to standard error.
fn terminal(kind: Kind, line: &str) {
    match kind {
        Kind::Info => println!("{line}"),
        Kind::Warning => eprintln!("warning: {line}"),
        Kind::Note => eprintln!("note: {line}"),
    }
}
