//! Sets `BURN_VERSION` to the version of the `burn` crate resolved in the workspace's
//! `Cargo.lock`, so that a run records the Burn it was built with.

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
