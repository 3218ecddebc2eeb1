//! Sets `VRG_GIT_COMMIT` to the commit this crate was built from, for `--version`.

fn main() {
    let commit = git_commit(&[".", "../../Cargo.toml", "../../Cargo.lock"]);
    println!("cargo:rustc-env=VRG_GIT_COMMIT={commit}");
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
