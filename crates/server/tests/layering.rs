//! The server's modules depend on each other in one direction: this test reads every source
//! file of `crates/server/src`, collects which top-level module names which other (`crate::x`
//! paths, grouped imports included), and fails on any circle, naming it. It also pins the rule
//! the layout is for: the edge layers (`http`, `ws`) are used by no module but each other and
//! the crate root (`lib.rs` wires them).
//!
//! Run it alone with `cargo test -p ssgwan-server --test layering -- --nocapture` to print the
//! module map.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`None` for the crate roots).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).expect("below src");
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The top-level modules that `crate::` paths in `text` name, grouped imports included.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Items at depth 0 of the balanced braces.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.extend(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                } else if !item.contains("::") {
                    item.push_str("::");
                }
            }
            found.extend(first_ident(&item));
        } else {
            found.extend(first_ident(rest));
        }
    }
    found
}

fn first_ident(text: &str) -> Option<String> {
    let ident: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty() && ident.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .then_some(ident)
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("readable source");
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(named_modules(&text).into_iter().filter(|m| *m != module));
    }
    graph
}

/// A circle in `graph`, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_parser_reads_plain_and_grouped_paths() {
    let text = "use crate::{a::b, c, d::{e, f}};\nlet x = crate::g::h();";
    let names: Vec<String> = named_modules(text).into_iter().collect();
    assert_eq!(names, ["a", "c", "d", "g"]);
    let mut looped = BTreeMap::new();
    looped.insert("x".to_owned(), BTreeSet::from(["y".to_owned()]));
    looped.insert("y".to_owned(), BTreeSet::from(["x".to_owned()]));
    assert_eq!(
        circle(&looped),
        Some(vec!["x".into(), "y".into(), "x".into()])
    );
}

#[test]
fn server_modules_form_no_circle() {
    let graph = graph();
    for (module, uses) in &graph {
        eprintln!(
            "{module:>12} -> {}",
            Vec::from_iter(uses.iter().cloned()).join(", ")
        );
    }
    assert_eq!(circle(&graph), None, "a module circle");
}

#[test]
fn only_the_edge_layers_use_the_edge_layers() {
    let graph = graph();
    for edge in ["http", "ws"] {
        let users: Vec<&String> = graph
            .iter()
            .filter(|(module, uses)| {
                uses.contains(edge) && !matches!(module.as_str(), "http" | "ws")
            })
            .map(|(module, _)| module)
            .collect();
        assert!(users.is_empty(), "{users:?} depend on `{edge}`");
    }
}
