//! The second round of bad and unusual input (issue "Nothing lost, nothing hung, nothing
//! silently wrong, second round"). Data loss first: an interrupted or failing `fig3 --force`
//! keeps the run it replaces, checked by listings and checksums at every depth, and `--force`
//! refuses a folder holding a file of the user's at any depth. Then the refusals, as one
//! table: each row prepares a copy of a finished small run, runs one binary with bad input,
//! and expects one line naming the fault, exit status 1, no panic, no hang, and nothing
//! changed.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const FIG3: &str = env!("CARGO_BIN_EXE_fig3");
const QUALITY: &str = env!("CARGO_BIN_EXE_quality");
const RG: &str = env!("CARGO_BIN_EXE_rg_analysis");
const SWEEP: &str = env!("CARGO_BIN_EXE_sweep");
const ISY_FLOW: &str = env!("CARGO_BIN_EXE_isy_flow");
const FIG2: &str = env!("CARGO_BIN_EXE_fig2");

/// The longest any refused command may take before the test calls it hung.
const HANG: Duration = Duration::from_secs(120);

/// Runs `binary` in `cwd`, killing it (and failing) if it runs past [`HANG`].
fn run(binary: &str, args: &[&str], cwd: &Path) -> Output {
    let child = Command::new(binary)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id().to_string();
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match result.recv_timeout(HANG) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            panic!("{binary} {args:?} hung (killed after {HANG:?})");
        }
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "failed: {}", stderr(o));
}

/// The hidden entries of `dir` (temporaries, backups, locks).
fn hidden_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// The small stack's config with `edit` applied, written to `root/name`.
fn config_with(root: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut value: serde_json::Value = serde_json::from_str(common::SMALL_CONFIG).unwrap();
    edit(&mut value);
    let path = root.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    path
}

fn fig3_args<'a>(config: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--config", config, "--out", out, "--datasets", "datasets"];
    args.extend_from_slice(extra);
    args
}

/// A folder holding `small.json`, its dataset and a finished run `run` of it.
fn finished_run() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    config_with(tmp.path(), "small.json", |_| {});
    assert_ok(&run(FIG3, &fig3_args("small.json", "run", &[]), tmp.path()));
    tmp
}

/// Runs `binary args` in `root`, interrupted once a line of its output satisfies `trigger`.
fn interrupt(
    binary: &str,
    root: &Path,
    args: &[&str],
    trigger: impl Fn(&str) -> bool,
) -> common::Interrupted {
    let mut command = Command::new(binary);
    command.args(args).current_dir(root);
    common::interrupt(command, trigger)
}

/// [`interrupt`] for `fig3`: its standard error, exit status and the number of epoch lines
/// marked partial. Epoch lines printed once the stop is raised (the signal lands a little
/// after the trigger) are marked: no unmarked epoch line follows the first marked one. (A
/// stop landing between a split's summary and the learner's check marks none, so callers
/// ask for marked lines over several interrupts.)
fn interrupt_fig3(
    root: &Path,
    args: &[&str],
    trigger: impl Fn(&str) -> bool,
) -> (String, i32, usize) {
    const PARTIAL: &str = "(interrupted: partial, kept only if checkpointed)";
    let o = interrupt(FIG3, root, args, trigger);
    let epochs: Vec<&String> = o.stdout.iter().filter(|l| l.contains(" epoch ")).collect();
    let after: Vec<&&String> = epochs.iter().skip_while(|l| !l.contains(PARTIAL)).collect();
    assert!(
        after.iter().all(|l| l.contains(PARTIAL)),
        "an epoch line after the stop is not marked partial: {after:?}"
    );
    (o.stderr, o.code, after.len())
}

/// The backup and the command to put it back, as a message names them.
fn restore_command(message: &str) -> (PathBuf, String) {
    let command = message
        .split("to put that back instead: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no restore command in: {message}"))
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_string();
    let backup = message
        .split("is kept in ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no backup named in: {message}"));
    (PathBuf::from(backup), command)
}

/// The epochs of layer 1's record and its newest complete checkpoint.
fn recorded_and_checkpointed(run_dir: &Path) -> (usize, usize) {
    let records: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("layer1/epochs.json")).unwrap())
            .unwrap();
    let recorded = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["epoch"].as_u64().unwrap() as usize)
        .max()
        .unwrap_or(0);
    let saved = experiments::checkpoint::last_complete_epoch(&run_dir.join("layer1/checkpoint"))
        .unwrap_or(0);
    (recorded, saved)
}

#[test]
fn an_interrupted_force_replacement_keeps_the_old_run_through_resumes_until_it_finishes() {
    let tmp = finished_run();
    let root = tmp.path();
    let old = common::snapshot(&root.join("run"));
    let longer = fig3_args("small.json", "run", &["--force", "--epochs", "400"]);
    // A piped run reports its first epoch, then every 40th of these 400.
    let at_epoch =
        |n: usize| move |l: &str| l.starts_with(&format!("layer 1 (64→16) epoch {n}/400,"));

    // The reported loss: interrupted, then resumed and interrupted again, the old run was gone.
    let (message, code, marked_first) = interrupt_fig3(root, &longer, at_epoch(1));
    assert_eq!(code, 130, "{message}");
    let (backup, command) = restore_command(&message);
    assert!(message.contains("--resume"), "{message}");
    assert_eq!(
        common::snapshot(&root.join(&backup)),
        old,
        "the kept run changed"
    );
    // The partial epoch is not recorded as one: the record ends at the last checkpoint.
    let (recorded, saved) = recorded_and_checkpointed(&root.join("run"));
    assert_eq!(
        recorded, saved,
        "epochs.json records an epoch that was cut short"
    );

    let resume = fig3_args("small.json", "run", &["--resume", "--epochs", "400"]);
    let (message, code, marked_resume) = interrupt_fig3(root, &resume, |l| {
        l.contains(" epoch ") && l.contains("/400,")
    });
    assert_eq!(code, 130, "{message}");
    assert!(message.contains(&*backup.to_string_lossy()), "{message}");
    assert_eq!(
        common::snapshot(&root.join(&backup)),
        old,
        "a resume changed the kept run"
    );

    // The command the message gives puts the old run back, whole.
    let status = Command::new("sh")
        .args(["-c", &command])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success(), "{command}");
    assert_eq!(common::snapshot(&root.join("run")), old);
    assert_eq!(hidden_entries(root), Vec::<String>::new());

    // Replaced again and resumed to the end: only then is the old run removed.
    let (message, code, marked_again) = interrupt_fig3(root, &longer, at_epoch(1));
    assert_eq!(code, 130, "{message}");
    // The epoch the stop cut short is printed marked as partial.
    assert!(
        marked_first + marked_resume + marked_again > 0,
        "no epoch line after a stop was marked partial"
    );
    let (backup, _) = restore_command(&message);
    assert_ok(&run(FIG3, &resume, root));
    assert!(
        !root.join(&backup).exists(),
        "the finished replacement kept its backup"
    );
    assert_eq!(hidden_entries(root), Vec::<String>::new());
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("run/config.json")).unwrap()).unwrap();
    assert_eq!(config["training"]["epochs"], 400);
}

/// A tmpfs of `kib` KiB mounted at `dir` for the guard's life, where this process may mount.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, kib: usize) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(dir.into()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_force_replacement_that_fails_on_a_full_disk_keeps_the_old_run_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    // A real full disk where a tmpfs can be mounted; else writes past a file-size limit fail
    // the same way (EFBIG instead of ENOSPC).
    let tmpfs = Tmpfs::mount(&disk, 2048);
    std::fs::create_dir_all(&disk).unwrap();
    let root = disk.as_path();
    config_with(root, "small.json", |_| {});
    // The data outside the small disk, so that only the run's files compete for its room.
    let datasets = tmp.path().join("datasets");
    let datasets_arg = datasets.to_str().unwrap();
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "--config",
            "small.json",
            "--out",
            "run",
            "--datasets",
            datasets_arg,
        ];
        a.extend_from_slice(extra);
        a
    };
    assert_ok(&run(FIG3, &args(&[]), root));
    let old = common::snapshot(&root.join("run"));
    let o = match &tmpfs {
        Some(_) => {
            // Fill the disk but for a few KiB: config.json fits, the first checkpoint does not.
            let free = fs_free_bytes(root);
            std::fs::write(
                root.join("filler"),
                vec![0u8; free.saturating_sub(6 * 1024)],
            )
            .unwrap();
            run(FIG3, &args(&["--force"]), root)
        }
        None => {
            let mut cmd = vec!["-c", "trap '' XFSZ; ulimit -f 4; exec \"$0\" \"$@\"", FIG3];
            cmd.extend(args(&["--force"]));
            run("sh", &cmd, root)
        }
    };
    let message = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    let (backup, command) = restore_command(&message);
    assert_eq!(
        common::snapshot(&root.join(&backup)),
        old,
        "the kept run changed"
    );
    let _ = std::fs::remove_file(root.join("filler"));
    let status = Command::new("sh")
        .args(["-c", &command])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success(), "{command}");
    assert_eq!(common::snapshot(&root.join("run")), old);
}

/// Free bytes of the file system holding `dir` (`df`'s available column).
fn fs_free_bytes(dir: &Path) -> usize {
    let o = Command::new("df")
        .args(["-k", "--output=avail"])
        .arg(dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let kib: usize = text.lines().nth(1).unwrap().trim().parse().unwrap();
    kib * 1024
}

#[test]
fn force_refuses_a_file_of_the_users_at_any_depth_and_changes_nothing() {
    let tmp = finished_run();
    let root = tmp.path();
    // The rg binary's own folder inside the run, with a marker of its own.
    assert_ok(&run(RG, &["run", "--datasets", "datasets"], root));
    let force = fig3_args("small.json", "run", &["--force"]);
    for place in [
        "weights/notes.txt",
        "rg/notes.txt",
        "layer1/checkpoint/notes.txt",
        "layer2/x/y.txt",
    ] {
        let path = root.join("run").join(place);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "months of work").unwrap();
        let before = common::snapshot(root);
        let o = run(FIG3, &force, root);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{place}: {e}");
        assert!(e.contains(&format!("'{place}'")), "{place}: {e}");
        assert_eq!(
            common::snapshot(root),
            before,
            "{place}: a refused --force changed something"
        );
        std::fs::remove_file(&path).unwrap();
    }
    // An empty folder of the user's holds nothing to lose; the run, and rg's folder, are ours.
    assert_ok(&run(FIG3, &force, root));
    assert_eq!(hidden_entries(root), Vec::<String>::new());
}

#[test]
fn sweep_plan_force_refuses_a_file_of_the_users_in_a_run_folder_or_in_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("sweeps/tiny.json");
    let spec = spec.to_str().unwrap();
    assert_ok(&run(SWEEP, &["plan", spec, "--out", "sw"], root));
    // Another plan (the same plan again is left as it is, --force or not).
    let mut other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(spec).unwrap()).unwrap();
    other["axes"][1]["values"] = serde_json::json!([1, 3]);
    std::fs::write(root.join("other.json"), other.to_string()).unwrap();
    let run_name = std::fs::read_dir(root.join("sw"))
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.path().is_dir())
        .unwrap()
        .file_name()
        .to_string_lossy()
        .into_owned();
    std::fs::create_dir_all(root.join("sw/logs")).unwrap();
    std::fs::write(root.join("sw/logs/r.log"), "ours").unwrap();
    for place in [
        format!("{run_name}/analysis.ipynb"),
        "logs/notes.md".to_string(),
    ] {
        let path = root.join("sw").join(&place);
        std::fs::write(&path, "months of work").unwrap();
        let before = common::snapshot(root);
        let o = run(
            SWEEP,
            &["plan", "other.json", "--out", "sw", "--force"],
            root,
        );
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{place}: {e}");
        assert!(e.contains(&format!("'{place}'")), "{place}: {e}");
        assert_eq!(common::snapshot(root), before, "{place}");
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn fig3_takes_a_lock_so_two_processes_never_train_one_run_folder() {
    let tmp = finished_run();
    let root = tmp.path();
    let longer = fig3_args("small.json", "run", &["--force", "--epochs", "400"]);
    let mut first = Command::new(FIG3)
        .args(&longer)
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Once the first is training, a resume of the same folder is refused.
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("epoch 1/400,")));
    let o = run(
        FIG3,
        &fig3_args("small.json", "run", &["--resume", "--epochs", "400"]),
        root,
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("is in use by process") && e.contains("nothing was changed"),
        "{e}"
    );
    let o = run(FIG3, &longer, root);
    assert!(
        stderr(&o).contains("is in use by process"),
        "{}",
        stderr(&o)
    );
    for _ in lines {}
    assert!(first.wait().unwrap().success());
    // The lock is released at the end.
    assert_eq!(hidden_entries(root), Vec::<String>::new());
}

#[test]
fn resume_overrides_equal_to_the_runs_own_values_are_accepted() {
    // `--resume --epochs 8` (the run's own) was compared against the paper preset.
    let tmp = finished_run();
    let root = tmp.path();
    for extra in [
        &["--epochs", "8"][..],
        &["--seed", "5"],
        &["--samples", "3000"],
    ] {
        let mut args = vec!["--out", "run", "--datasets", "datasets", "--resume"];
        args.extend_from_slice(extra);
        assert_ok(&run(FIG3, &args, root));
    }
    let mut args = vec!["--out", "run", "--datasets", "datasets", "--resume"];
    args.extend_from_slice(&["--epochs", "9"]);
    let e = stderr(&run(FIG3, &args, root));
    assert!(e.contains("training.epochs (8 vs 9)"), "{e}");
}

/// One bad input: what it reproduces, how the finished small run is prepared, the command and
/// what its error must say.
struct Case {
    issue: &'static str,
    prepare: fn(&Path),
    binary: &'static str,
    args: &'static [&'static str],
    says: &'static [&'static str],
}

fn nothing(_: &Path) {}

/// Sets the first value of the `.npy` file `file` of the run to `value`.
fn poison(root: &Path, file: &str, value: f32) {
    let path = root.join("run/weights").join(file);
    let (shape, mut data) =
        ising_data::npy::decode_f32(&path, &std::fs::read(&path).unwrap()).unwrap();
    data[0] = value;
    std::fs::write(&path, ising_data::npy::encode_f32(&shape, &data)).unwrap();
}

/// Replaces the run's dataset by one of the same name made with 4 chains instead of 8.
fn other_data(root: &Path) {
    let dir = root.join("datasets/ising2d-L8-K0.408-n3000-seed3");
    common::other_dataset(&dir, true);
}

/// Writes `null` for the first recorded metric of layer 1 in metrics.json (a diverged run).
fn diverged(root: &Path) {
    let path = root.join("run/metrics.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let values = m["layers"][0]["epochs"][3]["values"]
        .as_object_mut()
        .unwrap();
    let key = values.keys().next().unwrap().clone();
    values.insert(key, serde_json::Value::Null);
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// Edits the small config in `root/bad.json`.
fn bad_config(root: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    config_with(root, "bad.json", edit);
}

const CASES: &[Case] = &[
    Case {
        issue: "3: a NaN weight hung quality in plotters",
        prepare: |r| poison(r, "layer1_W.npy", f32::NAN),
        binary: QUALITY,
        args: &["run", "--datasets", "datasets"],
        says: &["layer1_W.npy holds NaN at row 0, column 0", "not analysed"],
    },
    Case {
        issue: "3: an infinite weight panicked rg",
        prepare: |r| poison(r, "layer2_hidden_bias.npy", f32::INFINITY),
        binary: RG,
        args: &["run", "--datasets", "datasets"],
        says: &["layer2_hidden_bias.npy holds inf at index 0"],
    },
    Case {
        issue: "3: a diverged run is reported as such by quality",
        prepare: diverged,
        binary: QUALITY,
        args: &["run", "--datasets", "datasets"],
        says: &["the run diverged", "layer 1"],
    },
    Case {
        issue: "3: a diverged run is reported as such by rg",
        prepare: diverged,
        binary: RG,
        args: &["run", "--datasets", "datasets"],
        says: &["the run diverged"],
    },
    Case {
        issue: "4: an impossible data size aborted",
        prepare: |r| bad_config(r, |c| c["data"]["samples"] = 1_000_000_000_000u64.into()),
        binary: FIG3,
        args: &[
            "--config",
            "bad.json",
            "--out",
            "big",
            "--datasets",
            "datasets",
        ],
        says: &["data.samples = 1000000000000", "bytes of memory"],
    },
    Case {
        issue: "4 (fresh trial): a layer too wide for memory aborted",
        prepare: |r| {
            bad_config(r, |c| {
                c["layers"] = serde_json::json!([64, 1_000_000_000u64, 4])
            })
        },
        binary: FIG3,
        args: &[
            "--config",
            "bad.json",
            "--out",
            "wide",
            "--datasets",
            "datasets",
        ],
        says: &["the stack [64, 1000000000, 4]", "bytes of memory"],
    },
    Case {
        issue: "4 (fresh trial): cd.k too large for memory aborted",
        prepare: |r| {
            bad_config(r, |c| {
                c["training"]["cd"]["k"] = 1_000_000_000_000u64.into()
            })
        },
        binary: FIG3,
        args: &[
            "--config",
            "bad.json",
            "--out",
            "k",
            "--datasets",
            "datasets",
        ],
        says: &["cd.k = 1000000000000", "bytes of memory"],
    },
    Case {
        issue: "4 (fresh trial): quality with more chains than memory aborted",
        prepare: nothing,
        binary: QUALITY,
        args: &["run", "--datasets", "datasets", "--chains", "1000000000"],
        says: &["sampling 1000000000 chains", "bytes of memory"],
    },
    Case {
        issue: "6 (fresh trial): isy_flow --learning-rate 1e6 was refused only after the data",
        prepare: nothing,
        binary: ISY_FLOW,
        args: &["--learning-rate", "1e6", "--out", "isy"],
        says: &["--learning-rate must be above 0 and at most 1, got 1000000"],
    },
    Case {
        issue: "4 (fresh trial): isy_flow with more hidden units than memory aborted",
        prepare: nothing,
        binary: ISY_FLOW,
        args: &["--hidden", "1000000000", "--out", "isy"],
        says: &["1000000000 hidden units (--hidden)", "bytes of memory"],
    },
    Case {
        issue: "5: rg on a same-named dataset of other settings",
        prepare: other_data,
        binary: RG,
        args: &["run", "--datasets", "datasets"],
        says: &["is not the data", "chains is 4 there but 8"],
    },
    Case {
        issue: "5: quality on a same-named dataset of other settings",
        prepare: other_data,
        binary: QUALITY,
        args: &["run", "--datasets", "datasets"],
        says: &["is not the data", "chains"],
    },
    Case {
        issue: "6: an init_std that saturates every unit trained to meaningless numbers",
        prepare: |r| bad_config(r, |c| c["init_std"] = 1e6.into()),
        binary: FIG3,
        args: &[
            "--config",
            "bad.json",
            "--out",
            "sat",
            "--datasets",
            "datasets",
        ],
        says: &["init_std must be between 0 and 1, got 1000000"],
    },
    Case {
        issue: "6: a penalty that overwhelms the data",
        prepare: |r| bad_config(r, |c| c["training"]["cd"]["l2"] = 1e6.into()),
        binary: FIG3,
        args: &[
            "--config",
            "bad.json",
            "--out",
            "pen",
            "--datasets",
            "datasets",
        ],
        says: &["l2 must be between 0 and 1"],
    },
    Case {
        issue: "6: fig2 --j0 1e6 wrote null (mapping capped its coupling, fig2 did not)",
        prepare: nothing,
        binary: FIG2,
        args: &["--out", "f2", "--j0", "1e6"],
        says: &["--j0 must be above 0 and at most 10"],
    },
    Case {
        issue: "8: a sweep axis on a key with '_' did not say to give it a name",
        prepare: |r| {
            let spec = r#"{"base": {"preset": "quick"},
                "axes": [{"key": "training.learning_rate", "values": [0.1, 0.2]}]}"#;
            std::fs::write(r.join("lr.json"), spec).unwrap();
        },
        binary: SWEEP,
        args: &["plan", "lr.json", "--out", "lr"],
        says: &["give the axis a \"name\""],
    },
    Case {
        issue: "9: sweep plan on a folder it did not write suggested --force",
        prepare: |r| {
            std::fs::create_dir(r.join("mine")).unwrap();
            std::fs::write(r.join("mine/thesis.tex"), "x").unwrap();
        },
        binary: SWEEP,
        args: &["plan", "tiny.json", "--out", "mine"],
        says: &["is not a sweep folder", "choose another --out"],
    },
    Case {
        issue: "10: a config value of the wrong type named neither key nor line",
        prepare: |r| bad_config(r, |c| c["training"]["epochs"] = "8".into()),
        binary: FIG3,
        args: &[
            "--config",
            "bad.json",
            "--out",
            "typed",
            "--datasets",
            "datasets",
        ],
        says: &["key 'training.epochs' (line", "expected usize"],
    },
    Case {
        issue: "11: --out an existing file suggested --force",
        prepare: |r| std::fs::write(r.join("afile"), "x").unwrap(),
        binary: FIG3,
        args: &[
            "--config",
            "small.json",
            "--out",
            "afile",
            "--datasets",
            "datasets",
            "--force",
        ],
        says: &["afile: it is a file, not a folder, and is never replaced"],
    },
    Case {
        issue: "14: --resume of a finished run with a damaged run.json rewrote every output",
        prepare: |r| std::fs::write(r.join("run/run.json"), "{\"resumed\": fal").unwrap(),
        binary: FIG3,
        args: &["--out", "run", "--datasets", "datasets", "--resume"],
        says: &["run.json", "nothing was changed"],
    },
    Case {
        issue: "15: isy_flow --samples 1 named a chains setting it has no flag for",
        prepare: nothing,
        binary: ISY_FLOW,
        args: &["--samples", "1", "--out", "isy"],
        says: &["--samples must be at least 8"],
    },
    Case {
        issue: "15: rg ignored weights beyond the layers its config lists",
        prepare: |r| {
            let path = r.join("run/config.json");
            let mut c: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            c["layers"] = serde_json::json!([64, 16]);
            std::fs::write(&path, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
        },
        binary: RG,
        args: &["run", "--datasets", "datasets"],
        says: &["layer2_W.npy exists, but config.json's layers [64, 16] stop before it"],
    },
];

#[test]
fn bad_input_is_refused_in_one_line_naming_the_fault_and_nothing_changes() {
    let template = finished_run();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sweeps/tiny.json"),
        template.path().join("tiny.json"),
    )
    .unwrap();
    for case in CASES {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        copy_tree(template.path(), root);
        (case.prepare)(root);
        let before = common::snapshot(root);
        let o = run(case.binary, case.args, root);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{}: {e}", case.issue);
        // Progress may precede it; the error is one line.
        let errors: Vec<&str> = e.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "{}: not one error line: {e}", case.issue);
        assert_eq!(
            e.lines().last(),
            errors.first().copied(),
            "{}: {e}",
            case.issue
        );
        assert!(!e.contains("panicked"), "{}: {e}", case.issue);
        for needle in case.says {
            assert!(
                e.contains(needle),
                "{}: should say '{needle}': {e}",
                case.issue
            );
        }
        assert_eq!(
            common::snapshot(root),
            before,
            "{}: something changed",
            case.issue
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_edges_of_the_accepted_ranges_train_the_small_config_to_finite_numbers() {
    // Every accepted value must give numbers: the corners of the ranges fig3 --help states.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for (name, penalty, coupling) in [("strong", 1.0, 0.408), ("free", 0.0, 100.0)] {
        config_with(root, &format!("{name}.json"), |c| {
            c["init_std"] = 1.0.into();
            c["data"]["coupling"] = coupling.into();
            c["training"]["learning_rate"] = 1.0.into();
            c["training"]["momentum"] = 0.99.into();
            c["training"]["cd"]["l1"] = penalty.into();
            c["training"]["cd"]["l2"] = penalty.into();
        });
        let config = format!("{name}.json");
        assert_ok(&run(FIG3, &fig3_args(&config, name, &[]), root));
        let metrics: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(name).join("metrics.json")).unwrap())
                .unwrap();
        for layer in metrics["layers"].as_array().unwrap() {
            for epoch in layer["epochs"].as_array().unwrap() {
                for (metric, value) in epoch["values"].as_object().unwrap() {
                    assert!(value.is_number(), "{name}: {metric} is {value}");
                }
            }
        }
        let q = &metrics["first_layer_quality"];
        for key in ["log_partition_forward", "log_partition_reverse"] {
            assert!(q[key]["log_partition"].is_number(), "{name}: {key}: {q}");
        }
        for layer in 1..=2 {
            let path = root.join(name).join(format!("weights/layer{layer}_W.npy"));
            let (_, w) =
                ising_data::npy::decode_f32(&path, &std::fs::read(&path).unwrap()).unwrap();
            assert!(w.iter().all(|x| x.is_finite()), "{name}: layer {layer}");
        }
    }
}

#[test]
fn the_hint_after_an_interrupted_sweep_keeps_its_datasets_folder() {
    // Following the hint regenerated the data elsewhere: it dropped --datasets.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("sweeps/tiny.json");
    assert_ok(&run(
        SWEEP,
        &["plan", spec.to_str().unwrap(), "--out", "sw"],
        root,
    ));
    let args = ["run", "sw", "--datasets", "shared-data"];
    let o = interrupt(SWEEP, root, &args, |l| l.starts_with("started"));
    let (message, code) = (o.stderr, o.code);
    assert_eq!(code, 130, "{message}");
    assert!(
        message.contains("`sweep run sw --jobs 1 --datasets shared-data`"),
        "{message}"
    );
}

#[test]
fn an_inverted_ln_z_bracket_is_not_reported_as_a_result() {
    // ln Z 1.26e12 ± 1.00 (forward) against 1.07e12 ± 1.00 (reverse) was printed as a result.
    use experiments::pretrain::first_layer::bracket_inconsistency;
    use rbm::eval::ais::AisEstimate;
    let ais = |log_partition: f64, std_error: f64| AisEstimate {
        log_partition,
        std_error,
        log_partition_base: 0.0,
        effective_sample_size: 10.0,
    };
    let why = bracket_inconsistency(&ais(1.26e12, 1.0), &ais(1.07e12, 1.0)).unwrap();
    assert!(
        why.contains("standard errors") && why.contains("not results"),
        "{why}"
    );
    assert!(bracket_inconsistency(&ais(1.0, f64::NAN), &ais(2.0, 0.1)).is_some());
    // The paper preset's bracket (forward below reverse) and an overlap within 4σ pass.
    assert!(bracket_inconsistency(&ais(2944.78, 0.94), &ais(2945.69, 0.40)).is_none());
    assert!(bracket_inconsistency(&ais(2327.68, 0.58), &ais(2326.70, 0.43)).is_none());

    // A run at the edges of the ranges whose AIS does not converge says so instead.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    config_with(root, "fast.json", |c| {
        c["init_std"] = 1.0.into();
        c["training"]["learning_rate"] = 1.0.into();
        c["training"]["momentum"] = 0.99.into();
        c["training"]["cd"]["l1"] = 0.0.into();
    });
    let o = run(FIG3, &fig3_args("fast.json", "fast", &[]), root);
    assert_ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("fast/metrics.json")).unwrap()).unwrap();
    let q = &metrics["first_layer_quality"];
    match q["inconsistent"].as_str() {
        Some(why) => {
            assert!(out.contains("layer 1: no likelihood result"), "{out}");
            assert!(!out.contains("held-out KL per spin"), "{out}");
            assert!(why.contains("standard errors"), "{why}");
        }
        None => assert!(out.contains("held-out KL per spin"), "{out}"),
    }
}
