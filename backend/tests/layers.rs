//! The house rule, enforced: every `crate::` path in `backend/src` is read, each file is mapped to
//! its top-level module, and an import that goes up a layer, between two domains without a
//! declared edge, or around a cycle fails this test (docs/architecture.md, "The house").
//! A new top-level module fails it too until it is given a place in [`LAYERS`].

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Every top-level module with its layer: a module may import from its own layer's platform-ish
/// peers only as listed in [`ALLOWED`], and from any lower layer.
const LAYERS: &[(&str, Layer)] = &[
    ("platform", Layer::Platform),
    ("identity", Layer::Identity),
    ("tenancy", Layer::Tenancy),
    ("connectors", Layer::Connectors),
    ("leads", Layer::Domain),
    ("contacts", Layer::Domain),
    ("bison", Layer::Domain),
    ("personalization", Layer::Domain),
    ("notifications", Layer::Domain),
    ("zips", Layer::Domain),
    ("prospects", Layer::Domain),
    ("eventbus", Layer::Domain),
    ("automations", Layer::Domain),
    ("reporting", Layer::Reporting),
    ("runtime", Layer::Runtime),
];

/// The only imports between two domains. Adding one is a design decision: say why in
/// docs/architecture.md. The reverse direction of any edge is forbidden (no cycles).
const DOMAIN_EDGES: &[(&str, &str)] = &[
    // A sync or webhook stores leads and tells Slack about interested ones.
    ("bison", "leads"),
    ("bison", "notifications"),
    // The Slack text of a new interested lead is built from the lead's reply.
    ("notifications", "leads"),
    // A disabled webhook endpoint is announced in Slack.
    ("eventbus", "notifications"),
    // Automations drive the contact pipeline (import, DeBounce, weekly batch) for a workspace's
    // ZIP territory, rename its Email Bison campaign, and tell Slack how a run ended.
    ("automations", "contacts"),
    ("automations", "zips"),
    ("automations", "bison"),
    ("automations", "notifications"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Platform,
    Identity,
    Tenancy,
    Connectors,
    Domain,
    Reporting,
    Runtime,
}

/// Which layers each layer may import (besides itself, for everything but domains).
fn may_import(from: Layer, to: Layer) -> bool {
    use Layer::*;
    match from {
        Platform => to == Platform,
        Connectors => matches!(to, Platform | Connectors),
        Identity => matches!(to, Platform | Identity),
        Tenancy => matches!(to, Platform | Identity | Tenancy),
        Domain => matches!(to, Platform | Identity | Tenancy | Connectors),
        Reporting => to != Runtime,
        Runtime => true,
    }
}

/// Items re-exported or defined at the crate root, and where they really live.
fn root_item(name: &str) -> Option<&'static str> {
    match name {
        "Error" | "Result" | "AppState" | "on_db" | "job_queue" | "register_worker" | "register_schedule" | "sql_text_enum" | "record_event" => Some("platform"),
        _ => None,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first segment of every `crate::…` path in `code`, including each item of a
/// `crate::{a::…, b}` group. Comment lines are skipped (doc links are not imports).
fn crate_paths(code: &str) -> BTreeSet<String> {
    let text: String = code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let bytes = text.as_bytes();
    let mut found = BTreeSet::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("crate::") {
        let start = at + i;
        at = start + "crate::".len();
        let before = text[..start].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `my_crate::`
        }
        if bytes.get(at) == Some(&b'{') {
            // A group: the first identifier of each item at depth 1.
            let (mut depth, mut j, mut expect_item) = (1, at + 1, true);
            while j < bytes.len() && depth > 0 {
                match bytes[j] {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    b',' if depth == 1 => expect_item = true,
                    c if expect_item && depth == 1 && (c.is_ascii_alphabetic() || c == b'_') => {
                        let end = text[j..].find(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(text.len(), |e| j + e);
                        found.insert(text[j..end].to_owned());
                        expect_item = false;
                        j = end;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
            }
            at = j;
        } else {
            let end = text[at..].find(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(text.len(), |e| at + e);
            found.insert(text[at..end].to_owned());
        }
    }
    found
}

#[test]
fn every_import_follows_the_layers_and_the_declared_domain_edges() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer_of: BTreeMap<&str, Layer> = LAYERS.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if top == "lib" {
            continue; // the crate root declares the layers and re-exports platform items
        }
        let Some(&from_layer) = layer_of.get(top.as_str()) else {
            problems.push(format!("{}: top-level module `{top}` has no layer in tests/layers.rs", rel.display()));
            continue;
        };
        let code = std::fs::read_to_string(file).unwrap();
        for first in crate_paths(&code) {
            if first == "self" || first == "super" {
                continue;
            }
            let target = match layer_of.get(first.as_str()) {
                Some(_) => first.clone(),
                None => match root_item(&first) {
                    Some(home) => home.to_owned(),
                    None => {
                        problems.push(format!("{}: `crate::{first}` is neither a layer nor a known root item", rel.display()));
                        continue;
                    }
                },
            };
            if target == top {
                continue;
            }
            let to_layer = layer_of[target.as_str()];
            let allowed = if from_layer == Layer::Domain && to_layer == Layer::Domain {
                DOMAIN_EDGES.contains(&(top.as_str(), target.as_str()))
            } else {
                may_import(from_layer, to_layer)
            };
            if !allowed {
                problems.push(format!("{}: `{top}` ({from_layer:?}) imports `{target}` ({to_layer:?})", rel.display()));
            }
            edges.entry(top.clone()).or_default().insert(target);
        }
    }
    // No cycle between top-level modules (depth-first search with colours).
    fn visit<'a>(n: &'a str, edges: &'a BTreeMap<String, BTreeSet<String>>, state: &mut BTreeMap<&'a str, u8>, path: &mut Vec<&'a str>, cycles: &mut Vec<String>) {
        state.insert(n, 1);
        path.push(n);
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => cycles.push(format!("import cycle: {} → {m}", path.join(" → "))),
                Some(_) => {}
                None => visit(m, edges, state, path, cycles),
            }
        }
        path.pop();
        state.insert(n, 2);
    }
    let (mut state, mut cycles) = (BTreeMap::new(), Vec::new());
    for n in edges.keys() {
        if !state.contains_key(n.as_str()) {
            visit(n, &edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    problems.extend(cycles);
    assert!(problems.is_empty(), "the house rules are broken:\n  {}", problems.join("\n  "));
    let tops = std::fs::read_dir(&src).unwrap().count();
    assert!(tops <= 16, "backend/src has {tops} top-level entries; group them into layers (at most 16)");
}

#[test]
fn the_path_reader_sees_groups_and_plain_paths() {
    let code = "use crate::{platform::{db::Db, error::Result}, leads, on_db};\n// crate::runtime in a comment\nfn f() { crate::bison::jobs::x(); my_crate::no(); }";
    let found: Vec<String> = crate_paths(code).into_iter().collect();
    assert_eq!(found, ["bison", "leads", "on_db", "platform"]);
}

/// Server functions and host routes start work only through a domain function that records its
/// run and enqueues in one step (`bison::request_sync`, `contacts::request_verification`…): no
/// file outside `backend` names a queue.
#[test]
fn no_server_function_or_host_route_touches_a_queue() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["app/src", "server/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let code = std::fs::read_to_string(f).unwrap();
            code.contains("Queue::new(") || code.contains("::jobs::") || code.contains(".push_task(")
        })
        .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(offenders.is_empty(), "these files enqueue jobs themselves; call the domain's request_… function instead: {offenders:?}");
}
