//! The figure binaries on bad input (issue "Nothing lost, nothing silent"): each test
//! reproduces reported failures and checks the fix. `--force` replaces only a folder the same
//! program wrote; impossible requests are refused up front with a message naming the flag or
//! key at fault; nothing is created before the checks pass; `fig3` validates its data sizes
//! before training, records where its data came from, and keeps the first run's record when
//! resumed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{run, stderr};

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "failed: {}", stderr(o));
}

fn assert_refused(o: &Output, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "expected a refusal, got: {e}");
    assert!(e.contains(needle), "the error should say '{needle}': {e}");
    assert!(!e.contains("panicked"), "a panic reached the user: {e}");
}

/// Checks that no temporary or backup (a hidden entry) was left in `root`.
fn assert_no_hidden_entries(root: &Path) {
    let hidden: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
}

fn foreign_folder(root: &Path) -> PathBuf {
    let dir = root.join("mine");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("thesis.tex"), "months of work").unwrap();
    dir
}

const FIG1: &str = env!("CARGO_BIN_EXE_fig1");
const FIG2: &str = env!("CARGO_BIN_EXE_fig2");
const FIG3: &str = env!("CARGO_BIN_EXE_fig3");
const MAPPING: &str = env!("CARGO_BIN_EXE_mapping");

#[test]
fn force_replaces_only_a_folder_the_same_program_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mine = foreign_folder(root);
    let before = common::snapshot(root);
    let fig1 = |out: &str, extra: &[&str]| {
        let mut args = vec!["--out", out, "--size", "10", "--samples", "8"];
        args.extend(extra);
        run(FIG1, &args, root)
    };
    // The reported data loss: --force emptied any folder it was given.
    assert_refused(
        &fig1("mine", &["--force"]),
        "not written by this workspace's programs",
    );
    assert_refused(
        &run(
            FIG2,
            &["--out", "mine", "--force", "--samples", "100"],
            root,
        ),
        "nothing was changed",
    );
    assert_refused(
        &run(
            MAPPING,
            &["--out", "mine", "--force", "--ring", "4", "--hidden", "2"],
            root,
        ),
        "nothing was changed",
    );
    assert_refused(
        &run(
            FIG3,
            &["--preset", "quick", "--out", "mine", "--force"],
            root,
        ),
        "nothing was changed",
    );
    assert_refused(&fig1(".", &["--force"]), "current folder");
    assert_eq!(
        common::snapshot(root),
        before,
        "a refused --force changed something"
    );
    assert!(mine.join("thesis.tex").exists());

    // Its own output is replaced; no temporary or backup is left beside it.
    assert_ok(&fig1("f1", &[]));
    assert_refused(&fig1("f1", &[]), "--force");
    assert_ok(&fig1("f1", &["--force", "--seed", "8"]));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("f1/fig1.json")).unwrap()).unwrap();
    assert_eq!(json["samples_per_coupling"], 8);
    assert_no_hidden_entries(root);
    // Another program's output is not fig1's to replace, nor fig1's with a file added.
    assert_refused(
        &run(FIG2, &["--out", "f1", "--force", "--samples", "100"], root),
        "fig1 wrote it, not fig2",
    );
    std::fs::write(root.join("f1/notes.md"), "mine").unwrap();
    assert_refused(&fig1("f1", &["--force"]), "'notes.md'");
}

#[test]
fn impossible_requests_are_refused_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // fig1 --size 30 blocked only 30 → 15 though --help promised 5.
    assert_refused(&run(FIG1, &["--out", "a", "--size", "30"], root), "5·2^k");
    let help = run(FIG1, &["--help"], root);
    assert!(String::from_utf8_lossy(&help.stdout).contains("10, 20, 40, 80"));
    // fig1 --samples 7 blamed "chains", a flag fig1 does not have; it now runs.
    let o = run(
        FIG1,
        &["--out", "b", "--size", "10", "--samples", "7"],
        root,
    );
    assert_ok(&o);
    assert!(!stderr(&o).contains("chains must"), "{}", stderr(&o));
    // fig2 --ring 1048576 ran with no limit.
    assert_refused(
        &run(FIG2, &["--out", "c", "--ring", "1048576"], root),
        "--ring must be a power of two from 8 to 65536",
    );
    assert_refused(
        &run(
            FIG2,
            &["--out", "c", "--ring", "65536", "--samples", "20000"],
            root,
        ),
        "--ring × --samples",
    );
    // mapping --coupling 1e6 wrote NaN/null; the largest accepted coupling writes numbers.
    assert_refused(
        &run(MAPPING, &["--out", "d", "--coupling", "1e6"], root),
        "--coupling must be between 0 and 10",
    );
    let o = run(
        MAPPING,
        &[
            "--out",
            "e",
            "--coupling",
            "10",
            "--samples",
            "100",
            "--epochs",
            "1",
            "--ring",
            "6",
            "--hidden",
            "3",
        ],
        root,
    );
    assert_ok(&o);
    let text = std::fs::read_to_string(root.join("e/mapping.json")).unwrap();
    assert!(!text.contains("null"), "non-finite values were written");
    // Nothing was created by the refused runs.
    for name in ["a", "c", "d"] {
        assert!(!root.join(name).exists(), "{name} was created");
    }
}

/// A small fig3 config with `edit` applied to its JSON.
fn config_with(root: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut value: serde_json::Value = serde_json::from_str(common::SMALL_CONFIG).unwrap();
    edit(&mut value);
    let path = root.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    path
}

fn fig3(root: &Path, config: &Path, out: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "--out",
        out,
        "--datasets",
        "datasets",
    ];
    args.extend(extra);
    run(FIG3, &args, root)
}

#[test]
fn fig3_refuses_data_too_small_for_its_figures_and_metrics_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // The reported panic after training: quick preset with 10 or 20 samples.
    for samples in ["10", "20"] {
        let o = run(
            FIG3,
            &[
                "--preset",
                "quick",
                "--samples",
                samples,
                "--out",
                "q",
                "--datasets",
                "datasets",
            ],
            root,
        );
        assert_refused(&o, "held-out rows");
    }
    // valid_fraction 0 trained with NaN metrics, then panicked.
    let zero = config_with(root, "zero.json", |c| {
        c["data"]["valid_fraction"] = 0.0.into()
    });
    assert_refused(&fig3(root, &zero, "z", &[]), "holds out 0 rows");
    // Fewer training rows than a batch trained silently to an untrained model.
    let few = config_with(root, "few.json", |c| c["data"]["samples"] = 60.into());
    assert_refused(
        &fig3(root, &few, "f", &[]),
        "48 training rows, fewer than training.batch_size = 50",
    );
    // A held-out window of no rows would log no held-out statistics at all.
    let window = config_with(root, "window.json", |c| {
        c["held_out_rows_per_epoch"] = 0.into()
    });
    assert_refused(
        &fig3(root, &window, "w", &[]),
        "held_out_rows_per_epoch must be at least 1",
    );
    // No run folder and no dataset were created by any of these.
    for name in ["q", "z", "f", "w", "datasets"] {
        assert!(!root.join(name).exists(), "{name} was created");
    }
}

#[test]
fn fig3_config_keys_it_does_not_know_are_refused_with_the_nearest_valid_one() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let misspelt = config_with(root, "misspelt.json", |c| {
        let t = c["training"].as_object_mut().unwrap();
        let lr = t.remove("learning_rate").unwrap();
        t.insert("lerning_rate".into(), lr);
    });
    assert_refused(
        &fig3(root, &misspelt, "a", &[]),
        "unknown key 'training.lerning_rate' (did you mean 'learning_rate'?)",
    );
    // An extra key beside a complete config was ignored before.
    let extra = config_with(root, "extra.json", |c| {
        c["training"]["cd"]["persistant"] = true.into();
    });
    assert_refused(
        &fig3(root, &extra, "b", &[]),
        "unknown key 'training.cd.persistant' (did you mean 'persistent'?)",
    );
    // A penalty convention it does not know is refused naming the field and the choices
    // (not as an unknown key: `penalty` is one).
    let penalty = config_with(root, "penalty.json", |c| {
        c["training"]["cd"]["penalty"] = "adamw".into();
    });
    assert_refused(
        &fig3(root, &penalty, "p", &[]),
        r#"penalty must be "gradient" or "decoupled", got "adamw""#,
    );
    // Zero batch size and zero epochs are named separately.
    let zero = config_with(root, "zero.json", |c| {
        c["training"]["batch_size"] = 0.into()
    });
    assert_refused(
        &fig3(root, &zero, "c", &[]),
        "batch_size must be at least 1",
    );
    assert_refused(
        &fig3(
            root,
            &config_with(root, "e.json", |_| {}),
            "c",
            &["--epochs", "0"],
        ),
        "epochs must be at least 1",
    );
}

#[test]
fn fig3_checks_its_inputs_and_destination_before_creating_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let config = config_with(root, "small.json", |_| {});
    // --datasets pointing at a file said "File exists (os error 17)".
    std::fs::write(root.join("afile"), "x").unwrap();
    let o = run(
        FIG3,
        &[
            "--config",
            "small.json",
            "--out",
            "a",
            "--datasets",
            "afile",
        ],
        root,
    );
    assert_refused(&o, "--datasets afile is not a folder");
    // An unwritable --out was found only after the whole computation.
    let o = fig3(root, &config, "afile/run", &[]);
    assert_refused(&o, "afile is not a folder");
    assert!(!root.join("datasets").exists(), "data were made first");
    // A dataset error left the run folder behind, so the same command then said "already
    // exists"; now the folder is created after the data are checked.
    let name = "ising2d-L8-K0.408-n3000-seed3";
    std::fs::create_dir_all(root.join("datasets").join(name)).unwrap();
    for _ in 0..2 {
        let o = fig3(root, &config, "b", &[]);
        assert_refused(&o, "manifest.json");
        assert!(!root.join("b").exists());
    }
    // A dataset under the expected name made with other settings: the differing field is
    // named.
    std::fs::remove_dir(root.join("datasets").join(name)).unwrap();
    common::other_dataset(&root.join("datasets").join(name), false);
    assert_refused(&fig3(root, &config, "b", &[]), "chains (4 vs 8)");
    assert!(!root.join("b").exists());
}

#[test]
fn fig3_run_folders_record_their_data_keep_their_history_and_obey_force() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let config = config_with(root, "small.json", |_| {});
    assert_ok(&fig3(root, &config, "run", &[]));
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(root.join(p)).unwrap()).unwrap()
    };
    // The data's sampler and checksum are recorded.
    let first = read("run/run.json");
    assert_eq!(first["data"]["algorithm"], "wolff");
    assert_eq!(first["data"]["chains"], 8);
    let manifest = read("datasets/ising2d-L8-K0.408-n3000-seed3/manifest.json");
    assert_eq!(first["data"]["spins_sha256"], manifest["spins_sha256"]);
    assert_eq!(first["resumed"], false);

    // A run that failed after training (no metrics.json, no run.json) is finished by
    // --resume; resuming a finished run keeps the first record and adds the resume's.
    std::fs::remove_file(root.join("run/metrics.json")).unwrap();
    assert_ok(&fig3(root, &config, "run", &["--resume"]));
    assert!(root.join("run/metrics.json").exists());
    let after = read("run/run.json");
    assert_eq!(after["total_seconds"], first["total_seconds"]);
    assert_eq!(after["data"], first["data"]);
    assert_eq!(after["resumes"].as_array().unwrap().len(), 1);
    assert_eq!(after["resumes"][0]["resumed"], true);

    // --force replaces fig3's own run (an existing folder without it is refused).
    assert_refused(&fig3(root, &config, "run", &[]), "--force");
    let o = fig3(root, &config, "run", &["--force", "--epochs", "2"]);
    assert_ok(&o);
    assert_eq!(read("run/config.json")["training"]["epochs"], 2);
    assert_eq!(read("run/run.json")["resumes"].as_array().unwrap().len(), 0);
    assert_no_hidden_entries(root);
    // ... but not once the user put a file of their own in it, even one named like ours.
    for name in ["analysis.ipynb", "layer_notes.txt"] {
        std::fs::write(root.join("run").join(name), "{}").unwrap();
        let before = common::snapshot(&root.join("run"));
        assert_refused(
            &fig3(root, &config, "run", &["--force"]),
            &format!("'{name}'"),
        );
        assert_eq!(common::snapshot(&root.join("run")), before);
        std::fs::remove_file(root.join("run").join(name)).unwrap();
    }
}

#[test]
fn records_with_diverged_metrics_read_back() {
    // With valid_fraction 0 the metrics were NaN, layer.json held `null`, and --resume failed
    // to read it. NaN is still possible (a diverged run); it now reads back as NaN. The record
    // is keyed as runs before the metric identifiers were (by display name), and reads back
    // keyed by identifier.
    use experiments::pretrain::LayerReport;
    use experiments::training::{EpochRecord, EpochSplit};
    let report = LayerReport {
        layer: 1,
        shape: [64, 16],
        epochs: vec![EpochRecord {
            epoch: 1,
            split: EpochSplit::Valid,
            values: [("Reconstruction error".to_string(), f64::NAN)].into(),
        }],
        free_energy_gap: f64::NAN,
        valid_pseudo_log_likelihood_per_unit: -0.5,
        seconds: 1.0,
        resumed_after_epoch: 0,
        kl_during_training: Vec::new(),
    };
    let text = serde_json::to_string(&report).unwrap();
    assert!(text.contains("null"), "{text}");
    let back: LayerReport = serde_json::from_str(&text).unwrap();
    assert!(back.free_energy_gap.is_nan());
    assert!(back.epochs[0].values["reconstruction_error"].is_nan());
    assert_eq!(back.epochs[0].split, EpochSplit::Valid);
    assert_eq!(back.valid_pseudo_log_likelihood_per_unit, -0.5);
}

#[test]
fn an_invalid_kernel_switch_is_refused_before_anything_is_created() {
    // RBM_KERNEL names the CD step's CPU path; a value that is not one, or an instruction set
    // this CPU lacks, is one clear error and no run folder.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let lacking = rbm::Isa::ALL
        .into_iter()
        .find(|isa| !isa.available())
        .expect("no CPU has both x86 and ARM instruction sets");
    for (value, needle) in [
        ("avx1024", "RBM_KERNEL must be one of avx512"),
        (lacking.name(), "this CPU lacks"),
    ] {
        let o = Command::new(FIG3)
            .args(["--preset", "quick", "--out", "run"])
            .env("RBM_KERNEL", value)
            .current_dir(root)
            .output()
            .expect("the binary runs");
        assert_refused(&o, needle);
        assert_eq!(stderr(&o).lines().count(), 1, "one line: {}", stderr(&o));
        assert!(!root.join("run").exists() && !root.join("datasets").exists());
    }
}

#[test]
fn quality_refuses_what_is_not_a_finished_run_and_bad_settings_before_writing() {
    // A folder without config.json, a run whose weights are missing (unfinished) or of
    // another architecture, and impossible settings: each one line naming the cause, and no
    // output folder created.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let quality = env!("CARGO_BIN_EXE_quality");
    std::fs::create_dir(root.join("empty")).unwrap();
    let o = run(quality, &["empty"], root);
    assert_refused(&o, "not a fig3 run folder");
    assert!(!root.join("empty/quality").exists());

    // A run folder's config with the weights of another architecture.
    let dir = root.join("run");
    std::fs::create_dir_all(dir.join("weights")).unwrap();
    std::fs::write(dir.join("config.json"), common::SMALL_CONFIG).unwrap();
    let o = run(quality, &["run"], root);
    assert_refused(&o, "not a finished fig3 run");
    let npy =
        |shape: &[usize]| ising_data::npy::encode_f32(shape, &vec![0.0; shape.iter().product()]);
    std::fs::write(dir.join("weights/layer1_W.npy"), npy(&[64, 8])).unwrap();
    let o = run(quality, &["run"], root);
    assert_refused(
        &o,
        "has shape [64, 8] but config.json's layers need [64, 16]",
    );
    assert!(!dir.join("quality").exists());

    for (flags, needle) in [
        (&["--replicas", "0"][..], "replicas must be at least 1"),
        (&["--beta-min", "1.5"][..], "--beta-min must be in (0, 1)"),
        (
            &["--ais-repetitions", "1"][..],
            "--ais-repetitions must be at least 2",
        ),
        (
            &["--chains", "2", "--sweeps", "10", "--thin", "10"][..],
            "reverse AIS starts",
        ),
        (&["--thin", "0"][..], "thin must be at least 1"),
    ] {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        let o = run(quality, &args, root);
        assert_refused(&o, needle);
        assert!(!dir.join("quality").exists());
    }
    // A value outside a closed choice is a usage error, listing the choices.
    for (flag, value, choices) in [
        ("--downward", "up", "[possible values: mean, sample]"),
        ("--tempering", "beta", "[possible values: base, energy]"),
    ] {
        let o = run(quality, &["run", flag, value], root);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {e}");
        assert!(
            e.contains(&format!("invalid value '{value}' for '{flag}")),
            "{e}"
        );
        assert!(e.contains(choices), "{e}");
        assert!(!dir.join("quality").exists());
    }
}
