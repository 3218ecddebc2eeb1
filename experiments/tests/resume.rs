//! Reproducibility and resume of greedy pretraining, through the `fig3` binary on a small
//! stack (16×16 lattice, 256-64-16, persistent CD, 30 epochs per layer) on the CPU:
//!
//! - two uninterrupted runs with the same seed end with identical weights (bit for bit);
//! - a run killed with SIGKILL in the middle of layer 1, resumed, killed again in the middle
//!   of layer 2 and resumed again ends with the same weights and the same per-epoch metrics;
//! - resuming with a different configuration, from a corrupt checkpoint, from a folder that is
//!   not a run, or against a checkpoint of another architecture is refused with a clear error
//!   and leaves the folder byte for byte as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use burn::prelude::*;
use experiments::checkpoint::{last_complete_epoch, verify_checkpoint};
use rbm::{CdConfig, RbmConfig};

const CONFIG: &str = r#"{
  "data": {"size": 16, "coupling": 0.408, "samples": 4000, "seed": 3, "valid_fraction": 0.2},
  "layers": [256, 64, 16],
  "units": "bernoulli",
  "init_std": 0.01,
  "visible_bias_from_data": true,
  "propagation": "mean",
  "training": {"cd": {"k": 1, "persistent": true, "chains": 100, "l1": 0.0002, "l2": 0.0},
               "learning_rate": 0.1, "schedule": {"kind": "linear", "final_lr": 0.02},
               "momentum": 0.5, "batch_size": 50, "epochs": 30, "seed": 11}
}"#;

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Setup {
    fn new() -> Self {
        Self::with_config(CONFIG)
    }

    fn with_config(config: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        std::fs::write(root.join("config.json"), config).unwrap();
        Self { _tmp: tmp, root }
    }

    fn command(&self, out: &Path, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fig3"));
        c.arg("--out").arg(out);
        c.arg("--datasets").arg(self.root.join("datasets"));
        if !extra.contains(&"--resume") {
            c.arg("--config").arg(self.root.join("config.json"));
        }
        c.args(extra);
        c.stdout(std::process::Stdio::null());
        c
    }

    fn run(&self, out: &Path, extra: &[&str]) -> Output {
        let mut c = self.command(out, extra);
        c.stdout(std::process::Stdio::piped());
        c.output().expect("fig3 runs")
    }

    fn spawn(&self, out: &Path, extra: &[&str]) -> Child {
        self.command(out, extra)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("fig3 starts")
    }
}

fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "fig3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn refused(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "expected a refusal");
    assert!(
        stderr.contains(needle),
        "the error should mention '{needle}': {stderr}"
    );
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn copy_dir(from: &Path, to: &Path) {
    for (rel, bytes) in snapshot(from) {
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

/// SIGKILLs `child` once `file` exists; panics if the run ends first.
fn kill_when(mut child: Child, file: &Path) {
    let start = Instant::now();
    while !file.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the run ended ({status}) before {} appeared",
                file.display()
            );
        }
        assert!(start.elapsed() < Duration::from_secs(600), "timed out");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
}

fn weights(run: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(&run.join("weights"))
}

/// The files that differ between two snapshots (by name, so a failure stays readable).
fn differing(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let mut names: Vec<&PathBuf> = a.keys().chain(b.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| a.get(*n) != b.get(*n))
        .cloned()
        .collect()
}

fn epoch_history(run: &Path) -> serde_json::Value {
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    metrics["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["epochs"].clone())
        .collect()
}

#[test]
fn runs_are_reproducible_and_resume_bit_for_bit() {
    let s = Setup::new();
    let (a, b, c) = (s.root.join("a"), s.root.join("b"), s.root.join("c"));
    ok(&s.run(&a, &[]));
    ok(&s.run(&b, &[]));
    assert_eq!(weights(&a).len(), 6);
    // The run took the CPU path this process's RBM_KERNEL asks for (CI runs this test once
    // with the default and once with RBM_KERNEL=tensor).
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        record["cpu_path"].as_str(),
        Some(rbm::CpuPath::from_env().unwrap().name()),
        "the CPU path in run.json"
    );
    let none: Vec<PathBuf> = Vec::new();
    assert_eq!(
        differing(&weights(&a), &weights(&b)),
        none,
        "two runs with one seed differ"
    );

    // Killed in the middle of layer 1 (after its 5th checkpoint), twice resumed.
    kill_when(s.spawn(&c, &[]), &c.join("layer1/checkpoint/model-5.bpk"));
    assert!(
        !c.join("layer1/layer.json").exists(),
        "layer 1 finished before the kill"
    );
    // The three records of an epoch are written by separate threads, so the kill may land
    // after model-5 but before optim-5 or scheduler-5: the newest complete epoch is 4 or later.
    let interrupted = last_complete_epoch(&c.join("layer1/checkpoint")).expect("a checkpoint");
    assert!(
        (4..30).contains(&interrupted),
        "newest complete epoch {interrupted}"
    );

    // Refusals on copies of the interrupted folder, each left byte for byte as it was.
    let copy = s.root.join("copy");
    copy_dir(&c, &copy);
    let before = snapshot(&copy);
    refused(
        &s.run(&copy, &["--resume", "--epochs", "31"]),
        "training.epochs",
    );
    refused(
        &s.run(
            &copy,
            &[
                "--resume",
                "--config",
                s.root.join("config.json").to_str().unwrap(),
                "--seed",
                "12",
            ],
        ),
        "training.seed",
    );
    refused(&s.run(&copy, &[]), "already exists");
    assert_eq!(
        differing(&snapshot(&copy), &before),
        none,
        "a refused run changed the folder"
    );
    // Every kept model record is truncated: a resume continues from the newest epoch whose
    // checkpoint is complete and whose metrics were logged, which can be one before
    // `interrupted` when the kill fell between the two.
    for entry in std::fs::read_dir(copy.join("layer1/checkpoint")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("model-") && name.ends_with(".bpk") {
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        }
    }
    let before = snapshot(&copy);
    refused(&s.run(&copy, &["--resume"]), "corrupt");
    assert_eq!(
        differing(&snapshot(&copy), &before),
        none,
        "a refused resume changed the folder"
    );
    refused(
        &s.run(&s.root.join("datasets"), &["--resume"]),
        "not a run folder",
    );

    // A checkpoint of another architecture does not fit.
    let device = Device::flex();
    let other = CdConfig::new()
        .with_persistent(true)
        .with_chains(100)
        .init(RbmConfig::new(256, 32).init(&device).unwrap())
        .unwrap();
    let error = verify_checkpoint(&c.join("layer1/checkpoint"), interrupted, other)
        .unwrap_err()
        .to_string();
    assert!(error.contains("does not fit"), "{error}");
    let same = CdConfig::new()
        .with_persistent(true)
        .with_chains(100)
        .init(RbmConfig::new(256, 64).init(&device).unwrap())
        .unwrap();
    verify_checkpoint(&c.join("layer1/checkpoint"), interrupted, same).unwrap();

    // Resume, and kill again in the middle of layer 2.
    kill_when(
        s.spawn(&c, &["--resume"]),
        &c.join("layer2/checkpoint/model-3.bpk"),
    );
    assert!(c.join("layer1/layer.json").exists());
    assert!(
        !c.join("layer2/layer.json").exists(),
        "layer 2 finished before the kill"
    );
    let resumed = s.run(&c, &["--resume"]);
    ok(&resumed);
    let log = String::from_utf8_lossy(&resumed.stdout);
    assert!(log.contains("layer 1 (256→64): finished earlier"), "{log}");
    assert!(
        log.contains("layer 2 (64→16): resuming after epoch"),
        "{log}"
    );

    assert_eq!(
        differing(&weights(&a), &weights(&c)),
        none,
        "the resumed run's weights differ"
    );
    assert_eq!(
        epoch_history(&a),
        epoch_history(&c),
        "the resumed run's per-epoch metrics differ"
    );
}

#[test]
fn a_pt_pcd_run_resumes_bit_for_bit() {
    // The stack's first layer trained by PT-PCD (100 chains on a ladder of 4 from β = 0.3):
    // the replicas are checkpointed with the model, so a run killed in the middle of the
    // layer and resumed ends with the weights and per-epoch metrics of an uninterrupted one,
    // the swap acceptance of each of the 3 pairs among them.
    let config = CONFIG
        .replace(
            r#""chains": 100,"#,
            r#""chains": 100, "tempering": {"replicas": 4, "beta_min": 0.3},"#,
        )
        .replace(r#""layers": [256, 64, 16]"#, r#""layers": [256, 64]"#)
        .replace(r#""epochs": 30"#, r#""epochs": 12"#);
    let s = Setup::with_config(&config);
    let (a, c) = (s.root.join("a"), s.root.join("c"));
    ok(&s.run(&a, &[]));
    kill_when(s.spawn(&c, &[]), &c.join("layer1/checkpoint/model-5.bpk"));
    assert!(
        !c.join("layer1/layer.json").exists(),
        "finished before the kill"
    );
    ok(&s.run(&c, &["--resume"]));
    let none: Vec<PathBuf> = Vec::new();
    assert_eq!(
        differing(&weights(&a), &weights(&c)),
        none,
        "the resumed weights differ"
    );
    let history = epoch_history(&a);
    assert_eq!(history, epoch_history(&c), "the resumed metrics differ");
    let first = &history[0][0]["values"];
    for k in 0..3 {
        let rate = first[format!("swap_acceptance_{k}")].as_f64();
        assert!(
            rate.is_some_and(|r| (0.0..=1.0).contains(&r)),
            "swap_acceptance_{k} of epoch 1: {rate:?} in {first}"
        );
    }
}
