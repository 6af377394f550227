//! The house's rules, checked from the sources' own `use` lines (test modules left out):
//! no module imports one that imports it back, nor does any top-level room (a file or
//! folder of src/); the pure core imports only the pure core; the CNB edge does not import
//! the classic one; the doctor does not import the boot hooks. `cargo test architecture`
//! repeats the check.

use crate::support::repo_dir;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`config::settings`) to the modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module a file of src/ is: `a.rs` and `a/mod.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The code before `mod tests {`, where a module's tests start.
fn without_tests(text: &str) -> &str {
    text.find("\nmod tests {").map_or(text, |at| &text[..at])
}

/// Every `crate::a::b` or `super::c` path in `code`, with `{...}` groups spelled out
/// (`crate::a::{b, c::{self, d}}` is `crate::a::b`, `crate::a::c` and `crate::a::c::d`).
fn paths(code: &str) -> Vec<String> {
    let mut found = vec![];
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let (prefix, tail) = rest[at..].split_at(start.len());
            use_tree(prefix.trim_end_matches(':'), tail, &mut found);
            rest = tail;
        }
    }
    found
}

/// Reads one use tree after `prefix::` from `text`; returns what follows it.
fn use_tree<'a>(prefix: &str, text: &'a str, found: &mut Vec<String>) -> &'a str {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    let text = text.trim_start();
    if let Some(mut group) = text.strip_prefix('{') {
        loop {
            group = use_tree(prefix, group, found).trim_start();
            if let Some(more) = group.strip_prefix(',') {
                group = more;
            }
            if let Some(after) = group.trim_start().strip_prefix('}') {
                return after;
            }
            if group.is_empty() {
                return group;
            }
        }
    }
    let end = text.find(|c: char| !is_name(c)).unwrap_or(text.len());
    let (name, after) = text.split_at(end);
    let path = match name {
        "" | "self" => prefix.to_string(),
        name => format!("{prefix}::{name}"),
    };
    match after.strip_prefix("::") {
        Some(deeper) if !name.is_empty() => use_tree(&path, deeper, found),
        _ => {
            found.push(path);
            // Skip an `as alias`.
            let after = after.trim_start();
            after.strip_prefix("as ").map_or(after, |alias| {
                alias.trim_start().trim_start_matches(is_name)
            })
        }
    }
}

/// The module `path` (seen in `module`) names: the longest known module it starts with.
fn resolve(module: &str, path: &str, known: &BTreeSet<String>) -> Option<String> {
    let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent);
    let absolute = if path == "super" {
        parent.to_string()
    } else if let Some(rest) = path.strip_prefix("super::") {
        if parent.is_empty() {
            rest.to_string()
        } else {
            format!("{parent}::{rest}")
        }
    } else {
        path.trim_start_matches("crate::").to_string()
    };
    let parts: Vec<&str> = absolute.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| known.contains(candidate))
}

fn graph() -> Graph {
    let src = repo_dir().join("src");
    let files: Vec<_> = crate::support::walk(&src)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter(|path| !path.ends_with("main.rs") && !path.ends_with("lib.rs"))
        .collect();
    let known: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(&src).unwrap()))
        .collect();
    let mut graph = Graph::new();
    for file in &files {
        let module = module_of(file.strip_prefix(&src).unwrap());
        let text = std::fs::read_to_string(file).unwrap();
        let imports = paths(without_tests(&text))
            .iter()
            .filter_map(|path| resolve(&module, path, &known))
            .filter(|target| *target != module)
            .collect();
        graph.insert(module, imports);
    }
    graph
}

/// A cycle in `graph`, if there is one: the modules along it.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(path[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut vec![], &mut done))
}

/// The same graph between top-level rooms (`config::settings` is in `config`).
fn rooms(graph: &Graph) -> Graph {
    let room = |module: &str| module.split("::").next().unwrap().to_string();
    let mut rooms = Graph::new();
    for (module, imports) in graph {
        let entry = rooms.entry(room(module)).or_default();
        entry.extend(
            imports
                .iter()
                .map(|i| room(i))
                .filter(|r| *r != room(module)),
        );
    }
    rooms
}

#[test]
fn imports_only_point_down() {
    let graph = graph();
    assert!(graph.len() > 10, "too few modules found: {graph:?}");
    assert_eq!(cycle(&graph), None, "modules that import each other");
    assert_eq!(cycle(&rooms(&graph)), None, "rooms that import each other");
}

#[test]
fn named_rules() {
    let graph = graph();
    let imports = |module: &str| graph.get(module).cloned().unwrap_or_default();
    assert!(!imports("platform::cnb").contains("platform::classic"));
    for module in ["doctor", "doctor::probe", "doctor::report"] {
        for hook in ["platform", "platform::profile_d", "platform::exec_d"] {
            assert!(!imports(module).contains(hook), "{module} imports {hook}");
        }
    }
    let pure = [
        "env",
        "log",
        "composer",
        "cnb_spec",
        "boot",
        "config::settings",
        "config::redis_url",
        "config::save_path",
        "config::secret",
        "config::handler",
    ];
    for module in pure {
        for import in imports(module) {
            assert!(pure.contains(&import.as_str()), "{module} imports {import}");
        }
    }
}

#[test]
fn the_check_sees_a_cycle() {
    let mut graph = Graph::new();
    graph.insert("a".into(), ["b".to_string()].into());
    graph.insert("b".into(), ["c::d".to_string()].into());
    graph.insert("c::d".into(), ["a".to_string()].into());
    assert_eq!(
        cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c::d".into()])
    );
    let known: BTreeSet<String> = ["config::settings", "config", "log"]
        .map(String::from)
        .into();
    assert_eq!(
        resolve("config::save_path", "super::settings::Settings", &known),
        Some("config::settings".into())
    );
    assert_eq!(
        resolve("app", "crate::log::classic", &known),
        Some("log".into())
    );
    assert_eq!(
        paths("use crate::config::{settings::{self, X}, save_path};\nuse super::{a, b as c};"),
        [
            "crate::config::settings",
            "crate::config::settings::X",
            "crate::config::save_path",
            "super::a",
            "super::b"
        ]
    );
}
