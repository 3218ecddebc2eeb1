//! `fig3` takes the physics and the training from flags: the configuration that
//! `--print-config` prints is what `--config` reads back, bad overrides and stacks that `rg`
//! cannot analyse are refused before any work (unless `--no-rg`), and a small experiment of
//! one's own trains and is read by `rg`.

mod common;

use std::path::Path;
use std::process::Output;

use common::{run, stderr};

const FIG3: &str = env!("CARGO_BIN_EXE_fig3");
const RG: &str = env!("CARGO_BIN_EXE_rg_analysis");

fn assert_refused(o: &Output, needle: &str) {
    let e = stderr(o);
    assert!(!o.status.success(), "expected a refusal");
    assert!(e.contains(needle), "the error should say '{needle}': {e}");
    assert!(!e.contains("panicked"), "a panic reached the user: {e}");
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn flags_set_the_configuration_and_print_config_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let flags = [
        "--preset",
        "quick",
        "--size",
        "16",
        "--hidden",
        "64,16",
        "--coupling",
        "0.4407",
        "--samples",
        "500",
        "--epochs",
        "2",
        "--learning-rate",
        "0.05",
        "--batch-size",
        "50",
        "--cd-k",
        "2",
        "--persistent",
        "--set",
        "training.momentum=0.9",
        "--set",
        "propagation=sample",
        "--print-config",
    ];
    let o = run(FIG3, &flags, root);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    let c: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(c["data"]["size"], 16);
    assert_eq!(c["layers"], serde_json::json!([256, 64, 16]));
    assert_eq!(c["data"]["coupling"], 0.4407);
    assert_eq!(c["data"]["samples"], 500);
    assert_eq!(c["training"]["epochs"], 2);
    assert_eq!(c["training"]["learning_rate"], 0.05);
    assert_eq!(c["training"]["batch_size"], 50);
    assert_eq!(c["training"]["cd"]["k"], 2);
    assert_eq!(c["training"]["cd"]["persistent"], true);
    assert_eq!(c["training"]["momentum"], 0.9);
    assert_eq!(c["propagation"], "sample");
    // The preset's other settings are kept.
    assert_eq!(c["training"]["cd"]["l1"], 0.002);
    assert!(is_empty(root), "--print-config wrote something");
    // What it prints is a configuration file: read back, it is the same configuration.
    std::fs::write(root.join("mine.json"), &printed).unwrap();
    let o = run(FIG3, &["--config", "mine.json", "--print-config"], root);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), printed);
}

#[test]
fn bad_overrides_and_stacks_rg_cannot_read_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fig3 = |extra: &[&str]| {
        let mut args = vec!["--preset", "quick", "--out", "run", "--datasets", "d"];
        args.extend(extra);
        run(FIG3, &args, root)
    };
    assert_refused(&fig3(&["--hidden", "300"]), "layer 1 has 300 units");
    assert_refused(&fig3(&["--hidden", "300"]), "add --no-rg");
    // The quick preset's hidden layers do not tile an 8×8 lattice.
    assert_refused(&fig3(&["--size", "8"]), "layer 1 has 400 units");
    assert_refused(
        &fig3(&["--set", "training.momentun=0.9"]),
        "did you mean 'training.momentum'",
    );
    assert_refused(
        &fig3(&["--set", "data.size=8.5"]),
        "is a number, but data.size is an integer",
    );
    assert_refused(&fig3(&["--set", "momentum"]), "is not KEY=VALUE");
    assert_refused(
        &fig3(&["--learning-rate", "2"]),
        "training.learning_rate must be in (0, 1], got 2",
    );
    assert!(is_empty(root), "a refusal wrote something");
    // With --no-rg the stack is accepted.
    let o = run(
        FIG3,
        &[
            "--preset",
            "quick",
            "--hidden",
            "300",
            "--no-rg",
            "--print-config",
        ],
        root,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["layers"], serde_json::json!([1600, 300]));
}

#[test]
fn an_own_experiment_trains_and_rg_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let o = run(
        FIG3,
        &[
            "--preset",
            "quick",
            "--size",
            "8",
            "--hidden",
            "16,4",
            "--coupling",
            "0.4407",
            "--samples",
            "600",
            "--epochs",
            "2",
            "--batch-size",
            "50",
            "--out",
            "run",
            "--datasets",
            "d",
        ],
        root,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("run/config.json")).unwrap()).unwrap();
    assert_eq!(config["layers"], serde_json::json!([64, 16, 4]));
    assert_eq!(config["data"]["coupling"], 0.4407);
    let o = run(RG, &["run", "--lattice-samples", "800"], root);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("run/rg/rg.json")).unwrap()).unwrap();
    assert_eq!(report["layers"].as_array().map(Vec::len), Some(2));
}
