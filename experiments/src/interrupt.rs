//! Stopping a training run cleanly on Ctrl-C, `SIGINT` or `SIGTERM`: the signal sets a flag,
//! a watcher thread asks Burn's learner to stop after the current step, the dashboard closes
//! and restores the terminal, and the run ends with an error that says how to `--resume`.
//! A second signal ends the process at once (exit status 130).
//!
//! Burn's terminal dashboard puts the terminal in raw mode, where Ctrl-C is an ordinary key
//! that the dashboard ignores; while the dashboard runs, the watcher turns the terminal's
//! `ISIG` flag back on, so that Ctrl-C raises `SIGINT` again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use burn::train::Interrupter;

/// A flag raised by the first Ctrl-C, `SIGINT` or `SIGTERM` after [`StopSignal::install`].
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    flag: Arc<AtomicBool>,
}

impl StopSignal {
    /// A flag that only [`StopSignal::raise`] raises (for tests and for library callers that
    /// handle signals themselves).
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handlers: the first `SIGINT` or `SIGTERM` raises the flag, a second one
    /// exits at once with status 130.
    ///
    /// # Errors
    /// If a handler cannot be registered.
    pub fn install() -> Result<Self> {
        let signal = Self::new();
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // The conditional exit first: it sees the flag as it was before this signal.
            signal_hook::flag::register_conditional_shutdown(
                sig,
                ising_data::cli::INTERRUPTED_EXIT.into(),
                Arc::clone(&signal.flag),
            )
            .context("installing the interrupt handler")?;
            signal_hook::flag::register(sig, Arc::clone(&signal.flag))
                .context("installing the interrupt handler")?;
        }
        Ok(signal)
    }

    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Requests a stop, as a signal would.
    pub fn raise(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Watches the flag while a learner runs: once raised, `interrupter` is stopped. With
    /// `dashboard`, also keeps Ctrl-C a signal on the terminal (see the module docs). The
    /// watcher ends when the returned guard is dropped.
    pub fn watch(&self, interrupter: Interrupter, dashboard: bool) -> Watcher {
        let flag = Arc::clone(&self.flag);
        let done = Arc::new(AtomicBool::new(false));
        let done_thread = Arc::clone(&done);
        let handle = std::thread::Builder::new()
            .name("stop-watcher".into())
            .spawn(move || {
                let mut stopped = false;
                while !done_thread.load(Ordering::SeqCst) {
                    if !stopped && flag.load(Ordering::SeqCst) {
                        interrupter.stop(Some("interrupted by a signal"));
                        stopped = true;
                    }
                    if dashboard {
                        keep_ctrl_c_a_signal();
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
            })
            .ok();
        Watcher { done, handle }
    }
}

/// Stops its watcher thread when dropped.
#[derive(Debug)]
pub struct Watcher {
    done: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Turns the terminal's `ISIG` flag back on if raw mode turned it off, so that Ctrl-C raises
/// `SIGINT` (raw mode is otherwise kept).
#[cfg(unix)]
fn keep_ctrl_c_a_signal() {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    if let Ok(mut modes) = tcgetattr(&stdin)
        && !modes.local_modes.contains(LocalModes::ISIG)
    {
        modes.local_modes.insert(LocalModes::ISIG);
        let _ = tcsetattr(&stdin, OptionalActions::Now, &modes);
    }
}

#[cfg(not(unix))]
fn keep_ctrl_c_a_signal() {}
