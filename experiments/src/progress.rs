//! How library code reports what it is doing: lines of progress, warnings and notes go to one
//! process-wide sink, the terminal unless a program or a test sets another (the way the `log`
//! crate's logger works, without Burn's training logger capturing the lines into a file).
//! This is the one library file that writes to the terminal ([`Meter`] draws its bar there).
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

/// Units of a stage of work done: `done` more of the stage's `total` `unit`s (what a long
/// computation of the library reports to the program's [`Meter`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// Units done since the last tick.
    pub done: usize,
    /// The stage's units in all.
    pub total: usize,
    /// What a unit is ("sweeps").
    pub unit: &'static str,
}

/// Progress through the units of one stage of work (a sampler's sweeps), with the time left:
/// an `indicatif` bar on standard error when it is a terminal and no sink is set, otherwise
/// a line at most every [`Meter::EVERY`] seconds, and at the end, through [`info`].
#[derive(Debug)]
pub struct Meter {
    label: String,
    unit: String,
    total: u64,
    done: u64,
    last_line: std::time::Instant,
    started: std::time::Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Meter {
    /// A meter of `total` `unit`s of the stage `label` (e.g. "sampling the DBN", "sweeps").
    pub fn new(label: &str, total: u64, unit: &str) -> Self {
        use std::io::IsTerminal;
        let sink_set = SINK.read().map(|s| s.is_some()).unwrap_or(true);
        let bar = (!sink_set && std::io::stderr().is_terminal()).then(|| {
            let template =
                format!("  {{wide_bar}} {{pos}}/{{len}} {unit} ({{elapsed}}, about {{eta}} left)");
            let style = indicatif::ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            indicatif::ProgressBar::new(total).with_style(style)
        });
        Self {
            label: label.into(),
            unit: unit.into(),
            total: total.max(1),
            done: 0,
            last_line: std::time::Instant::now(),
            started: std::time::Instant::now(),
            bar,
        }
    }

    /// Counts `n` more units done. Piped, a line says how far the stage is at most every
    /// [`Meter::EVERY`] seconds, and once when it is done.
    pub fn inc(&mut self, n: u64) {
        let before = self.done;
        self.done = (self.done + n).min(self.total);
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
            return;
        }
        let finished = self.done == self.total && before < self.total;
        if !(finished || self.last_line.elapsed().as_secs_f64() >= Self::EVERY) {
            return;
        }
        self.last_line = std::time::Instant::now();
        let spent = self.started.elapsed().as_secs_f64();
        let left = spent / self.done.max(1) as f64 * (self.total - self.done) as f64;
        let tail = match finished {
            true => String::new(),
            false => format!(", about {} left", crate::pace::duration(left)),
        };
        info(format!(
            "  {}: {}% of {} {} in {}{tail}",
            self.label,
            self.done * 100 / self.total,
            self.total,
            self.unit,
            crate::pace::duration(spent)
        ));
    }

    /// Seconds between two lines of a piped meter.
    pub const EVERY: f64 = 10.0;
}

impl Drop for Meter {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
