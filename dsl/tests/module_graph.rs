//! The files of `dsl/src` refer to each other without going round in circles.
//!
//! The graph: one node per file of `dsl/src`, and an edge from a file to every file it
//! refers to. A reference is
//! - a `mod x;` (or `mod x { … }`) declaration: the parent refers to its child;
//! - a path in a `use` declaration (`use crate::a::b`, `use super::c::{D, e}`,
//!   `use self::f::G`, `use child::H` for a child module declared in the same file);
//! - a path anywhere else in the code that starts with `crate::`, `super::` or `self::`.
//!
//! A path names the file of its longest prefix that is a module. A name that module brings
//! in with a `use` (`crate::Span`, `super::Symbols`: re-exports, or a parent's imports a
//! child sees) names the file it comes from. Comments, string and character literals, and `#[cfg(test)]` items are left out:
//! a file's tests may use the whole crate, as the integration tests do.
//!
//! The one cycle allowed is between a file and its own child (`foo.rs` ↔ `foo/bar.rs`,
//! `lib.rs` ↔ `foo.rs`): the parent declares the child and may call it, the child may
//! `use super::…` what the parent declares. Precisely: in every strongly connected set of
//! files, every edge between two of its files joins a file and its direct parent.
//! Anything else fails, naming one cycle and where each of its references is written.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;

#[test]
fn dsl_files_do_not_refer_to_each_other_in_circles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&root, &root, &mut files);
    assert!(files.len() > 10, "found the sources of dsl/src");
    if let Err(cycle) = check(&files) {
        panic!("{cycle}");
    }
}

#[test]
fn a_cycle_between_siblings_is_found() {
    let files = vec![
        src("lib.rs", "mod a;\nmod b;\n"),
        src("a.rs", "use crate::b::Thing;\n"),
        src("b.rs", "pub struct Thing;\nfn f() { crate::a::g() }\n"),
    ];
    let err = check(&files).unwrap_err();
    assert!(err.contains("a.rs → b.rs → a.rs"), "{err}");
    assert!(err.contains("b.rs:2"), "{err}");
}

#[test]
fn a_cycle_through_a_child_and_a_re_export_is_found() {
    let files = vec![
        src("lib.rs", "mod plan;\nmod lower;\npub use plan::Plan;\n"),
        src(
            "plan.rs",
            "pub struct Plan;\nfn f() { crate::lower::lower() }\n",
        ),
        src("lower.rs", "mod secrets;\npub fn lower() {}\n"),
        src("lower/secrets.rs", "use crate::Plan;\n"),
    ];
    let err = check(&files).unwrap_err();
    assert!(
        err.contains("plan.rs → lower.rs → lower/secrets.rs → plan.rs"),
        "{err}"
    );
}

#[test]
fn a_parent_and_its_child_may_refer_to_each_other() {
    let files = vec![
        src(
            "lib.rs",
            "mod check;\n/// crate::check::x\nfn f() { check::run() }\n",
        ),
        src(
            "check.rs",
            "mod names;\npub struct Symbols;\npub fn run() { names::collect() }\n",
        ),
        src(
            "check/names.rs",
            "use super::Symbols;\nconst A: &str = \"crate::lib\";\n\
             #[cfg(test)]\nmod tests { use crate::check::run; }\n",
        ),
    ];
    assert_eq!(check(&files), Ok(()));
}

/// One source file: its path under `src/`, with `/` between folders, and its text.
struct Source {
    path: String,
    text: String,
}

fn src(path: &str, text: &str) -> Source {
    Source {
        path: path.to_string(),
        text: text.to_string(),
    }
}

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<Source>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_tree(root, &p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(root).unwrap();
            let path = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push(Source {
                path,
                text: std::fs::read_to_string(&p).unwrap(),
            });
        }
    }
}

/// A module's path from the crate root: `lib.rs` is `[]`, `a/b.rs` and `a/b/mod.rs` are
/// `[a, b]`.
fn module_of(path: &str) -> Vec<String> {
    let stem = path.strip_suffix(".rs").unwrap();
    let mut segs: Vec<String> = stem.split('/').map(str::to_string).collect();
    if segs.last().is_some_and(|s| s == "mod" || s == "lib") {
        segs.pop();
    }
    segs
}

/// Where in a file a reference is written, for the message.
#[derive(Clone, Copy, Debug)]
struct At {
    line: usize,
}

/// Checks the graph of `files`; the error names a cycle.
fn check(files: &[Source]) -> Result<(), String> {
    let modules: HashMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (module_of(&f.path), i))
        .collect();
    let code: Vec<String> = files
        .iter()
        .map(|f| cut_tests(&blank_comments_and_literals(&f.text)))
        .collect();
    // What each file re-exports: a name and the absolute path it stands for.
    let reexports: Vec<HashMap<String, Vec<String>>> = files
        .iter()
        .zip(&code)
        .map(|(f, text)| {
            let here = module_of(&f.path);
            let mut out = HashMap::new();
            for (_, tree) in use_declarations(text) {
                for (path, alias) in expand_use_tree(&tree) {
                    if let Some(abs) = absolute(&here, &path, text) {
                        let name = alias.unwrap_or_else(|| abs.last().cloned().unwrap());
                        if name != "*" && name != "self" {
                            out.insert(name, abs);
                        }
                    }
                }
            }
            out
        })
        .collect();
    let resolve = |abs: &[String]| -> Option<usize> {
        let mut path = abs.to_vec();
        for _ in 0..16 {
            let n = (0..=path.len())
                .rev()
                .find(|&n| modules.contains_key(&path[..n]))?;
            let file = modules[&path[..n]];
            match path.get(n).and_then(|name| reexports[file].get(name)) {
                Some(target) if n < path.len() => {
                    let mut next = target.clone();
                    next.extend(path[n + 1..].iter().cloned());
                    path = next;
                }
                _ => return Some(file),
            }
        }
        None
    };
    let mut edges: Vec<BTreeMap<usize, At>> = vec![BTreeMap::new(); files.len()];
    for (i, (f, text)) in files.iter().zip(&code).enumerate() {
        let here = module_of(&f.path);
        let mut add = |abs: Vec<String>, offset: usize| {
            if let Some(j) = resolve(&abs)
                && j != i
            {
                let line = text[..offset].matches('\n').count() + 1;
                edges[i].entry(j).or_insert(At { line });
            }
        };
        for (offset, name) in mod_declarations(text) {
            let mut abs = here.clone();
            abs.push(name);
            add(abs, offset);
        }
        let mut rest = text.clone();
        for (start, tree) in use_declarations(text) {
            for (path, _) in expand_use_tree(&tree) {
                if let Some(abs) = absolute(&here, &path, text) {
                    add(abs, start);
                }
            }
            // Blank the declaration so its paths are not counted again below.
            let end = start + text[start..].find(';').unwrap();
            rest.replace_range(start..end, &" ".repeat(end - start));
        }
        for (offset, path) in paths_in_code(&rest) {
            if let Some(abs) = absolute(&here, &path, text) {
                add(abs, offset);
            }
        }
    }
    let is_parent_edge = |a: usize, b: usize| {
        let (ma, mb) = (module_of(&files[a].path), module_of(&files[b].path));
        (ma.len() + 1 == mb.len() && mb.starts_with(&ma))
            || (mb.len() + 1 == ma.len() && ma.starts_with(&mb))
    };
    let mut found = Vec::new();
    for scc in strongly_connected(&edges) {
        let members: BTreeSet<usize> = scc.iter().copied().collect();
        let not_parent = scc.iter().find_map(|&a| {
            edges[a]
                .keys()
                .find(|&&b| members.contains(&b) && !is_parent_edge(a, b))
                .map(|&b| (a, b))
        });
        if let Some((a, b)) = not_parent {
            found.push(describe(files, &edges, a, b));
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\nMove what both sides need into a file both can depend on (see \
             ARCHITECTURE.md, \"Architecture invariants\").",
            found.join("\n")
        ))
    }
}

/// The cycle through the edge `a → b`: the shortest way back from `b` to `a`.
fn describe(files: &[Source], edges: &[BTreeMap<usize, At>], a: usize, b: usize) -> String {
    let mut back: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([b]);
    while let Some(n) = queue.pop_front() {
        if n == a {
            break;
        }
        for &m in edges[n].keys() {
            if m != b && !back.contains_key(&m) {
                back.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    let mut cycle = vec![a];
    let mut n = a;
    while n != b {
        n = back[&n];
        cycle.push(n);
    }
    cycle.push(a);
    cycle.reverse();
    let names: Vec<&str> = cycle.iter().map(|&i| files[i].path.as_str()).collect();
    let wheres: Vec<String> = cycle
        .windows(2)
        .map(|w| {
            let at = edges[w[0]][&w[1]];
            format!(
                "  {}:{} refers to {}",
                files[w[0]].path, at.line, files[w[1]].path
            )
        })
        .collect();
    format!(
        "dsl/src files refer to each other in a circle: {}\n{}",
        names.join(" → "),
        wheres.join("\n")
    )
}

/// Tarjan's strongly connected components, those of more than one file.
fn strongly_connected(edges: &[BTreeMap<usize, At>]) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e [BTreeMap<usize, At>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        let targets: Vec<usize> = s.edges[v].keys().copied().collect();
        for w in targets {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut scc = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.out.push(scc);
            }
        }
    }
    let n = edges.len();
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

/// A path as written, made absolute from the module `here`. `None` for a path into another
/// crate.
fn absolute(here: &[String], path: &[String], text: &str) -> Option<Vec<String>> {
    let first = path.first()?;
    let mut abs: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => here.to_vec(),
        // A child module declared in this file, used without `self::`.
        name if mod_declarations(text).iter().any(|(_, m)| m == name) => {
            let mut p = here.to_vec();
            p.push(name.to_string());
            return Some(p.into_iter().chain(path[1..].iter().cloned()).collect());
        }
        _ => return None,
    };
    let mut rest = path;
    if first == "crate" || first == "self" {
        rest = &rest[1..];
    }
    while rest.first().is_some_and(|s| s == "super") {
        abs.pop()?;
        rest = &rest[1..];
    }
    abs.extend(rest.iter().cloned());
    Some(abs)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `mod name;` and `mod name {` declarations, with where they are.
fn mod_declarations(text: &str) -> Vec<(usize, String)> {
    words(text)
        .windows(2)
        .filter(|w| w[0].1 == "mod")
        .map(|w| (w[1].0, w[1].1.to_string()))
        .collect()
}

/// The identifiers of a text, with their offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (start, is_ident_char(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Each `use` declaration: where its tree starts and the tree (`a::{b, c::D}`).
fn use_declarations(text: &str) -> Vec<(usize, String)> {
    words(text)
        .into_iter()
        .filter(|(_, w)| *w == "use")
        .filter_map(|(at, _)| {
            let start = at;
            let end = start + text[start..].find(';')?;
            Some((start, text[start + 3..end].to_string()))
        })
        .collect()
}

/// The paths of a use tree, each with its `as` name.
fn expand_use_tree(tree: &str) -> Vec<(Vec<String>, Option<String>)> {
    let tree: String = tree
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let mut out = Vec::new();
    expand(tree.trim(), &[], &mut out);
    out
}

fn expand(tree: &str, prefix: &[String], out: &mut Vec<(Vec<String>, Option<String>)>) {
    let tree = tree.trim().trim_start_matches("::");
    if tree.is_empty() {
        return;
    }
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let mut p = prefix.to_vec();
        p.extend(head);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut part = String::new();
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&part, &p, out);
                    part.clear();
                    continue;
                }
                _ => {}
            }
            part.push(c);
        }
        expand(&part, &p, out);
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (tree, None),
    };
    let mut p = prefix.to_vec();
    p.extend(path.split("::").map(|s| s.trim().to_string()));
    if p.last().is_some_and(|s| s == "self") {
        p.pop();
    }
    out.push((p, alias));
}

/// Paths in code starting with `crate::`, `super::` or `self::`, with where they are.
fn paths_in_code(text: &str) -> Vec<(usize, Vec<String>)> {
    let ws = words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let (at, w) = ws[i];
        let starts_path = matches!(w, "crate" | "super" | "self")
            && text[at + w.len()..].starts_with("::")
            && (at < 2 || !text[..at].ends_with("::"));
        if !starts_path {
            i += 1;
            continue;
        }
        let mut path = vec![w.to_string()];
        let mut end = at + w.len();
        let mut j = i + 1;
        while j < ws.len() && text[end..].starts_with("::") && ws[j].0 == end + 2 {
            path.push(ws[j].1.to_string());
            end = ws[j].0 + ws[j].1.len();
            j += 1;
        }
        out.push((at, path));
        i = j;
    }
    out
}

/// The text with comments, string literals and character literals replaced by spaces
/// (newlines kept, so offsets and lines stay where they were).
fn blank_comments_and_literals(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                let mut j = i;
                while j < b.len() {
                    if b[j..].starts_with(b"/*") {
                        depth += 1;
                        j += 2;
                    } else if b[j..].starts_with(b"*/") {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                blank(&mut out, i, j);
                i = j;
            }
            b'r' if (i == 0 || !is_ident_char(b[i - 1] as char))
                && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 2 + hashes;
                let end = text[body..]
                    .find(&close)
                    .map_or(b.len(), |n| body + n + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'\'' => {
                // A character literal (`'a'`, `'\n'`, `'"'`), or else a lifetime.
                let end = if b.get(i + 1) == Some(&b'\\') {
                    text[i + 2..].find('\'').map(|n| i + 2 + n + 1)
                } else {
                    let c = text[i + 1..].chars().next();
                    c.and_then(|c| {
                        let after = i + 1 + c.len_utf8();
                        (b.get(after) == Some(&b'\'')).then_some(after + 1)
                    })
                };
                match end {
                    Some(end) => {
                        blank(&mut out, i, end);
                        i = end;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).expect("only ASCII was replaced")
}

/// The text with every `#[cfg(test)]` item replaced by spaces.
fn cut_tests(text: &str) -> String {
    let mut out = text.to_string();
    let mut from = 0;
    while let Some(n) = out[from..].find("#[cfg(test)]") {
        let start = from + n;
        let rest = &out[start..];
        let semi = rest.find(';');
        let brace = rest.find('{');
        let end = match (brace, semi) {
            (Some(b), Some(s)) if s < b => start + s + 1,
            (Some(b), _) => {
                let mut depth = 0;
                let mut end = out.len();
                for (k, c) in out[start + b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = start + b + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, Some(s)) => start + s + 1,
            (None, None) => out.len(),
        };
        let blanked: String = out[start..end]
            .bytes()
            .map(|c| if c == b'\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(start..end, &blanked);
        from = start + blanked.len();
    }
    out
}
