//! The crate's layout, as the book's architecture chapter (`docs/src/architecture.md`)
//! describes it: the modules of `rbm` import each other without a circle, `eval` does not
//! import `train`, and the workspace's `unsafe` code is all in `rbm`'s `kernel` module. Read
//! from the sources, so a change that breaks the layout fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of a source file without `//` comments (doc comments included).
fn code_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("a readable source file")
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => l[..i].to_string(),
            None => l.to_string(),
        })
        .collect()
}

/// The top-level module of `rbm` a file belongs to (`kernel` for `src/kernel/step.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib").then(|| name.to_string())
}

/// Every `crate::NAME` a file's code refers to.
fn crate_references(lines: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in lines {
        let mut rest = line.as_str();
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_lowercase()) {
                out.insert(name);
            }
            rest = after;
        }
    }
    out
}

fn has_unsafe(lines: &[String]) -> bool {
    lines.iter().any(|l| {
        l.match_indices("unsafe").any(|(i, _)| {
            let before = l[..i].chars().next_back();
            let after = l[i + 6..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn the_modules_of_rbm_form_no_circle_and_eval_does_not_import_train() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let refs = crate_references(&code_lines(file));
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(refs.into_iter().filter(|r| *r != module));
    }
    assert!(graph.contains_key("train") && graph.contains_key("kernel"));
    assert!(
        !graph["eval"].contains("train"),
        "eval imports train: {:?}",
        graph["eval"]
    );
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(i) = path.iter().position(|p| p == node) {
            panic!("an import circle: {:?} → {node}", &path[i..]);
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    // The search would find a circle: a check of the check.
    let mut circular = graph.clone();
    circular
        .entry("noise".into())
        .or_default()
        .insert("train".into());
    let found = std::panic::catch_unwind(|| {
        let mut done = BTreeSet::new();
        for node in circular.keys() {
            visit(node, &circular, &mut Vec::new(), &mut done);
        }
    });
    assert!(found.is_err(), "a circle added on purpose is found");
}

#[test]
fn unsafe_code_lives_only_in_the_kernel_module() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .join("../..")
        .canonicalize()
        .expect("the workspace root");
    let kernel = manifest
        .join("src/kernel")
        .canonicalize()
        .expect("the kernel");
    let mut files = Vec::new();
    for dir in ["crates/rbm/src", "crates/ising-data/src", "experiments/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 30, "the workspace's sources were found");
    let mut with_unsafe: Vec<_> = files
        .iter()
        .filter(|f| has_unsafe(&code_lines(f)))
        .collect();
    assert!(
        with_unsafe.iter().any(|f| f.starts_with(&kernel)),
        "the kernel's unsafe code was seen"
    );
    with_unsafe.retain(|f| !f.starts_with(&kernel));
    assert!(
        with_unsafe.is_empty(),
        "unsafe outside the kernel: {with_unsafe:?}"
    );
}
