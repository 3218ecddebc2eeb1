//! What the command lines of this crate's binaries share: the version line, the help's
//! closing sections (examples, environment, exit statuses), and the flags every program that
//! writes a folder or runs on a device takes, worded once.
//!
//! The conventions: the folder a program reads is an argument (`quality RUN`, `sweep run DIR`,
//! `ising-data inspect DIR`); the folder it writes is `--out`, replaced only with `--force`;
//! every closed choice lists its values and every default is shown.

use std::path::PathBuf;

use anyhow::Result;
use burn::prelude::Device;
use clap::builder::PossibleValuesParser;

/// The commit this crate was built from (`-modified` when the workspace's sources differed
/// from it; `unknown` outside a git checkout).
pub const GIT_COMMIT: &str = env!("VRG_GIT_COMMIT");

/// What `--version` prints after the program's name: the crate's version, the commit and
/// Burn's version.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("VRG_GIT_COMMIT"),
    ", Burn ",
    env!("BURN_VERSION"),
    ")"
);

/// The environment variables the binaries read, as their `--help` lists them.
pub const ENVIRONMENT_HELP: &str = "\
Environment:
  RBM_KERNEL         where the CD step runs on the flex device: auto (the default: the widest
                     of avx512, avx2, neon this CPU has), avx512, avx2, neon, or tensor (Burn's
                     tensor operations)
  RBM_THREADS        CPU threads to compute on, as --threads (default: the threads this
                     process may run on: its CPU affinity and cgroup quota)
  RAYON_NUM_THREADS  worker threads of the parts outside the fused kernel, when neither
                     --threads nor RBM_THREADS is given (default: one per core)";

/// The closing sections of a binary's `--help`: its `examples` (one command a line), the
/// environment and the exit statuses.
pub fn after_help(examples: &str) -> String {
    let examples: String = examples
        .lines()
        .map(|line| format!("  {}\n", line.trim()))
        .collect();
    format!(
        "Examples:\n{examples}\n{ENVIRONMENT_HELP}\n\n{}",
        ising_data::cli::EXIT_STATUS_HELP
    )
}

/// The flag of a configuration field, as the binaries name it: `--` and the field with `-` for
/// `_` (`error_blocks` → `--error-blocks`).
pub fn flag(field: &str) -> String {
    format!("--{}", field.replace('_', "-"))
}

/// How to start `program` with `args` from the shell the user ran this one from: through
/// cargo (`cargo run --release -p experiments --bin …`) when this binary lies in a cargo
/// target folder (`…/release` or `…/debug`), by its name otherwise.
pub fn command(program: &str, args: &str) -> String {
    let profile = std::env::current_exe().ok().and_then(|exe| {
        let parent = exe.parent()?.file_name()?.to_str()?.to_string();
        ["release", "debug"]
            .contains(&parent.as_str())
            .then_some(parent)
    });
    match profile.as_deref() {
        Some("release") => format!("cargo run --release -p experiments --bin {program} -- {args}"),
        Some(_) => format!("cargo run -p experiments --bin {program} -- {args}"),
        None => format!("{program} {args}"),
    }
}

/// The last lines of a program: where it wrote, in how many seconds, and what to run or read
/// next ([`next_steps`]).
pub fn closing(written: &std::path::Path, seconds: f64, steps: &[(String, &str)]) -> String {
    format!(
        "wrote {} in {seconds:.1} s\n{}",
        written.display(),
        next_steps(steps)
    )
}

/// `path` as one shell word (single-quoted when it holds anything but letters, digits and
/// `/._-+=,:@`).
pub fn shell_word(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=,:@".contains(c);
    match !text.is_empty() && text.chars().all(plain) {
        true => text,
        false => format!("'{}'", text.replace('\'', "'\\''")),
    }
}

/// What to run or read next, one `(what, why)` a step, as the last lines a program prints.
pub fn next_steps(steps: &[(String, &str)]) -> String {
    let lines: Vec<String> = steps
        .iter()
        .map(|(what, why)| format!("  {what}\n      {why}"))
        .collect();
    format!("next:\n{}", lines.join("\n"))
}

/// The time now, UTC, to the second, as RFC 3339 (`2026-12-07T05:24:59Z`).
pub fn now_utc() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".into())
}

/// The output folder of a program that writes one: `--out` and `--force`.
#[derive(Debug, Clone, clap::Args)]
pub struct OutArgs {
    /// Output folder (must not exist, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing output folder this program wrote (the help is
    /// [`ising_data::cli::FORCE_HELP`]).
    #[arg(long, help = ising_data::cli::FORCE_HELP)]
    pub force: bool,
}

/// The device a program runs on: `--device`, one of those this build has, and its CPU
/// threads.
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArgs {
    /// Device: flex (the CPU), or a backend compiled in with its Cargo feature (ndarray, wgpu,
    /// cuda).
    #[arg(long, default_value = "flex", value_parser = device_names())]
    pub device: String,
    /// CPU threads.
    #[command(flatten)]
    pub threads: ThreadArgs,
}

impl DeviceArgs {
    /// The Burn device `--device` names, with the CPU threads of `--threads` set.
    ///
    /// # Errors
    /// Never for a name the parser accepted; as [`rbm::device::select_device`] otherwise; as
    /// [`ThreadArgs::apply`].
    pub fn select(&self) -> Result<Device> {
        self.threads.apply()?;
        Ok(rbm::device::select_device(&self.device)?)
    }
}

/// `--threads N`: the CPU threads a program computes on.
#[derive(Debug, Clone, clap::Args)]
pub struct ThreadArgs {
    /// CPU threads to compute on (the fused kernel's team and the thread pool of the rest);
    /// by default the environment variable RBM_THREADS, else the threads this process may run
    /// on (its CPU affinity and cgroup quota), which is right unless other jobs share them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub threads: Option<u64>,
}

impl ThreadArgs {
    /// Sets the threads (`--threads`, else `RBM_THREADS`; nothing when neither is given):
    /// the kernel's team ([`rbm::set_threads`]) and rayon's global pool.
    ///
    /// # Errors
    /// An `RBM_THREADS` that is not a positive integer, naming it, or a pool already started
    /// with another size.
    pub fn apply(&self) -> Result<()> {
        let threads = match self.threads {
            Some(n) => Some(n as usize),
            None => threads_from_env()?,
        };
        let Some(n) = threads else {
            return Ok(());
        };
        rbm::set_threads(n).map_err(|used| {
            anyhow::anyhow!("--threads {n}: the kernel already runs on {used} threads")
        })?;
        // A pool started earlier (by a caller that set it up itself) is left as it is.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
        Ok(())
    }
}

/// `RBM_THREADS`, if it is set.
///
/// # Errors
/// If it is set to anything but a positive integer, naming it.
fn threads_from_env() -> Result<Option<usize>> {
    match std::env::var(rbm::THREADS_VARIABLE) {
        Err(_) => Ok(None),
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => anyhow::bail!(
                "{}={text:?} is not a number of threads (a positive integer)",
                rbm::THREADS_VARIABLE
            ),
        },
    }
}

/// What a layer passes on to the next (`rbm::Propagation`), as a flag's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PropagationArg {
    /// The hidden units' means E[h|v].
    Mean,
    /// A sample h ~ p(h|v).
    Sample,
}

impl From<PropagationArg> for rbm::Propagation {
    fn from(value: PropagationArg) -> Self {
        match value {
            PropagationArg::Mean => rbm::Propagation::Mean,
            PropagationArg::Sample => rbm::Propagation::Sample,
        }
    }
}

/// The parser of `--device`: the devices this build has, listed in `--help`.
fn device_names() -> PossibleValuesParser {
    PossibleValuesParser::new(rbm::device::available_devices())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_help_indents_the_examples_and_ends_with_the_exit_statuses() {
        let help = after_help("fig3 --preset quick --out runs/q\n  quality runs/q");
        assert!(
            help.starts_with("Examples:\n  fig3 --preset quick --out runs/q\n  quality runs/q\n")
        );
        assert!(help.contains("RBM_KERNEL"));
        assert!(help.ends_with(ising_data::cli::EXIT_STATUS_HELP));
    }

    #[test]
    fn now_is_rfc3339_utc_to_the_second() {
        let now = now_utc();
        let parsed =
            time::OffsetDateTime::parse(&now, &time::format_description::well_known::Rfc3339)
                .unwrap();
        assert_eq!(parsed.offset(), time::UtcOffset::UTC);
        assert_eq!(now.len(), "2026-12-07T05:24:59Z".len(), "{now}");
        let age = time::OffsetDateTime::now_utc() - parsed;
        assert!(
            age.whole_seconds() >= 0 && age.whole_seconds() < 60,
            "{now}"
        );
    }

    #[test]
    fn next_steps_are_indented_under_next() {
        let text = next_steps(&[("quality runs/a".into(), "how good"), ("b".into(), "why")]);
        assert_eq!(
            text,
            "next:\n  quality runs/a\n      how good\n  b\n      why"
        );
    }

    #[test]
    fn a_path_with_spaces_or_quotes_is_one_shell_word() {
        use std::path::Path;
        assert_eq!(shell_word(Path::new("runs/mine-1")), "runs/mine-1");
        assert_eq!(shell_word(Path::new("my runs/a")), "'my runs/a'");
        assert_eq!(shell_word(Path::new("it's")), "'it'\\''s'");
    }

    #[test]
    fn the_version_names_the_commit_and_burn() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(VERSION.contains(&format!("commit {GIT_COMMIT}")));
        assert!(VERSION.contains(crate::BURN_VERSION));
    }
}
