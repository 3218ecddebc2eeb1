//! The workspace's code layout, read from the sources: no function outside tests is over
//! [`MAX_LINES`] lines. `rbm`'s CD step (`kernel/step.rs` `cd_step`) is exempt by name, as the
//! rule allows for the kernel's hot loop, whose parts share registers and buffers.

use std::path::{Path, PathBuf};

/// The longest function, in lines from its signature to its closing brace.
const MAX_LINES: usize = 100;

/// Exempt by name: the fused CD step, whose parts share registers and buffers.
const EXEMPT: &[(&str, &str)] = &[("crates/rbm/src/kernel/step.rs", "cd_step")];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace folder")
        .to_path_buf()
}

/// The `.rs` files of the workspace's library and binary sources (`src/` folders).
fn sources() -> Vec<PathBuf> {
    let root = workspace();
    let mut dirs = vec![root.join("experiments/src")];
    for entry in std::fs::read_dir(root.join("crates")).expect("crates/") {
        dirs.push(entry.expect("an entry").path().join("src"));
    }
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in listing {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The name of the function a line declares, when it opens a body (`fn name(…` not ending
/// in `;`).
fn declared_function(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace();
    while let Some(word) = words.next() {
        match word {
            "pub" | "const" | "async" | "unsafe" | "extern" | "\"C\"" => continue,
            w if w.starts_with("pub(") => continue,
            "fn" => {
                let name = words.next()?;
                let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
                return (!line.trim_end().ends_with(';')).then_some(&name[..end]);
            }
            _ => return None,
        }
    }
    None
}

/// Every function outside `#[cfg(test)]` modules: (name, first line, length in lines).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let closing = |from: usize, ind: usize| {
        (from + 1..lines.len()).find(|&j| lines[j].trim_end() == format!("{}}}", " ".repeat(ind)))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim() == "#[cfg(test)]" {
            // Skip the test module (or item) that follows.
            let next = i + 1;
            i = closing(next, indent(lines.get(next).copied().unwrap_or("")))
                .map_or(next, |j| j + 1);
            continue;
        }
        if let Some(name) = declared_function(line)
            && let Some(end) = closing(i, indent(line))
        {
            out.push((name.to_string(), i + 1, end - i + 1));
        }
        i += 1;
    }
    out
}

#[test]
fn no_function_outside_tests_is_over_100_lines() {
    let root = workspace();
    let mut long = Vec::new();
    for file in sources() {
        let rel = file
            .strip_prefix(&root)
            .expect("in the workspace")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).expect("a readable source");
        for (name, line, length) in functions(&text) {
            if length > MAX_LINES && !EXEMPT.contains(&(rel.as_str(), name.as_str())) {
                long.push((rel.clone(), name, line, length));
            }
        }
    }
    let faults: Vec<String> = long
        .iter()
        .map(|(file, name, line, length)| {
            format!("{file}:{line} `{name}` is {length} lines, over {MAX_LINES}: split it by role")
        })
        .collect();
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn the_function_reader_sees_bodies_and_skips_test_modules() {
    let text = "pub fn a(x: u8) -> u8 {\n    x\n}\nfn b();\n#[cfg(test)]\nmod tests {\n    fn c() {\n    }\n}\n    pub(crate) fn d() {\n        1\n    }\n";
    let found = functions(text);
    assert_eq!(
        found,
        vec![("a".to_string(), 1, 3), ("d".to_string(), 10, 3)],
        "{found:?}"
    );
}
