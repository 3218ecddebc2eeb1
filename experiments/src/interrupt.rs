//! Stopping a training run cleanly on Ctrl-C, `SIGINT` or `SIGTERM`: the signal sets a flag,
//! a watcher thread asks Burn's learner to stop after the current step, the dashboard closes
//! and restores the terminal, and the run ends with an error that says how to `--resume`.
//! A second signal ends the process at once (exit status 130).
//!
//! Burn's terminal dashboard puts the terminal in raw mode, where Ctrl-C is an ordinary key
//! that the dashboard ignores. [`enter_dashboard_terminal`] enters raw mode first, with the
//! terminal's `ISIG` flag kept on, so that Ctrl-C raises `SIGINT`; while the dashboard runs,
//! the watcher keeps `ISIG` on.

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

/// Puts the terminal in raw mode for Burn's dashboard before the dashboard starts, with Ctrl-C
/// kept a signal. The dashboard's own request for raw mode then finds it on (crossterm keeps
/// one raw-mode state per process) and leaves it, so there is no moment at which Ctrl-C is an
/// ignored key; the dashboard restores the terminal's original mode when it closes. Call
/// [`leave_dashboard_terminal`] after the training, in case the dashboard never started.
pub fn enter_dashboard_terminal() {
    if crossterm::terminal::enable_raw_mode().is_ok() {
        keep_ctrl_c_a_signal();
    }
}

/// Restores the terminal's mode from before [`enter_dashboard_terminal`] (nothing if the
/// dashboard already did).
pub fn leave_dashboard_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
}

/// Turns the terminal's `ISIG` flag back on if raw mode turned it off, so that Ctrl-C raises
/// `SIGINT` (raw mode is otherwise kept). The terminal is standard input, or `/dev/tty` when
/// standard input is not one (as crossterm chooses).
#[cfg(unix)]
fn keep_ctrl_c_a_signal() {
    use std::io::IsTerminal;

    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let set = |fd: rustix::fd::BorrowedFd<'_>| {
        if let Ok(mut modes) = tcgetattr(fd)
            && !modes.local_modes.contains(LocalModes::ISIG)
        {
            modes.local_modes.insert(LocalModes::ISIG);
            let _ = tcsetattr(fd, OptionalActions::Now, &modes);
        }
    };
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        use std::os::fd::AsFd;
        set(stdin.as_fd());
    } else if let Ok(tty) = std::fs::File::open("/dev/tty") {
        use std::os::fd::AsFd;
        set(tty.as_fd());
    }
}

#[cfg(not(unix))]
fn keep_ctrl_c_a_signal() {}
