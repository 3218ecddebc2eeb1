//! The workspace's code layout, read from the sources: no function outside tests is over
//! [`MAX_LINES`] lines (none is exempt: `rbm`'s fused CD step, the one candidate, is split into
//! parts inlined into its instruction-set level, at the same speed); the files
//! of each library import each other without a circle; and library code reports through
//! [`experiments::progress`] (or returns what it has to say), never with `println!`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest function, in lines from its signature to its closing brace.
const MAX_LINES: usize = 100;

/// Exempt by name (file, function): none. A function of a hot loop whose split measurably
/// costs speed would be listed here, with the measurement in the README.
const EXEMPT: &[(&str, &str)] = &[];

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
            } else if path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Whether `path` is a test module in a file of its own (`#[cfg(test)] mod tests;`).
fn is_test_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "tests.rs")
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

/// The index of the line after the `#[cfg(test)]` item that starts at line `at`: one line
/// ending in `;` (`mod tests;`), or up to the closing brace at its indent.
fn after_test_item(lines: &[&str], at: usize) -> usize {
    let Some(first) = lines.get(at) else {
        return at;
    };
    if first.trim_end().ends_with(';') {
        return at + 1;
    }
    let close = format!("{}}}", " ".repeat(first.len() - first.trim_start().len()));
    (at + 1..lines.len())
        .find(|&j| lines[j].trim_end() == close)
        .map_or(at, |j| j + 1)
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
            i = after_test_item(&lines, i + 1);
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

/// The one library file that writes to the terminal: the reporter the binaries hand to the
/// library.
const TERMINAL: &str = "experiments/src/progress.rs";

/// The crates whose library files are checked for import circles.
const LIBRARIES: &[&str] = &["crates/ising-data", "crates/rbm", "experiments"];

/// A source file's code: `//` comments and `#[cfg(test)]` items removed.
fn library_code(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim() == "#[cfg(test)]" {
            i = after_test_item(&lines, i + 1);
            continue;
        }
        let code = line.find("//").map_or(line, |k| &line[..k]);
        out.push_str(code);
        out.push('\n');
        i += 1;
    }
    out
}

/// The tokens of code that matter for paths: identifiers, `::`, braces, commas, `*`, `;`,
/// `(`, `)`, `.`; other punctuation becomes a separator, white space and literals go.
fn tokens(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
            continue;
        }
        if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
            continue;
        }
        if c == '\'' {
            // Skip a character literal ('x', '\n'); a lifetime is left as a separator.
            let end = if chars.get(i + 1) == Some(&'\\') {
                i + 3
            } else {
                i + 2
            };
            if chars.get(end) == Some(&'\'') {
                i = end + 1;
                continue;
            }
        }
        if c == '"' {
            // Skip a string literal.
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
        } else if "{},*;().".contains(c) {
            out.push(c.to_string());
        } else if !c.is_whitespace() {
            out.push(" ".into());
        }
        i += 1;
    }
    out
}

/// The paths of a use tree starting at `tokens[*at]`, each with its alias (the name it
/// brings in); advances `at` past the tree.
fn use_tree(tokens: &[String], at: &mut usize, prefix: &[String]) -> Vec<(Vec<String>, String)> {
    let mut path = prefix.to_vec();
    loop {
        let Some(t) = tokens.get(*at) else {
            return Vec::new();
        };
        match t.as_str() {
            "{" => {
                *at += 1;
                let mut out = Vec::new();
                while tokens.get(*at).is_some_and(|t| t != "}") {
                    out.extend(use_tree(tokens, at, &path));
                    if tokens.get(*at).is_some_and(|t| t == ",") {
                        *at += 1;
                    }
                }
                *at += 1;
                return out;
            }
            "*" => {
                *at += 1;
                return vec![(path, "*".into())];
            }
            "::" | " " => *at += 1,
            "," | "}" | ";" => {
                let alias = path.last().cloned().unwrap_or_default();
                return vec![(path, alias)];
            }
            "as" => {
                *at += 1;
                while tokens.get(*at).is_some_and(|t| t == " ") {
                    *at += 1;
                }
                let alias = tokens.get(*at).cloned().unwrap_or_default();
                *at += 1;
                return vec![(path, alias)];
            }
            word => {
                path.push(word.to_string());
                *at += 1;
            }
        }
    }
}

/// One file's imports: every use path and every path written inline from `crate`, `super`,
/// `self` or a module's name (relative to the file's module), and the names the file
/// re-exports.
#[derive(Default)]
struct Imports {
    used: Vec<Vec<String>>,
    reexports: BTreeMap<String, Vec<String>>,
}

/// `path`, written inside the inline modules `inline` of a file, relative to the file's
/// module (`super::x` inside `mod profiling { … }` is `self::x`).
fn from_file(inline: &[String], path: Vec<String>) -> Vec<String> {
    if inline.is_empty() {
        return path;
    }
    let supers = path.iter().take_while(|p| *p == "super").count();
    match path.first().map(String::as_str) {
        Some("super") if supers <= inline.len() => {
            let mut out = vec!["self".to_string()];
            out.extend(inline[..inline.len() - supers].iter().cloned());
            out.extend(path[supers..].iter().cloned());
            out
        }
        Some("super") => {
            let mut out = vec!["super".to_string(); supers - inline.len()];
            out.extend(path[supers..].iter().cloned());
            out
        }
        Some("self") => [&["self".to_string()], inline, &path[1..]].concat(),
        _ => path,
    }
}

/// A path written inline from `tokens[i]`: the identifiers joined by `::`, and the index
/// after it.
fn inline_path(tokens: &[String], i: usize) -> (Vec<String>, usize) {
    let is_word = |t: &String| t.chars().all(|c| c.is_alphanumeric() || c == '_');
    let mut path = vec![tokens[i].clone()];
    let mut j = i + 1;
    while tokens.get(j).is_some_and(|t| t == "::") && tokens.get(j + 1).is_some_and(is_word) {
        path.push(tokens[j + 1].clone());
        j += 2;
    }
    (path, j)
}

fn imports(code: &str) -> Imports {
    let tokens = tokens(code);
    let mut out = Imports::default();
    // The inline modules (`mod name { … }`) the reader is in, with the brace depth each opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let names: Vec<String> = inline.iter().map(|(n, _)| n.clone()).collect();
        match tokens[i].as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if tokens.get(i + 2).is_some_and(|t| t == "{") => {
                inline.push((tokens[i + 1].clone(), depth));
            }
            "use" => {
                let back: Vec<&String> = tokens[..i]
                    .iter()
                    .rev()
                    .filter(|t| *t != " ")
                    .take(4)
                    .collect();
                let public = back.first().is_some_and(|t| *t == "pub")
                    || (back.first().is_some_and(|t| *t == ")")
                        && back.contains(&&"pub".to_string()));
                i += 1;
                for (path, alias) in use_tree(&tokens, &mut i, &[]) {
                    let path = from_file(&names, path);
                    if public && alias != "*" && names.is_empty() {
                        out.reexports.insert(alias, path.clone());
                    }
                    out.used.push(path);
                }
                continue;
            }
            t if tokens.get(i + 1).is_some_and(|n| n == "::")
                && t.chars().next().is_some_and(|c| c.is_lowercase())
                && (i == 0 || tokens[i - 1] != ".") =>
            {
                let (path, next) = inline_path(&tokens, i);
                out.used.push(from_file(&names, path));
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// A library's files by module path (`["pretrain", "stack"]` for `src/pretrain/stack.rs`),
/// binaries left out.
fn library_files(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() && !path.ends_with("bin") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
                files.push(path);
            }
        }
    }
    let mut out = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("under src");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .collect();
        if parts == ["main"] {
            continue;
        }
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        out.insert(parts, file);
    }
    out
}

/// Which files each file imports from, with the first path that does.
type Graph = BTreeMap<PathBuf, BTreeMap<PathBuf, String>>;

/// The file-level import graph of one library (re-exports followed to the file that defines
/// the item).
fn import_graph(src: &Path) -> Graph {
    let files = library_files(src);
    let parsed: BTreeMap<&Vec<String>, Imports> = files
        .iter()
        .map(|(m, f)| {
            (
                m,
                imports(&library_code(
                    &std::fs::read_to_string(f).expect("a source"),
                )),
            )
        })
        .collect();
    // The file that defines `abs` (a path from the crate root), following re-exports.
    let resolve = |abs: Vec<String>| -> Option<&PathBuf> {
        let mut abs = abs;
        for _ in 0..8 {
            let n = (0..=abs.len())
                .rev()
                .find(|&n| files.contains_key(&abs[..n]))?;
            let module = abs[..n].to_vec();
            let Some(item) = abs.get(n) else {
                return files.get(&module);
            };
            match parsed[&module].reexports.get(item) {
                Some(target) => {
                    let mut next = absolute(&module, target, &files)?;
                    next.extend(abs[n + 1..].iter().cloned());
                    abs = next;
                }
                None => return files.get(&module),
            }
        }
        None
    };
    let mut graph = BTreeMap::new();
    for (module, file) in &files {
        let mut edges = BTreeMap::new();
        for path in &parsed[module].used {
            if let Some(target) = absolute(module, path, &files).and_then(&resolve)
                && target != file
            {
                edges
                    .entry(target.clone())
                    .or_insert_with(|| path.join("::"));
            }
        }
        graph.insert(file.clone(), edges);
    }
    graph
}

/// `path`, written in the file of module `module`, as a path from the crate root; `None` for
/// a path into another crate.
fn absolute(
    module: &[String],
    path: &[String],
    files: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let first = path.first()?;
    match first.as_str() {
        "crate" => Some(path[1..].to_vec()),
        "self" => Some([module, &path[1..]].concat()),
        "super" => {
            let supers = path.iter().take_while(|p| *p == "super").count();
            let base = module.get(..module.len().checked_sub(supers)?)?;
            Some([base, &path[supers..]].concat())
        }
        _ => {
            let child = [module, &path[..1]].concat();
            files.contains_key(&child).then(|| [module, path].concat())
        }
    }
}

/// A circle of the graph, if it has one.
fn circle(graph: &Graph) -> Option<Vec<PathBuf>> {
    fn visit(
        node: &PathBuf,
        graph: &Graph,
        path: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if done.contains(node) {
            return None;
        }
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut found = path[i..].to_vec();
            found.push(node.clone());
            return Some(found);
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_files_of_each_library_import_each_other_without_a_circle() {
    let root = workspace();
    let mut found_all = Vec::new();
    for library in LIBRARIES {
        let src = root.join(library).join("src");
        let graph = import_graph(&src);
        assert!(graph.len() > 8, "{library}'s files were found");
        assert!(
            graph.values().map(BTreeMap::len).sum::<usize>() > graph.len(),
            "{library}'s imports were read"
        );
        // Every circle, one at a time: each found is reported and its closing edge removed.
        let mut reduced = graph.clone();
        while let Some(found) = circle(&reduced) {
            let name = |f: &PathBuf| f.strip_prefix(&src).unwrap_or(f).display().to_string();
            let steps: Vec<String> = found
                .windows(2)
                .map(|w| format!("{} → ({})", name(&w[0]), reduced[&w[0]][&w[1]]))
                .collect();
            found_all.push(format!(
                "{library}: {} {}",
                steps.join(" "),
                name(&found[0])
            ));
            let (from, to) = (&found[found.len() - 2], &found[found.len() - 1]);
            reduced.get_mut(from).expect("a file").remove(to);
        }
        // A check of the check: an edge back from a file to one it imports is found.
        let mut circular = graph.clone();
        let (from, to) = graph
            .iter()
            .find_map(|(f, edges)| edges.keys().next().map(|t| (f.clone(), t.clone())))
            .expect("an import");
        circular
            .get_mut(&to)
            .expect("a file")
            .insert(from, "added".into());
        assert!(
            circle(&circular).is_some(),
            "{library}: a circle added on purpose is found"
        );
    }
    assert!(
        found_all.is_empty(),
        "import circles:\n{}",
        found_all.join("\n")
    );
}

#[test]
fn the_import_reader_follows_reexports_and_relative_paths() {
    let code = library_code(
        "pub use a::{B, c::D as E};\nuse super::x;\nfn f() { crate::y::z(); v.step::<u8>(); let c = '\"'; }\nmod inner {\n    pub use super::q::R;\n}\nfn g() { child::run() }\n#[cfg(test)]\nmod tests {\n    use crate::w;\n}\n",
    );
    let found = imports(&code);
    let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        found.used,
        vec![
            path(&["a", "B"]),
            path(&["a", "c", "D"]),
            path(&["super", "x"]),
            path(&["crate", "y", "z"]),
            path(&["self", "q", "R"]),
            path(&["child", "run"]),
        ]
    );
    assert_eq!(found.reexports["E"], path(&["a", "c", "D"]));
    assert!(!found.reexports.contains_key("x") && !found.reexports.contains_key("R"));
}

/// The printing macros, as written in code.
const PRINTS: &[&str] = &["println!", "eprintln!", "print!", "eprint!"];

fn prints(code: &str) -> bool {
    PRINTS.iter().any(|p| {
        code.match_indices(p).any(|(i, _)| {
            !code[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn library_code_does_not_print() {
    let root = workspace();
    let mut faults = Vec::new();
    for library in LIBRARIES {
        let src = root.join(library).join("src");
        for file in library_files(&src).values() {
            let rel = file.strip_prefix(&root).expect("in the workspace");
            if rel.to_string_lossy().replace('\\', "/") == TERMINAL {
                continue;
            }
            let code = library_code(&std::fs::read_to_string(file).expect("a source"));
            if prints(&code) {
                faults.push(rel.display().to_string());
            }
        }
    }
    assert!(
        faults.is_empty(),
        "library files that print (report through experiments::progress instead): {}",
        faults.join(", ")
    );
    // A check of the check.
    assert!(prints("fn f() { println!(\"x\"); }"));
    assert!(prints("eprint!(\"x\")"));
    assert!(!prints("fn f() { my_println!(\"x\"); }"));
    assert!(!prints(&library_code(
        "#[cfg(test)]\nmod tests {\n    fn f() { println!(); }\n}\n"
    )));
}
