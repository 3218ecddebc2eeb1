//! Every binary of this crate follows the same command-line conventions: `--version` names
//! the program, the version, the commit and Burn; `--help` ends with examples, the
//! environment and the exit statuses, and every flag an example uses exists; `--force` is
//! worded once; an unknown flag is a usage error (status 2); no binary shadows a common tool.

use std::process::{Command, Output};

mod common;

/// Every binary of `experiments`, by name and path.
const BINARIES: [(&str, &str); 9] = [
    ("fig1", env!("CARGO_BIN_EXE_fig1")),
    ("fig2", env!("CARGO_BIN_EXE_fig2")),
    ("fig3", env!("CARGO_BIN_EXE_fig3")),
    ("quality", env!("CARGO_BIN_EXE_quality")),
    ("rg_analysis", env!("CARGO_BIN_EXE_rg_analysis")),
    ("isy_flow", env!("CARGO_BIN_EXE_isy_flow")),
    ("mcrg_check", env!("CARGO_BIN_EXE_mcrg_check")),
    ("mapping", env!("CARGO_BIN_EXE_mapping")),
    ("sweep", env!("CARGO_BIN_EXE_sweep")),
];

fn call(path: &str, args: &[&str]) -> Output {
    Command::new(path).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn version_names_the_program_the_commit_and_burn() {
    for (name, path) in BINARIES {
        for flag in ["--version", "-V"] {
            let o = call(path, &[flag]);
            assert_eq!(o.status.code(), Some(0), "{name} {flag}");
            assert_eq!(
                stdout(&o).trim_end(),
                format!("{name} {}", experiments::cli::VERSION),
                "{name} {flag}"
            );
        }
    }
    assert!(experiments::cli::VERSION.contains(&format!(
        "(commit {}, Burn {})",
        experiments::cli::GIT_COMMIT,
        experiments::BURN_VERSION
    )));
}

/// The flags `help` lists (`--name`).
fn listed_flags(help: &str) -> Vec<String> {
    help.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.split(['=', '<']).next().unwrap().to_string())
        .collect()
}

/// The help of `path` (with `subcommand` first when given), as `--help` prints it.
fn help(path: &str, subcommand: Option<&str>) -> String {
    let args: Vec<&str> = subcommand.into_iter().chain(["--help"]).collect();
    let o = call(path, &args);
    assert_eq!(o.status.code(), Some(0), "{path} {args:?}");
    stdout(&o)
}

#[test]
fn help_ends_with_examples_environment_and_exit_statuses() {
    let sweep_commands = ["plan", "run", "slurm", "analyse", "collect"];
    for (name, path) in BINARIES {
        let top = help(path, None);
        let examples = top
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{name} --help has no examples:\n{top}"));
        assert!(top.contains("Environment:\n  RBM_KERNEL"), "{name}");
        assert!(
            top.trim_end().ends_with(ising_data::cli::EXIT_STATUS_HELP),
            "{name} --help should end with the exit statuses:\n{top}"
        );
        let lines: Vec<&str> = examples
            .lines()
            .take_while(|l| !l.is_empty())
            .map(str::trim)
            .collect();
        assert!(!lines.is_empty(), "{name}: no example lines");
        // Every flag an example uses is one the program (or its subcommand) lists.
        let mut known = listed_flags(&top);
        if name == "sweep" {
            for sub in sweep_commands {
                known.extend(listed_flags(&help(path, Some(sub))));
            }
        }
        for line in lines {
            assert!(
                line.starts_with(&format!("{name} ")),
                "{name}: an example of another program: {line}"
            );
            for flag in listed_flags(line) {
                assert!(
                    known.contains(&flag),
                    "{name}: the example '{line}' uses {flag}, which --help does not list"
                );
            }
        }
    }
}

#[test]
fn force_and_device_are_worded_once() {
    let mut forces = 0;
    for (name, path) in BINARIES {
        let text = help(path, None);
        if text.contains("--force") {
            forces += 1;
            assert!(
                text.replace('\n', " ")
                    .contains(ising_data::cli::FORCE_HELP),
                "{name}: --force worded differently:\n{text}"
            );
        }
        if text.contains("--device") {
            assert!(
                text.contains("[possible values: flex"),
                "{name}: --device lists no choices:\n{text}"
            );
        }
        assert!(
            !text.contains("--run "),
            "{name}: the run folder is an argument (RUN), not --run"
        );
    }
    assert_eq!(
        forces, 8,
        "every program that writes a folder but sweep has --force"
    );
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    for (name, path) in BINARIES {
        let o = call(path, &["--no-such-flag"]);
        let e = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {e}");
        assert!(
            e.contains("unexpected argument '--no-such-flag'"),
            "{name}: {e}"
        );
    }
}

#[test]
fn every_binary_is_checked_and_none_shadows_a_common_tool() {
    // The binaries cargo builds are the files of src/bin: each is in BINARIES, so the tests
    // above see it.
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
    let mut files: Vec<String> = std::fs::read_dir(bin)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = BINARIES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed);
    // `rg` is ripgrep (the analysis is `rg_analysis`); the others are POSIX tools.
    for shadowing in [
        "rg", "test", "time", "sort", "find", "split", "join", "plot",
    ] {
        assert!(
            !files.iter().any(|n| n == shadowing),
            "a binary named {shadowing}"
        );
    }
}

#[test]
fn every_program_that_samples_or_trains_takes_threads() {
    // `--threads N` and RBM_THREADS, documented in --help; 0 is a usage error and an
    // RBM_THREADS that is not a number is refused, naming it, before any work.
    for (name, path) in BINARIES {
        if matches!(name, "mapping" | "sweep") {
            continue;
        }
        let help = stdout(&call(path, &["--help"]));
        assert!(help.contains("--threads <N>"), "{name}: {help}");
        assert!(help.contains("RBM_THREADS"), "{name}: {help}");
        let o = call(path, &["--threads", "0"]);
        assert_eq!(o.status.code(), Some(2), "{name} --threads 0");
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mcrg_check"))
        .args(["--out", tmp.path().join("m").to_str().unwrap()])
        .env("RBM_THREADS", "two")
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("RBM_THREADS=\"two\""), "{e}");
    assert!(
        !tmp.path().join("m").exists(),
        "a refused run wrote its folder"
    );
}
