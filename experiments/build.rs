//! Sets `BURN_VERSION` to the version of the `burn` crate resolved in the workspace's
//! `Cargo.lock`, and `VRG_GIT_COMMIT` to the commit the workspace was built from, so that
//! `--version` and a run's record name both.

use std::path::Path;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let lock = Path::new(&manifest_dir).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let version = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| locked_version(&text, "burn"));
    let version = version.unwrap_or_else(|| {
        println!(
            "cargo:warning=no `burn` package in {}; runs record its version as \"unknown\"",
            lock.display()
        );
        "unknown".into()
    });
    println!("cargo:rustc-env=BURN_VERSION={version}");
    let commit = git_commit(&[".", "../crates", "../Cargo.toml", "../Cargo.lock"]);
    println!("cargo:rustc-env=VRG_GIT_COMMIT={commit}");
}

/// The version of package `name` in the text of a `Cargo.lock` (the first, if several).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == wanted {
            let version = lines
                .next()?
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(version.to_string());
        }
    }
    None
}

/// The commit the sources were built from (`git rev-parse --short=12 HEAD`), with `-modified`
/// appended when the files under `paths` (relative to the package) differ from it; `unknown`
/// outside a git checkout (a packaged crate). Asks cargo to run this again when HEAD moves,
/// the index changes or a file under `paths` changes. The git command line is the whole of
/// it: two calls, where a build-info crate would add its dependency tree.
fn git_commit(paths: &[&str]) -> String {
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    for path in paths {
        println!("cargo::rerun-if-changed={path}");
    }
    let watched = ["HEAD", "index", "packed-refs"]
        .into_iter()
        .map(String::from)
        .chain(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name])
            && std::path::Path::new(&path).exists()
        {
            println!("cargo::rerun-if-changed={path}");
        }
    }
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".into();
    };
    let status = [&["status", "--porcelain", "--"][..], paths].concat();
    match git(&status) {
        Some(changes) if changes.is_empty() => commit,
        _ => format!("{commit}-modified"),
    }
}
