//! The floors of `architecture.md`, kept: every `crate::` path under `src/`
//! points to the same floor or a lower one, and the modules of one floor do
//! not import each other in a circle. The floor table is written here once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules by floor, highest first; a module may name its own
/// floor (without a cycle) and every floor below it, never one above.
const FLOORS: &[&[&str]] = &[
    // the command line; hands over to the library
    &["main", "cli"],
    // wiring: builds the server from a Config
    &["app"],
    // routing, the pipeline, middleware, /health, /metrics; `rest` is the
    // REST face of the same methods, a sibling of the form-POST pipeline;
    // `web` is the browser's face (sign-in, authorize, account): cookies,
    // redirects and CSRF checks, HTTP through and through, so it answers
    // requests itself instead of handing a page value up
    &["http", "rest", "web"],
    // pages as values
    &["docs"],
    // the registry, handlers, running one method, and the state they share
    // (`methods::state::AppState`, which holds the registry)
    &["methods"],
    // domain rules and plain mechanisms; `demo` seeds domain data (a user,
    // a catalogue), so it sits beside the rules it calls
    &["media", "accounts", "ops", "demo"],
    // wire types; `client` signs and sends a call with them
    &["protocol", "answer", "client"],
    // the storage seam and its backends
    &["store"],
    // key and certificate files on disk: they only write through
    // `private_file` and are read by the wiring and the pages
    &["tls", "server_key"],
    // the ground; `swap` (a value replaced whole on reload), `cidr` (address
    // ranges) and `wire` (versions, the timestamp, the refusals `ApiError`
    // wraps) are small values the configuration, the key ring and the error
    // type read
    &[
        "config",
        "clock",
        "crypto",
        "error",
        "private_file",
        "swap",
        "cidr",
        "wire",
    ],
];

fn floor_of(module: &str) -> Option<usize> {
    let from_top = FLOORS.iter().position(|f| f.contains(&module))?;
    Some(FLOORS.len() - from_top)
}

/// The top-level module a file under `src/` belongs to.
fn module_of(rel: &Path) -> String {
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let first = parts.next().unwrap_or_default().to_string();
    match first.strip_suffix(".rs") {
        Some(stem) if rel.components().count() == 1 => stem.to_string(),
        _ => first,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text with `//` comments blanked (line numbers kept).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // a `//` inside a string ("http://") cuts the rest of that line
            // too, which only drops text, never adds an import
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first path segment after each `crate::`, with its line: `crate::a::b`
/// gives `a`; `crate::{a::{b, c}, d}` gives `a` and `d`.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let line_at = |i: usize| bytes[..i].iter().filter(|&&c| c == '\n').count() + 1;
    let needle: Vec<char> = "crate::".chars().collect();
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        let starts_word = i == 0 || !is_ident(bytes[i - 1]);
        if !(starts_word && bytes[i..i + needle.len()] == needle[..]) {
            i += 1;
            continue;
        }
        let line = line_at(i);
        let mut j = i + needle.len();
        if bytes.get(j) == Some(&'{') {
            // a group: the first segment of every item at depth one
            let mut depth = 0;
            let mut expect = true;
            while j < bytes.len() {
                let c = bytes[j];
                match c {
                    '{' => {
                        depth += 1;
                        expect = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => expect = true,
                    c if expect && is_ident(c) => {
                        let start = j;
                        while j < bytes.len() && is_ident(bytes[j]) {
                            j += 1;
                        }
                        found.push((line_at(start), bytes[start..j].iter().collect()));
                        expect = false;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
            }
        } else {
            let start = j;
            while j < bytes.len() && is_ident(bytes[j]) {
                j += 1;
            }
            if j > start {
                found.push((line, bytes[start..j].iter().collect()));
            }
        }
        i = j.max(i + 1);
    }
    found
}

struct Import {
    file: String,
    line: usize,
    from: String,
    to: String,
}

fn imports() -> Vec<Import> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap().to_path_buf();
        // `src/bin` holds other crates, whose `crate::` is their own
        if rel.starts_with("bin") || rel == Path::new("lib.rs") {
            continue;
        }
        let from = module_of(&rel);
        if from == "layering_test" {
            continue;
        }
        let text = without_comments(&std::fs::read_to_string(&path).unwrap());
        for (line, to) in crate_paths(&text) {
            if to != from {
                out.push(Import {
                    file: format!("src/{}", rel.display()),
                    line,
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    out
}

#[test]
fn every_module_has_a_floor() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for path in files {
        let rel = path.strip_prefix(&src).unwrap();
        let module = module_of(rel);
        if rel.starts_with("bin") || module == "lib" || module == "layering_test" {
            continue;
        }
        assert!(
            floor_of(&module).is_some(),
            "{}: module `{module}` has no floor in the table",
            rel.display()
        );
    }
}

#[test]
fn imports_point_down() {
    let mut upward = Vec::new();
    // same-floor imports, for the cycle check
    let mut sideways: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for import in imports() {
        let (Some(from), Some(to)) = (floor_of(&import.from), floor_of(&import.to)) else {
            // a path that is not a module of ours (`crate::Foo` from lib.rs)
            continue;
        };
        if to > from {
            upward.push(format!(
                "{}:{}: `{}` names the higher `{}`",
                import.file, import.line, import.from, import.to
            ));
        } else if to == from {
            sideways
                .entry(import.from.clone())
                .or_default()
                .insert(import.to.clone());
        }
    }
    assert!(
        upward.is_empty(),
        "imports up a floor:\n{}",
        upward.join("\n")
    );

    // within a floor: no circle (a depth-first search for a back edge)
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in sideways.keys() {
        if let Some(circle) = visit(node, &sideways, &mut Vec::new(), &mut done) {
            panic!(
                "modules of one floor import each other: {}",
                circle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_reader_finds_grouped_and_nested_paths() {
    let text = "use crate::{a::{b, c}, d};\nlet x = crate::e::f();\nnotcrate::g";
    let found: Vec<_> = crate_paths(text).into_iter().map(|(_, m)| m).collect();
    assert_eq!(found, ["a", "d", "e"]);
}

/// The storage seam holds: only `src/store/` names the database driver, so
/// a second backend is one more implementation behind the seam.
#[test]
fn only_the_store_names_the_database_driver() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap();
        if rel.starts_with("store") || rel == Path::new("layering_test.rs") {
            continue;
        }
        let text = without_comments(&std::fs::read_to_string(&path).unwrap());
        for (n, line) in text.lines().enumerate() {
            if line.contains("rusqlite") || line.contains("tokio_postgres") {
                found.push(format!("src/{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "database types outside src/store/:\n{}",
        found.join("\n")
    );
}
