//! A run folder read back from anywhere: `rg` started in another folder finds the run's
//! dataset through `run.json` (recorded relative to the run folder), a run recorded before
//! that (its dataset relative to where it was started) is refused naming the places tried
//! until `--datasets` is given, and records written with the metrics' display names read back
//! keyed by identifier.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use experiments::run::{Metrics, RunHistory, RunPaths};
use experiments::sweep::collect::key_metrics;
use experiments::training::EpochSplit;

fn run_in(cwd: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Trains the small stack in `root/work` into `root/work/runs/r` with datasets in
/// `root/work/datasets` (both given relative to `root/work`); returns the run folder.
fn small_run(root: &Path) -> std::path::PathBuf {
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("small.json"), common::SMALL_CONFIG).unwrap();
    let o = run_in(
        &work,
        env!("CARGO_BIN_EXE_fig3"),
        &[
            "--config",
            "small.json",
            "--out",
            "runs/r",
            "--datasets",
            "datasets",
        ],
    );
    assert!(o.status.success(), "fig3 failed: {}", text(&o));
    work.join("runs/r")
}

#[test]
fn rg_finds_the_runs_dataset_from_another_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let run = small_run(tmp.path());
    let record = RunHistory::read(&RunPaths::new(&run).record()).unwrap();
    assert_eq!(
        record.first.data.dir_from_run.as_deref(),
        Some(Path::new("../../datasets/ising2d-L8-K0.408-n3000-seed3"))
    );
    assert!(record.first.data.dir.is_absolute());

    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let run_arg = run.to_str().unwrap();
    let o = run_in(&elsewhere, env!("CARGO_BIN_EXE_rg_analysis"), &[run_arg]);
    assert!(o.status.success(), "rg failed: {}", text(&o));
    assert!(RunPaths::new(&run).rg_report().is_file());

    // The whole project moved: the dataset is still found relative to the run.
    let moved = tmp.path().join("moved");
    std::fs::rename(tmp.path().join("work"), &moved).unwrap();
    let moved_run = moved.join("runs/r");
    let o = run_in(
        &elsewhere,
        env!("CARGO_BIN_EXE_rg_analysis"),
        &[moved_run.to_str().unwrap(), "--out", "rg-moved"],
    );
    assert!(o.status.success(), "rg after a move failed: {}", text(&o));
}

#[test]
fn a_run_recorded_before_is_refused_naming_the_places_tried_until_datasets_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let run = small_run(tmp.path());
    // As runs recorded their data before: the folder relative to where fig3 was started.
    let path = RunPaths::new(&run).record();
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    value["data"]["dir"] = "datasets/ising2d-L8-K0.408-n3000-seed3".into();
    value["data"]
        .as_object_mut()
        .unwrap()
        .remove("dir_from_run");
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();

    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let run_arg = run.to_str().unwrap();
    let o = run_in(&elsewhere, env!("CARGO_BIN_EXE_rg_analysis"), &[run_arg]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("'datasets/ising2d-L8-K0.408-n3000-seed3'") && e.contains("--datasets"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
    let last = e.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("error: the run's dataset"), "{e}");

    // From the folder it was started in, the recorded path works as before.
    let work = tmp.path().join("work");
    let o = run_in(&work, env!("CARGO_BIN_EXE_rg_analysis"), &["runs/r"]);
    assert!(
        o.status.success(),
        "rg from the run's folder failed: {}",
        text(&o)
    );
    // From anywhere with --datasets.
    let datasets = work.join("datasets");
    let o = run_in(
        &elsewhere,
        env!("CARGO_BIN_EXE_rg_analysis"),
        &[
            run_arg,
            "--datasets",
            datasets.to_str().unwrap(),
            "--out",
            "rg2",
        ],
    );
    assert!(o.status.success(), "rg --datasets failed: {}", text(&o));
}

#[test]
fn metrics_keyed_by_display_name_read_back_keyed_by_identifier() {
    let tmp = tempfile::tempdir().unwrap();
    let run = small_run(tmp.path());
    let paths = RunPaths::new(&run);
    let metrics = Metrics::read(&paths.metrics()).unwrap();
    let last = |m: &Metrics| {
        m.layers[0]
            .epochs
            .iter()
            .rfind(|e| e.split == EpochSplit::Valid)
            .unwrap()
            .values
            .clone()
    };
    let values = last(&metrics);
    assert!(values.contains_key("reconstruction_error"), "{values:?}");
    assert!(values.contains_key("free_energy_gap"), "{values:?}");
    // Rewritten with the display names, as runs before the identifiers were.
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(paths.metrics()).unwrap()).unwrap();
    for layer in value["layers"].as_array_mut().unwrap() {
        for epoch in layer["epochs"].as_array_mut().unwrap() {
            let values = epoch["values"].as_object_mut().unwrap();
            for (name, id) in rbm::train::metric::STATISTICS {
                if let Some(v) = values.remove(id) {
                    values.insert(name.to_string(), v);
                }
            }
        }
    }
    let text = serde_json::to_string_pretty(&value).unwrap();
    assert!(text.contains("\"Reconstruction error\""));
    std::fs::write(paths.metrics(), &text).unwrap();
    let old = Metrics::read(&paths.metrics()).unwrap();
    assert_eq!(last(&old), values);
    let columns = key_metrics(&old);
    assert_eq!(
        columns["layer1_valid_reconstruction_error"],
        values["reconstruction_error"]
    );
}
