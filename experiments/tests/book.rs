//! The book in `docs/` and the README against the code: the run-folder chapter lists every
//! field of every file's serde type, every chapter is in the summary, every relative link and
//! image of the README and the book points at a file, and the README stays short.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `pub` fields of `pub struct name` in `source`.
fn fields(source: &str, name: &str) -> Vec<String> {
    let start = source
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("no struct {name}"));
    let body = &source[start..];
    let end = body.find("\n}").expect("the struct ends");
    body[..end]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub "))
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().to_string()))
        .filter(|n| !n.starts_with("struct"))
        .collect()
}

#[test]
fn the_run_folder_chapter_lists_every_field_of_every_file() {
    let chapter = read(&root().join("docs/src/run-folder.md"));
    let types = [
        ("experiments/src/pretrain/config.rs", "PretrainConfig"),
        ("experiments/src/pretrain/config.rs", "DataConfig"),
        ("experiments/src/run/record.rs", "Metrics"),
        ("experiments/src/run/record.rs", "RunRecord"),
        ("experiments/src/pretrain/stack.rs", "LayerReport"),
        ("experiments/src/pretrain/stack.rs", "KlCheck"),
        ("experiments/src/training.rs", "EpochRecord"),
        ("experiments/src/pretrain/fields.rs", "LayerFields"),
        ("experiments/src/pretrain/fields.rs", "FieldMeasures"),
        (
            "experiments/src/pretrain/first_layer.rs",
            "FirstLayerQuality",
        ),
        ("experiments/src/pretrain/data.rs", "DataSource"),
        ("experiments/src/quality/report.rs", "QualityReport"),
        ("experiments/src/quality/report.rs", "LayerPartition"),
        ("experiments/src/quality/report.rs", "FirstLayerLikelihood"),
        ("experiments/src/quality/report.rs", "Bracket"),
        ("experiments/src/quality/report.rs", "GeneratorReport"),
        ("experiments/src/rg/report.rs", "RgReport"),
        ("experiments/src/rg/report.rs", "RgOptions"),
        ("experiments/src/rg/report.rs", "LayerRg"),
        ("experiments/src/rg/report.rs", "CoarseSpins"),
        ("experiments/src/rg/report.rs", "UnitBlockCorrelation"),
        ("experiments/src/rg/report.rs", "LayerMcrg"),
        ("experiments/src/rg/hamiltonian.rs", "HamiltonianFit"),
        ("experiments/src/rg/hamiltonian.rs", "Coupling"),
        ("experiments/src/rg/mcrg.rs", "McrgTable"),
        ("experiments/src/rg/mcrg.rs", "McrgRow"),
        ("experiments/src/rg/report.rs", "Quartiles"),
        ("experiments/src/rg/coarse.rs", "CoarseCorrelations"),
        ("experiments/src/rg/coarse.rs", "CouplingFit"),
        ("experiments/src/rg/assign.rs", "Assignment"),
        ("crates/ising-data/src/stats.rs", "Estimate"),
        ("crates/rbm/src/eval/ais.rs", "AisEstimate"),
    ];
    for (file, name) in types {
        let heading = format!("### `{name}`");
        let section = chapter
            .split(&heading)
            .nth(1)
            .unwrap_or_else(|| panic!("run-folder.md has no section {heading}"));
        let section = section.split("\n### ").next().unwrap();
        let listed = fields(&read(&root().join(file)), name);
        assert!(!listed.is_empty(), "{name} has no fields");
        for field in listed {
            assert!(
                section.contains(&format!("| `{field}`")),
                "run-folder.md's {name} does not list `{field}` (regenerate its table)"
            );
        }
    }
}

/// The targets of the relative links and images of markdown `text` (no web links, anchors
/// or links in code).
fn relative_links(text: &str) -> Vec<String> {
    let mut fence = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
        }
        if fence {
            continue;
        }
        for (i, _) in line.match_indices("](") {
            let rest = &line[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap_or("");
            if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
                out.push(target.to_string());
            }
        }
    }
    out
}

#[test]
fn every_relative_link_of_the_readme_and_the_book_points_at_a_file() {
    let mut files = vec![root().join("README.md")];
    let src = root().join("docs/src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut checked = 0;
    for file in &files {
        for target in relative_links(&read(file)) {
            let path = file.parent().unwrap().join(&target);
            assert!(path.exists(), "{}: broken link {target}", file.display());
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: the scan is broken"
    );
}

#[test]
fn the_summary_lists_every_chapter_and_the_readme_stays_short() {
    let src = root().join("docs/src");
    let summary = read(&src.join("SUMMARY.md"));
    let listed: BTreeSet<String> = relative_links(&summary).into_iter().collect();
    let chapters: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md") && n != "SUMMARY.md")
        .collect();
    assert_eq!(
        listed, chapters,
        "SUMMARY.md against the chapters in docs/src"
    );
    let readme = read(&root().join("README.md")).lines().count();
    assert!(
        readme <= 200,
        "README.md has {readme} lines; the rest belongs in the book"
    );
}
