//! The `ising-data` binary on bad input (issue: "Nothing lost, nothing silent"): each test
//! reproduces one reported failure and checks the fix. `--force` replaces only a dataset
//! folder this program wrote; killed writes leave nothing behind for good; couplings whose
//! exact values overflow are refused before any work; errors are one line even with
//! `RUST_BACKTRACE=1`; a closed output pipe ends the program quietly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ising_data::folder::{self, MARKER_FILE, Marker};

fn ising_data(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ising-data"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("ising-data runs")
}

fn generate(out: &str, seed: &str, extra: &[&str], cwd: &Path) -> Output {
    let mut args = vec![
        "generate",
        "--dim",
        "2",
        "--size",
        "6",
        "--samples",
        "40",
        "--chains",
        "2",
        "--seed",
        seed,
        "--out",
        out,
    ];
    if !extra.contains(&"--coupling") {
        args.extend(["--coupling", "0.408"]);
    }
    args.extend(extra);
    ising_data(&args, cwd)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "ising-data failed: {}", stderr(o));
}

fn assert_refused(o: &Output, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "expected a refusal, got: {e}");
    assert!(e.contains(needle), "the error should say '{needle}': {e}");
    assert!(!e.contains("panicked"), "a panic reached the user: {e}");
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            let bytes = if path.is_dir() {
                Vec::new()
            } else {
                std::fs::read(&path).unwrap()
            };
            files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
        }
    }
    files
}

#[test]
fn force_refuses_a_folder_of_other_data_and_touches_nothing() {
    // The reported reproduction: `--out s/datasets --force` deleted s/datasets/A and B.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("s/datasets/A")).unwrap();
    std::fs::create_dir_all(root.join("s/datasets/B")).unwrap();
    std::fs::write(root.join("s/datasets/A/notes.txt"), "mine").unwrap();
    let before = snapshot(root);
    let o = generate("s/datasets", "1", &["--force"], root);
    assert_refused(&o, "not written by this workspace's programs");
    assert_refused(&o, "nothing was changed");
    assert_eq!(snapshot(root), before, "the folder changed");
}

#[test]
fn force_refuses_the_current_folder_even_if_it_is_a_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    assert_ok(&generate("set", "1", &[], tmp.path()));
    let set = tmp.path().join("set");
    let before = snapshot(tmp.path());
    for out in [".", set.to_str().unwrap()] {
        let o = generate(out, "2", &["--force"], &set);
        assert_refused(&o, "current folder");
    }
    assert_eq!(snapshot(tmp.path()), before);
}

#[test]
fn force_replaces_its_own_dataset_but_not_one_with_files_added() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    assert_ok(&generate("set", "1", &[], root));
    let first = std::fs::read(root.join("set/manifest.json")).unwrap();
    // Without --force: refused, naming the flag.
    assert_refused(&generate("set", "2", &[], root), "--force");
    // Its own folder: replaced.
    assert_ok(&generate("set", "2", &["--force"], root));
    let second = std::fs::read(root.join("set/manifest.json")).unwrap();
    assert_ne!(first, second, "the dataset was not replaced");
    assert!(ising_data::load_dataset(&root.join("set")).is_ok());
    // Only the dataset remains at the top: no temporary or backup sibling.
    let names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["set".to_string()]);
    // A dataset folder that was written before markers existed (manifest only) is still ours.
    std::fs::remove_file(root.join("set").join(MARKER_FILE)).unwrap();
    assert_ok(&generate("set", "3", &["--force"], root));
    // A file the user added makes it someone else's.
    std::fs::write(root.join("set/analysis.ipynb"), "{}").unwrap();
    let before = snapshot(root);
    assert_refused(
        &generate("set", "4", &["--force"], root),
        "'analysis.ipynb'",
    );
    assert_eq!(snapshot(root), before);
}

#[test]
fn a_killed_replacement_leaves_nothing_for_good() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    assert_ok(&generate("set", "1", &[], root));
    // What a process killed in the middle of `--force` leaves: a temporary sibling (with the
    // pid of a process that does not exist: above Linux's largest pid, 2^22).
    let stale = root.join(".set.tmp-4999999-123");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("spins.npy"), vec![0u8; 1 << 20]).unwrap();
    let o = generate("set", "2", &["--force"], root);
    assert_ok(&o);
    assert!(!stale.exists(), "the stale temporary is still there");
    assert!(
        stderr(&o).contains("removed"),
        "the cleanup is not reported"
    );
}

#[test]
fn a_backup_whose_replacement_never_arrived_is_put_back() {
    // Killed between moving the old folder aside and renaming the new one into place.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), "old").unwrap();
    let backup = tmp.path().join(".run.old-4999999-7");
    std::fs::rename(&dir, &backup).unwrap();
    let notes = folder::clean_stale_siblings(&dir).unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "old");
    assert!(!backup.exists());
    // Once the replacement exists, a stale backup is removed instead.
    std::fs::create_dir(&backup).unwrap();
    folder::clean_stale_siblings(&dir).unwrap();
    assert!(!backup.exists() && dir.join("a.txt").exists());
    // A live process's temporary (our own pid) is left alone.
    let live = tmp
        .path()
        .join(format!(".run.tmp-{}-1", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    folder::clean_stale_siblings(&dir).unwrap();
    assert!(live.exists());
}

#[test]
fn the_marker_declares_what_force_may_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let marker = Marker::new("test", ["a.json", "*.png", "layer*"]);
    folder::write_folder_atomic(&dir, &[("a.json", b"{}"), ("f.png", b"")], &marker, false)
        .unwrap();
    std::fs::create_dir(dir.join("layer1")).unwrap();
    folder::ensure_replaceable(&dir, "test").unwrap();
    std::fs::write(dir.join("b.json"), "{}").unwrap();
    let e = folder::ensure_replaceable(&dir, "test")
        .unwrap_err()
        .to_string();
    assert!(e.contains("'b.json'"), "{e}");
    // Another program may not replace it.
    std::fs::remove_file(dir.join("b.json")).unwrap();
    let e = folder::ensure_replaceable(&dir, "other")
        .unwrap_err()
        .to_string();
    assert!(e.contains("test wrote it, not other"), "{e}");
    // A symbolic link to our own folder is not replaced through the link.
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    let e = folder::check_destination(&link, true, "test")
        .unwrap_err()
        .to_string();
    assert!(e.contains("symbolic link"), "{e}");
}

#[test]
fn an_unwritable_destination_is_found_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("file"), "x").unwrap();
    let o = generate("file/set", "1", &[], tmp.path());
    assert_refused(&o, "is not a folder");
    assert!(o.stdout.is_empty(), "work was done before the check");
}

#[test]
fn couplings_whose_exact_values_overflow_are_refused_and_what_is_written_loads() {
    let tmp = tempfile::tempdir().unwrap();
    // The reported reproduction: --coupling 200 wrote null exact values that inspect refused.
    let o = generate("hot", "1", &["--coupling", "200"], tmp.path());
    assert_refused(&o, "coupling 200 is too large");
    assert!(!tmp.path().join("hot").exists());
    // The largest coupling the message offers is written, and loads.
    let e = stderr(&o);
    let offered: f64 = e
        .split("couplings up to about ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no largest coupling in: {e}"));
    assert!(offered > 1.0, "{offered}");
    let k = format!("{offered}");
    assert_ok(&generate("cold", "1", &["--coupling", &k], tmp.path()));
    let o = ising_data(&["inspect", "cold"], tmp.path());
    assert_ok(&o);
}

#[test]
fn errors_are_one_line_without_a_backtrace_even_with_rust_backtrace_set() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ising-data"))
        .args(["inspect", "missing"])
        .current_dir(tmp.path())
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(e.lines().count(), 1, "more than one line: {e}");
    assert!(e.starts_with("error: ") && e.contains("missing"), "{e}");
}

#[test]
fn a_closed_output_pipe_ends_the_program_quietly() {
    // `ising-data inspect DIR | head -1` panicked with "failed printing to stdout".
    let tmp = tempfile::tempdir().unwrap();
    assert_ok(&generate("set", "1", &[], tmp.path()));
    // The pipe's reader is gone before the program starts, so its first write fails (closing
    // the reader after the start raced with a program that printed everything first).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_ising-data"))
        .args(["inspect", "set"])
        .current_dir(tmp.path())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(ising_data::cli::BROKEN_PIPE_EXIT),
        "stderr: {e}"
    );
    assert!(e.is_empty(), "it should exit quietly: {e}");
}

#[test]
fn messages_name_the_real_fault() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let o = generate("set", "1", &[], root);
    assert_ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("periodic 6×6 lattice"), "{out}");
    assert!(!out.contains("Square {"), "a debug format: {out}");
    // A manifest whose shape was edited: the manifest contradicts itself.
    let path = root.join("set/manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["shape"] = serde_json::json!([41, 6, 6]);
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let o = ising_data(&["inspect", "set"], root);
    assert_refused(
        &o,
        "manifest.json: its shape [41, 6, 6] contradicts its own config",
    );
    // The limits are in --help.
    let help = ising_data(&["generate", "--help"], root);
    let help = String::from_utf8_lossy(&help.stdout);
    for limit in ["at least 3", "at least 1000", "at least --chains"] {
        assert!(help.contains(limit), "--help lacks '{limit}'");
    }
}

#[test]
fn an_unfinished_replacement_keeps_the_folder_it_replaces_until_its_marker_lets_go() {
    // A replacement built in place lists its backup in its marker until it finishes; a
    // process that died (pid above Linux's largest) left both behind.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let backup = tmp.path().join(".run.old-4999999-7");
    std::fs::create_dir(&backup).unwrap();
    std::fs::write(backup.join("a.txt"), "the finished run").unwrap();
    std::fs::create_dir(&dir).unwrap();
    let marker = Marker::new("test", ["b.txt"]).replacing(vec![".run.old-4999999-7".into()]);
    std::fs::write(dir.join(MARKER_FILE), marker.to_bytes()).unwrap();
    let notes = folder::clean_stale_siblings(&dir).unwrap();
    assert!(backup.join("a.txt").exists(), "the kept run was removed");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("rm -r") && notes[0].contains(".run.old-4999999-7"),
        "{notes:?}"
    );
    assert_eq!(folder::pending_backups(&dir), vec![backup.clone()]);
    // A damaged marker naming anything but this folder's own backups names nothing to remove.
    let victim = tmp.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let bad = Marker::new("test", ["b.txt"]).replacing(vec![
        "../victim".into(),
        "victim".into(),
        ".other.old-4999999-7".into(),
        ".run.tmp-4999999-7".into(),
    ]);
    std::fs::write(dir.join(MARKER_FILE), bad.to_bytes()).unwrap();
    assert_eq!(
        folder::pending_backups(&dir),
        Vec::<std::path::PathBuf>::new()
    );
    std::fs::write(dir.join(MARKER_FILE), marker.to_bytes()).unwrap();
    // Once finished (the marker no longer lists it), the backup goes.
    std::fs::write(
        dir.join(MARKER_FILE),
        Marker::new("test", ["b.txt"]).to_bytes(),
    )
    .unwrap();
    folder::clean_stale_siblings(&dir).unwrap();
    assert!(!backup.exists());
}

#[test]
fn with_two_backups_and_no_folder_the_newest_is_put_back_and_keeps_the_older() {
    // `--force` over an unfinished replacement: the newest backup is that replacement, which
    // lists the first run's backup; both processes died before the newest folder existed.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let first = tmp.path().join(".run.old-4999999-1");
    let second = tmp.path().join(".run.old-4999998-2");
    std::fs::create_dir(&first).unwrap();
    std::fs::write(first.join("a.txt"), "finished").unwrap();
    std::fs::create_dir(&second).unwrap();
    let marker = Marker::new("test", ["a.txt"]).replacing(vec![".run.old-4999999-1".into()]);
    std::fs::write(second.join(MARKER_FILE), marker.to_bytes()).unwrap();
    folder::clean_stale_siblings(&dir).unwrap();
    assert!(
        dir.join(MARKER_FILE).exists(),
        "the newest backup was not put back"
    );
    assert!(first.join("a.txt").exists(), "the finished run was removed");
}

#[test]
fn force_checks_every_depth_and_sub_folders_against_their_own_markers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let write = |path: &str, bytes: &[u8]| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    let marker = Marker::new("test", ["a.json", "w/layer*_W.npy", "nested"]);
    write(MARKER_FILE, &marker.to_bytes());
    write("a.json", b"{}");
    write("w/layer1_W.npy", b"");
    write("w/.layer2_W.npy.tmp-12-345", b"");
    write(
        "nested/.vrg-rbm-output.json",
        &Marker::new("inner", ["x.png"]).to_bytes(),
    );
    write("nested/x.png", b"");
    std::fs::create_dir_all(dir.join("empty/deeper")).unwrap();
    folder::ensure_replaceable(&dir, "test").unwrap();
    for (path, shown) in [
        ("w/notes.txt", "'w/notes.txt'"),
        ("nested/notes.txt", "'nested/notes.txt'"),
        ("empty/deeper/notes.txt", "'empty/deeper/notes.txt'"),
        ("w/sub/layer1_W.npy", "'w/sub/layer1_W.npy'"),
    ] {
        write(path, b"mine");
        let e = folder::ensure_replaceable(&dir, "test")
            .unwrap_err()
            .to_string();
        assert!(e.contains(shown), "{path}: {e}");
        std::fs::remove_file(dir.join(path)).unwrap();
    }
    // A marker from before layouts lists only the top: files inside its sub-folders cannot
    // be told from a user's, so it is refused with a way out.
    let mut old: serde_json::Value = serde_json::from_slice(&marker.to_bytes()).unwrap();
    old.as_object_mut().unwrap().remove("layout");
    old["entries"] = serde_json::json!(["a.json", "w", "nested", "empty"]);
    write(MARKER_FILE, &serde_json::to_vec(&old).unwrap());
    let e = folder::ensure_replaceable(&dir, "test")
        .unwrap_err()
        .to_string();
    assert!(e.contains("older version") && e.contains("'w'"), "{e}");
}

#[test]
fn a_file_as_the_destination_is_refused_with_or_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("afile"), "x").unwrap();
    for force in ["", "--force"] {
        let extra: Vec<&str> = [force].into_iter().filter(|f| !f.is_empty()).collect();
        let o = generate("afile", "1", &extra, tmp.path());
        assert_refused(&o, "it is a file, not a folder, and is never replaced");
        assert!(!stderr(&o).contains("pass --force"), "{}", stderr(&o));
    }
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("afile")).unwrap(),
        "x"
    );
}

#[test]
fn an_impossible_sample_count_is_refused_naming_the_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let o = ising_data(
        &[
            "generate",
            "--dim",
            "2",
            "--size",
            "40",
            "--coupling",
            "0.408",
            "--samples",
            "1000000000000",
            "--seed",
            "1",
            "--out",
            "huge",
        ],
        tmp.path(),
    );
    assert_refused(&o, "bytes of memory");
    assert!(!tmp.path().join("huge").exists());
}

#[test]
fn version_and_help_follow_the_workspace_conventions() {
    let call = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ising-data"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = call(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim_end(),
        format!("ising-data {}", ising_data::cli::VERSION)
    );
    assert!(
        ising_data::cli::VERSION.contains(&format!("(commit {})", ising_data::cli::GIT_COMMIT))
    );
    let o = call(&["--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("Examples:\n  ising-data generate"), "{help}");
    assert!(
        help.trim_end().ends_with(ising_data::cli::EXIT_STATUS_HELP),
        "{help}"
    );
    let o = call(&["generate", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout).replace('\n', " ");
    assert!(help.contains(ising_data::cli::FORCE_HELP), "{help}");
    let o = call(&["--no-such-flag"]);
    assert_eq!(o.status.code(), Some(ising_data::cli::USAGE_EXIT as i32));
}
