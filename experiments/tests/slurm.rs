//! The tiny sweep on a real Slurm (issue #16): planned, submitted as an array with
//! `sweep slurm --submit`, one task cancelled mid-run with `scancel JOB_INDEX`, the array
//! submitted again, and collected: every run finishes, the second submission redoes only
//! what was left, and every run's weights (the cancelled one's included) are identical to
//! the same sweep run locally by `sweep run`.
//!
//! Needs a running Slurm: `.ci/slurm.sh start` sets up a one-node cluster on this machine.
//! Ignored by default; CI runs it with `--ignored`, where a missing `sbatch` fails it.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const SWEEP: &str = env!("CARGO_BIN_EXE_sweep");

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} could not be run ({e}); start Slurm with `bash .ci/slurm.sh start`")
        })
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Submits the sweep's array; returns the job id.
fn submit(dir: &Path, datasets: &Path) -> String {
    let out = ok(run(
        SWEEP,
        &[
            "slurm",
            s(dir),
            "--cpus-per-task",
            "1",
            "--max-parallel",
            "2",
            "--time",
            "00:10:00",
            "--datasets",
            s(datasets),
            "--submit",
        ],
    ));
    out.lines()
        .find_map(|l| l.strip_prefix("submitted job "))
        .unwrap_or_else(|| panic!("no job id in: {out}"))
        .trim()
        .to_string()
}

/// Whether any task of `job` is still pending or running.
fn in_queue(job: &str) -> bool {
    let o = run("squeue", &["-h", "-j", job, "-o", "%i %T"]);
    // Once the job has left the controller, squeue refuses its id.
    o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty()
}

fn wait_for(what: &str, limit: Duration, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn names(dir: &Path) -> Vec<String> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    m["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn weights(run_dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(run_dir.join("weights"))
        .unwrap_or_else(|_| panic!("{} has no weights", run_dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs a running Slurm (.ci/slurm.sh); run with --ignored"]
fn a_cancelled_array_task_resubmitted_finishes_like_a_local_run() {
    assert!(
        Command::new("sbatch").arg("--version").output().is_ok(),
        "sbatch is not on PATH: start Slurm with `bash .ci/slurm.sh start`"
    );
    let tmp = tempfile::tempdir().unwrap();
    let tiny: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("sweeps/tiny.json");
    let dir = tmp.path().join("slurm");
    ok(run(SWEEP, &["plan", s(&tiny), "--out", s(&dir)]));
    let datasets = tmp.path().join("data-slurm");
    let runs = names(&dir);
    // The run to cancel: a slow one (K = 0.4407), cancelled once it is into its training.
    let victim = 2;
    let victim_dir = dir.join(&runs[victim]);

    let job = submit(&dir, &datasets);
    wait_for(
        "the third run's first epoch",
        Duration::from_secs(300),
        || victim_dir.join("layer1/epochs.json").exists(),
    );
    ok(run("scancel", &[&format!("{job}_{victim}")]));
    wait_for("the first array to end", Duration::from_secs(300), || {
        !in_queue(&job)
    });
    assert!(
        !victim_dir.join("run.json").exists(),
        "the cancelled run finished anyway"
    );
    for (i, name) in runs.iter().enumerate() {
        if i != victim {
            assert!(
                dir.join(name).join("run.json").exists(),
                "{name} did not finish"
            );
        }
    }

    // Resubmitted: the finished runs are skipped, the cancelled one resumes.
    let again = submit(&dir, &datasets);
    wait_for("the second array to end", Duration::from_secs(300), || {
        !in_queue(&again)
    });
    for (i, name) in runs.iter().enumerate() {
        let log = std::fs::read_to_string(dir.join("logs").join(format!("{again}_{i}.out")))
            .unwrap_or_else(|e| panic!("no log of task {i}: {e}"));
        match i == victim {
            true => assert!(log.contains(&format!("finished {name}")), "{log}"),
            false => assert!(log.contains("finished earlier; nothing to do"), "{log}"),
        }
    }
    let collected = ok(run(SWEEP, &["collect", s(&dir)]));
    assert!(collected.contains("4 finished runs"), "{collected}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["unfinished"].as_array().unwrap().len(), 0);

    // The same sweep locally, one thread per run as on Slurm (--cpus-per-task 1).
    let local = tmp.path().join("local");
    ok(run(SWEEP, &["plan", s(&tiny), "--out", s(&local)]));
    let local_data = tmp.path().join("data-local");
    ok(run(
        SWEEP,
        &[
            "run",
            s(&local),
            "--jobs",
            "2",
            "--threads",
            "2",
            "--datasets",
            s(&local_data),
        ],
    ));
    for name in &runs {
        let (a, b) = (weights(&dir.join(name)), weights(&local.join(name)));
        assert_eq!(a.len(), 6);
        assert!(
            a == b,
            "{name}: the Slurm run's weights differ from the local run's"
        );
    }
}
