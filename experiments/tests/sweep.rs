//! Sweeps (issue #16) through the `sweep` binary: a sweep file expands into named runs; bad
//! sweep files are refused naming the fault, before anything is written; a planned folder is
//! never replaced by another plan without `--force`; `sweep run --jobs 2` finishes the tiny
//! sweep, and a sweep killed outright (the whole process group, SIGKILL) and run again ends
//! with the same weights, bit for bit; `collect` summarises and lists unfinished runs; the
//! Slurm script carries the array and resources asked for; runs that need the same dataset
//! at once generate it once.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use experiments::rg::flow::FlowMeasure;

const SWEEP: &str = env!("CARGO_BIN_EXE_sweep");
const FIG3: &str = env!("CARGO_BIN_EXE_fig3");

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sweeps/tiny.json")
}

fn sweep(args: &[&str]) -> Output {
    Command::new(SWEEP)
        .args(args)
        .output()
        .expect("the sweep binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "failed: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// A refusal: exit status 1 and one line on standard error that says `needle`.
fn assert_refused(o: &Output, needle: &str) {
    let e = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "expected a refusal, got: {e}");
    assert!(e.contains(needle), "the error should say '{needle}': {e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    assert!(!e.contains("panicked"), "a panic reached the user: {e}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn run_names(dir: &Path) -> Vec<String> {
    manifest(dir)["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// The weights of every run of a sweep: run/file → bytes.
fn weights(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for name in run_names(dir) {
        let w = dir.join(&name).join("weights");
        for entry in std::fs::read_dir(&w).unwrap_or_else(|_| panic!("{} has no weights", name)) {
            let path = entry.unwrap().path();
            out.insert(
                format!("{name}/{}", path.file_name().unwrap().to_string_lossy()),
                std::fs::read(&path).unwrap(),
            );
        }
    }
    out
}

#[test]
fn the_tiny_sweep_expands_into_named_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tiny");
    let o = sweep(&["plan", s(&tiny()), "--out", s(&dir)]);
    assert_ok(&o);
    let names = run_names(&dir);
    assert_eq!(
        names,
        [
            "coupling-0.3_seed-1",
            "coupling-0.3_seed-2",
            "coupling-0.4407_seed-1",
            "coupling-0.4407_seed-2"
        ]
    );
    let m = manifest(&dir);
    let mut hashes = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let config = run_config(&dir, name);
        let (k, seed) = ([0.3, 0.3, 0.4407, 0.4407][i], [1, 2, 1, 2][i]);
        assert!((config["data"]["coupling"].as_f64().unwrap() - k).abs() < 1e-12);
        assert_eq!(config["training"]["seed"], seed);
        assert_eq!(config["layers"], serde_json::json!([64, 16, 4]));
        assert_eq!(m["runs"][i]["index"], i);
        assert_eq!(m["runs"][i]["values"]["seed"], seed);
        // The hash is SHA-256 of the canonical config JSON: compact, keys sorted.
        let canonical = serde_json::to_vec(&config).unwrap();
        let hash = m["runs"][i]["config_sha256"].as_str().unwrap().to_string();
        assert_eq!(hash, ising_data::store::sha256_hex(&canonical));
        hashes.push(hash);
    }
    hashes.dedup();
    assert_eq!(hashes.len(), 4);
}

/// Plans the shipped sweep file `experiments/sweeps/{name}.json` into `tmp/{name}`.
fn plan_shipped(tmp: &Path, name: &str) -> PathBuf {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("sweeps/{name}.json"));
    let dir = tmp.join(name);
    assert_ok(&sweep(&["plan", s(&spec), "--out", s(&dir)]));
    dir
}

/// The `config.json` a plan wrote for its run `name`.
fn run_config(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(name).join("config.json")).unwrap()).unwrap()
}

#[test]
fn the_shipped_sweep_files_plan_their_runs() {
    let tmp = tempfile::tempdir().unwrap();
    // The paper's temperature sweep: 7 couplings × 2 seeds.
    let names = run_names(&plan_shipped(tmp.path(), "temperatures"));
    assert_eq!(names.len(), 14);
    assert_eq!(names[4], "coupling-0.408_seed-1");
    assert_eq!(names[13], "coupling-0.5_seed-2");
    // The training methods of layer 1: 2 seeds × 7 methods, named by their labels, one seed
    // of every method first.
    let methods = plan_shipped(tmp.path(), "training-methods");
    let names = run_names(&methods);
    assert_eq!(names.len(), 14);
    assert_eq!(names[0], "seed-1_method-cd1");
    assert_eq!(names[13], "seed-2_method-ptpcd1-100");
    let config = run_config(&methods, "seed-2_method-ptpcd1-100");
    assert_eq!(config["training"]["cd"]["tempering"]["replicas"], 20);
    assert_eq!(config["training"]["learning_rate"], 0.01);
    assert_eq!(config["layers"], serde_json::json!([1600, 400]));
    // The same three of them with a decaying rate.
    let schedules = plan_shipped(tmp.path(), "training-schedules");
    let names = run_names(&schedules);
    assert_eq!(names.len(), 3);
    assert_eq!(names[1], "seed-1_method-rdm20-100-decay");
    let config = run_config(&schedules, "seed-1_method-rdm20-100-decay");
    assert_eq!(config["training"]["cd"]["restart"], "random");
    assert_eq!(config["training"]["schedule"]["final_lr"], 0.0001);
    // The decaying Rdm-20 at three widths of the first layer.
    let widths = plan_shipped(tmp.path(), "training-widths");
    let names = [
        "seed-1_hidden-400",
        "seed-1_hidden-800",
        "seed-1_hidden-1600",
    ];
    assert_eq!(run_names(&widths), names);
    let config = run_config(&widths, "seed-1_hidden-800");
    assert_eq!(config["layers"], serde_json::json!([1600, 800]));
    assert_eq!(config["training"]["cd"]["k"], 20);
    assert_eq!(config["training"]["epochs"], 10);
}

#[test]
fn bad_sweep_files_are_refused_naming_the_fault() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "data.couplng", "values": [0.3]}]}"#,
            "unknown key 'data.couplng': the configuration has no such field (did you mean 'data.coupling'?)",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axis": [], "axes": [{"key": "data.coupling", "values": [0.3]}]}"#,
            "unknown key 'axis' (did you mean 'axes'?)",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "data.coupling", "values": [0.3], "value": 1}]}"#,
            "unknown key 'axes[0].value' (did you mean 'values'?)",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "training.seed", "values": []}]}"#,
            "axes[0] (training.seed): values is empty",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": []}"#,
            "axes is empty",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "training.seed", "values": [1, 2], "labels": ["a"]}]}"#,
            "axes[0] (training.seed): 1 labels for 2 values",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "training.seed", "values": [1, 2], "labels": ["a", "a"]}]}"#,
            "the label 'a' is given twice",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "training.cd", "values": [{"k": 1}]}]}"#,
            "training.cd",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "data.size", "values": [8, 16]}]}"#,
            "run size-8: the first layer must have L² = 64 units for L = 8, got 1600",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "data.coupling", "values": [0.3, -1.0]}]}"#,
            "data.coupling must be ≥ 0",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "data.size", "values": [8, 16], "with": {"layers": [[64, 16]]}}]}"#,
            "with.layers has 1 values, the axis 2",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "data.samples", "values": ["many"]}]}"#,
            "data.samples = \"many\" is a string, but data.samples is an integer",
        ),
        (
            r#"{"base": {"preset": "fast"}, "axes": [{"key": "data.coupling", "values": [0.3]}]}"#,
            "unknown preset 'fast'",
        ),
        (
            r#"{"base": {"preset": "quick"}, "axes": [{"key": "data.coupling", "values": [0.3]}, {"key": "data.coupling", "name": "k", "values": [0.4]}]}"#,
            "the key 'data.coupling' is set twice",
        ),
    ];
    for (i, (json, needle)) in cases.iter().enumerate() {
        let file = tmp.path().join(format!("bad{i}.json"));
        std::fs::write(&file, json).unwrap();
        let out = tmp.path().join(format!("out{i}"));
        let o = sweep(&["plan", s(&file), "--out", s(&out)]);
        assert_refused(&o, needle);
        assert!(
            text(&o.stderr).contains(s(&file)),
            "names the file: {}",
            text(&o.stderr)
        );
        assert!(!out.exists(), "case {i}: nothing is written");
    }
}

#[test]
fn a_folder_holding_another_plan_is_refused_with_nothing_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    assert_ok(&sweep(&["plan", s(&tiny()), "--out", s(&dir)]));
    // A user's file in a run folder, as if results were there.
    std::fs::write(dir.join("coupling-0.3_seed-1/notes.txt"), "keep me").unwrap();
    let before = snapshot(&dir);
    let other = tmp.path().join("other.json");
    let edited = std::fs::read_to_string(tiny())
        .unwrap()
        .replace(r#""values": [1, 2]"#, r#""values": [1, 3]"#);
    assert!(edited.contains("[1, 3]"));
    std::fs::write(&other, edited).unwrap();
    let o = sweep(&["plan", s(&other), "--out", s(&dir)]);
    assert_refused(&o, "already exists and holds another plan");
    assert!(
        text(&o.stderr).contains("coupling-0.3_seed-2"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(snapshot(&dir), before, "nothing changed");
    // The same plan again is a no-op that says so.
    let o = sweep(&["plan", s(&tiny()), "--out", s(&dir)]);
    assert_ok(&o);
    assert!(
        text(&o.stdout).contains("already holds this plan"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(snapshot(&dir), before);
    // --force does not replace a folder sweep did not write.
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("data.txt"), "mine").unwrap();
    let o = sweep(&["plan", s(&tiny()), "--out", s(&foreign), "--force"]);
    assert_refused(&o, "is not a sweep folder");
    assert_eq!(std::fs::read(foreign.join("data.txt")).unwrap(), b"mine");
    // A run's config edited after planning is refused by `run`.
    std::fs::write(
        dir.join("coupling-0.3_seed-2/config.json"),
        std::fs::read_to_string(dir.join("coupling-0.3_seed-2/config.json"))
            .unwrap()
            .replace("\"epochs\": 8", "\"epochs\": 9"),
    )
    .unwrap();
    let o = sweep(&["run", s(&dir), "--datasets", s(&tmp.path().join("d"))]);
    assert_refused(&o, "differs from the plan in manifest.json");
}

/// Waits until `condition` holds, failing after `limit`.
fn wait_for(what: &str, limit: Duration, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_sweep_finishes_with_the_same_weights_and_collects() {
    let tmp = tempfile::tempdir().unwrap();
    // Uninterrupted.
    let a = tmp.path().join("a");
    assert_ok(&sweep(&["plan", s(&tiny()), "--out", s(&a)]));
    let data_a = tmp.path().join("data-a");
    let o = sweep(&[
        "run",
        s(&a),
        "--jobs",
        "2",
        "--threads",
        "2",
        "--datasets",
        s(&data_a),
    ]);
    assert_ok(&o);
    let out = text(&o.stdout);
    let lines_starting = |p: &str| out.lines().filter(|l| l.starts_with(p)).count();
    assert_eq!(lines_starting("started  "), 4, "{out}");
    assert_eq!(lines_starting("finished "), 4, "{out}");
    assert!(out.contains("1 thread each"), "{out}");
    // A run the sweep started from its planned folder records that it was not resumed.
    for name in run_names(&a) {
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(a.join(&name).join("run.json")).unwrap())
                .unwrap();
        assert_eq!(record["resumed"], false, "{name}");
    }

    // Killed outright, process group and all, once a run is into its training, then run
    // again.
    let b = tmp.path().join("b");
    assert_ok(&sweep(&["plan", s(&tiny()), "--out", s(&b)]));
    let data_b = tmp.path().join("data-b");
    let mut child = Command::new(SWEEP)
        .args([
            "run",
            s(&b),
            "--jobs",
            "2",
            "--threads",
            "2",
            "--datasets",
            s(&data_b),
        ])
        .stdout(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let names = run_names(&b);
    wait_for("a run's first epoch", Duration::from_secs(120), || {
        names
            .iter()
            .any(|n| b.join(n).join("layer1/epochs.json").exists())
    });
    let killed = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = child.wait();
    let unfinished = names
        .iter()
        .filter(|n| !b.join(n).join("run.json").exists())
        .count();
    assert!(unfinished > 0, "the kill came after the sweep had finished");
    // Collect lists the unfinished runs by name.
    let o = sweep(&["collect", s(&b)]);
    assert_ok(&o);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["unfinished"].as_array().unwrap().len(), unfinished);
    assert!(
        text(&o.stdout).contains("unfinished"),
        "{}",
        text(&o.stdout)
    );

    let o = sweep(&[
        "run",
        s(&b),
        "--jobs",
        "2",
        "--threads",
        "2",
        "--datasets",
        s(&data_b),
    ]);
    assert_ok(&o);
    let out = text(&o.stdout);
    assert!(out.contains("(resuming)"), "a run continued: {out}");
    assert!(out.contains("all 4 runs finished"), "{out}");
    let (wa, wb) = (weights(&a), weights(&b));
    assert_eq!(wa.len(), 4 * 6);
    assert_eq!(wa.keys().collect::<Vec<_>>(), wb.keys().collect::<Vec<_>>());
    for (file, bytes) in &wa {
        assert!(
            wb[file] == *bytes,
            "{file} differs after the kill and restart"
        );
    }
    // Runs already finished are skipped.
    let o = sweep(&["run", s(&b), "--jobs", "2", "--datasets", s(&data_b)]);
    assert_ok(&o);
    assert!(
        text(&o.stdout).contains("4 finished before, 0 to run"),
        "{}",
        text(&o.stdout)
    );

    // Collect: one row per run with its axis values and key metrics, and a figure.
    let o = sweep(&[
        "collect",
        s(&a),
        "--metric",
        "layer1_half_max_area",
        "--axis",
        "coupling",
    ]);
    assert_ok(&o);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["unfinished"].as_array().unwrap().len(), 0);
    assert_eq!(summary["runs"].as_array().unwrap().len(), 4);
    let first = &summary["runs"][0];
    assert_eq!(first["name"], "coupling-0.3_seed-1");
    let area = first["metrics"]["layer1_half_max_area"].as_f64().unwrap();
    assert!((1.0..=64.0).contains(&area), "{area}");
    let kl = first["metrics"]["kl_per_spin_reverse"].as_f64().unwrap();
    assert!(kl.is_finite() && kl > 0.0, "{kl}");
    let csv = std::fs::read_to_string(a.join("summary.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("run,coupling,seed,"), "{}", lines[0]);
    assert!(lines[0].contains("layer2_half_max_area"), "{}", lines[0]);
    assert!(
        lines[3].starts_with("coupling-0.4407_seed-1,0.4407,1,"),
        "{}",
        lines[3]
    );
    let png = std::fs::read(a.join("summary_layer1_half_max_area_vs_coupling.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // An unknown metric is refused, naming the columns there are.
    let o = sweep(&["collect", s(&a), "--metric", "accuracy"]);
    assert_refused(&o, "--metric 'accuracy' is not a column of the summary");
    assert!(!a.join("flow.png").exists(), "no flow figure without rg");

    // `analyse --with rg` runs rg on every run; collect then has its columns and draws the
    // flow of K_eff. A second analyse has nothing to do; an unknown program is refused.
    let o = sweep(&["analyse", s(&a), "--with", "rg", "--datasets", s(&data_a)]);
    assert_ok(&o);
    assert!(
        text(&o.stdout).contains("rg: 4 runs analysed"),
        "{}",
        text(&o.stdout)
    );
    let o = sweep(&["analyse", s(&a), "--with", "rg", "--datasets", s(&data_a)]);
    assert!(
        text(&o.stdout).contains("rg: 0 runs analysed"),
        "{}",
        text(&o.stdout)
    );
    let o = sweep(&["analyse", s(&a), "--with", "fig9"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a usage error: {}",
        text(&o.stderr)
    );
    assert!(text(&o.stderr).contains("[possible values: rg, quality]"));
    let o = sweep(&["collect", s(&a)]);
    assert_ok(&o);
    for name in [
        "flow.png",
        "k_eff_by_layer.png",
        "flow_connected.png",
        "flow_k1.png",
        "flow_k1_by_layer.png",
        "flow_k2_by_layer.png",
        "flow_k4_by_layer.png",
        "flow_k1_k2.png",
    ] {
        let png = std::fs::read(a.join(name)).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{name}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    let run = &summary["runs"][0];
    let k = run["metrics"]["rg.data_k_eff"].as_f64().unwrap();
    assert!((k - 0.3).abs() < 0.05, "data K_eff {k} of the K = 0.3 run");
    let typed: experiments::sweep::Summary =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    let measures = &typed.runs[0].flow.as_ref().expect("rg ran").measures;
    assert_eq!(measures[&FlowMeasure::KEff].stack.len(), 3);
    // The data's fitted K₁ is the data's coupling; the fitted couplings follow each layer.
    let k1 = measures[&FlowMeasure::K1].stack[0].expect("the data's fit");
    assert!((k1 - 0.3).abs() < 0.05, "data K₁ {k1} of the K = 0.3 run");
    assert_eq!(measures[&FlowMeasure::K4].majority.len(), 3);
    // Every metric column a run and its rg analysis write is described, with its unit, for
    // the figures' axes.
    let metrics = run["metrics"].as_object().unwrap();
    assert!(metrics.keys().any(|k| k.starts_with("rg.layer2_stack")));
    for column in metrics.keys() {
        let described = experiments::sweep::columns::describe(column);
        assert_ne!(&described, column, "{column} has no description");
    }
}

#[test]
fn the_slurm_script_carries_the_array_and_the_resources() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tiny");
    assert_ok(&sweep(&["plan", s(&tiny()), "--out", s(&dir)]));
    let o = sweep(&[
        "slurm",
        s(&dir),
        "--cpus-per-task",
        "2",
        "--mem",
        "2G",
        "--time",
        "00:10:00",
        "--partition",
        "debug",
        "--account",
        "proj-1",
        "--max-parallel",
        "3",
        "--datasets",
        s(&tmp.path().join("data")),
        "--collect-after",
    ]);
    assert_ok(&o);
    let script = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    for line in [
        "#!/bin/bash",
        "#SBATCH --array=0-3%3",
        &format!("#SBATCH --output={}/logs/%A_%a.out", dir.display()),
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem=2G",
        "#SBATCH --time=00:10:00",
        "#SBATCH --partition=debug",
        "#SBATCH --account=proj-1",
        "export RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-2}\"",
        "export RBM_THREADS=\"$RAYON_NUM_THREADS\"",
        &format!(
            "exec '{SWEEP}' task '{}' --index \"$SLURM_ARRAY_TASK_ID\" --datasets '{}'",
            dir.display(),
            tmp.path().join("data").display()
        ),
    ] {
        assert!(
            script.lines().any(|l| l == line),
            "missing '{line}' in:\n{script}"
        );
    }
    assert!(
        dir.join("logs").is_dir(),
        "Slurm needs the log folder to exist"
    );
    let collect = std::fs::read_to_string(dir.join("collect.sbatch")).unwrap();
    assert!(collect.contains(&format!("exec '{SWEEP}' collect '{}'", dir.display())));
    // Bad resources are refused before anything is written.
    std::fs::remove_file(dir.join("sweep.sbatch")).unwrap();
    for (flag, value, needle) in [
        ("--time", "2h", "--time must be a Slurm time"),
        ("--mem", "lots", "--mem must be a Slurm memory size"),
        ("--partition", "a b", "--partition must be a Slurm name"),
        ("--max-parallel", "0", "--max-parallel must be at least 1"),
    ] {
        assert_refused(&sweep(&["slurm", s(&dir), flag, value]), needle);
        assert!(!dir.join("sweep.sbatch").exists());
    }
}

#[test]
fn submitting_without_sbatch_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tiny");
    assert_ok(&sweep(&["plan", s(&tiny()), "--out", s(&dir)]));
    let empty = tmp.path().join("no-slurm");
    std::fs::create_dir(&empty).unwrap();
    let o = Command::new(SWEEP)
        .args(["slurm", s(&dir), "--submit"])
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert_refused(&o, "--submit: sbatch is not on PATH");
    // The script is written, for submission elsewhere.
    assert!(dir.join("sweep.sbatch").is_file());
}

#[test]
fn runs_started_at_once_generate_their_shared_dataset_once() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("small.json");
    std::fs::write(&config, common::SMALL_CONFIG).unwrap();
    let datasets = tmp.path().join("datasets");
    let children: Vec<_> = (0..2)
        .map(|i| {
            Command::new(FIG3)
                .args(["--config", s(&config), "--epochs", "1", "--seed"])
                .arg((i + 1).to_string())
                .args(["--out", s(&tmp.path().join(format!("run{i}")))])
                .args(["--datasets", s(&datasets)])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outputs {
        assert_ok(o);
    }
    let records: Vec<serde_json::Value> = (0..2)
        .map(|i| {
            serde_json::from_slice(
                &std::fs::read(tmp.path().join(format!("run{i}/run.json"))).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let generated = records
        .iter()
        .filter(|r| r["data"]["generated"] == true)
        .count();
    assert_eq!(
        generated, 1,
        "one process generated the dataset, the other read it"
    );
    assert_eq!(
        records[0]["data"]["spins_sha256"],
        records[1]["data"]["spins_sha256"]
    );
    // One dataset folder, and no lock or temporary left beside it.
    let entries: Vec<String> = std::fs::read_dir(&datasets)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["ising2d-L8-K0.408-n3000-seed3"], "{entries:?}");
}

#[test]
fn a_sweep_with_kl_every_collects_the_kl_during_training() {
    // The tiny sweep at one coupling, its first layer's KL checked every 4 of its 8 epochs:
    // each run has two checks at increasing training seconds, and collect draws them.
    let tmp = tempfile::tempdir().unwrap();
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tiny()).unwrap()).unwrap();
    spec["axes"][0]["values"] = serde_json::json!([0.4407]);
    spec["kl_every"] = serde_json::json!(4);
    let file = tmp.path().join("kl.json");
    std::fs::write(&file, spec.to_string()).unwrap();
    let (dir, data) = (tmp.path().join("kl"), tmp.path().join("data"));
    assert_ok(&sweep(&["plan", s(&file), "--out", s(&dir)]));
    assert_ok(&sweep(&["run", s(&dir), "--datasets", s(&data)]));
    assert_ok(&sweep(&["collect", s(&dir)]));
    let summary: experiments::sweep::Summary =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary.runs.len(), 2);
    for run in &summary.runs {
        let curve = &run.kl_curve;
        let epochs: Vec<usize> = curve.iter().map(|p| p.epoch).collect();
        assert_eq!(epochs, [4, 8], "{}", run.name);
        assert!(0.0 < curve[0].seconds && curve[0].seconds < curve[1].seconds);
        let kl = curve[1].kl_per_spin.value;
        assert!(kl.is_finite() && kl > -0.05, "KL per spin {kl}");
    }
    let png = std::fs::read(dir.join("summary_kl_vs_seconds.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // kl_every = 0 is refused, naming it.
    spec["kl_every"] = serde_json::json!(0);
    std::fs::write(&file, spec.to_string()).unwrap();
    assert_refused(
        &sweep(&["plan", s(&file), "--out", s(&tmp.path().join("zero"))]),
        "kl_every",
    );
}

#[test]
fn a_sweep_planned_by_an_earlier_version_still_runs() {
    // An earlier version wrote each run's config.json without the optional settings added
    // since (here the training method's `tempering` and `restart`) and hashed that file:
    // the run's file, not its configuration written back, is what the plan's hash checks.
    let tmp = tempfile::tempdir().unwrap();
    let (dir, data) = (tmp.path().join("old"), tmp.path().join("data"));
    assert_ok(&sweep(&["plan", s(&tiny()), "--out", s(&dir)]));
    let manifest_path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for (i, name) in run_names(&dir).iter().enumerate() {
        let path = dir.join(name).join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let cd = config["training"]["cd"].as_object_mut().unwrap();
        assert!(cd.remove("tempering").is_some() && cd.remove("restart").is_some());
        std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let canonical = serde_json::to_vec(&config).unwrap();
        manifest["runs"][i]["config_sha256"] = ising_data::store::sha256_hex(&canonical).into();
    }
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    assert_ok(&sweep(&["run", s(&dir), "--datasets", s(&data)]));
    for name in run_names(&dir) {
        assert!(
            dir.join(&name).join("run.json").is_file(),
            "{name} did not finish"
        );
    }
}
