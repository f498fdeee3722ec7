//! The module's Python file and the module_utils it imports, found by
//! reading `import` statements (recursively, relative imports included) the
//! way Ansible's module_utils finder does, deflated into one bundle.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::Digest;

use super::{PyModule, Roots};

/// Bounds on what one module may pull in.
const MAX_FILES: usize = 3_000;
const MAX_BYTES: usize = 64 << 20;

/// Imported by name at run time (ansible-core 2.19's JSON profiles for the
/// `legacy` profile our bootstrap selects), so no `import` line shows them;
/// skipped where this ansible-core has none.
const IMPORTED_BY_NAME: &[&str] = &[
    "ansible.module_utils._internal._json._profiles._module_legacy_c2m",
    "ansible.module_utils._internal._json._profiles._module_legacy_m2c",
];

/// What is sent to the target for one module: files by path inside the
/// import tree (`ansible/module_utils/basic.py`), as deflated JSON.
#[derive(Debug)]
pub struct Payload {
    pub deflated: Vec<u8>,
    /// The bundle's name in the hosts' cache: the SHA-256 of `deflated`, in hex.
    pub sha256: String,
    pub import_name: String,
    pub files: usize,
}

/// Collects the module and everything it imports from ansible-core and collections.
pub fn build(module: &PyModule, roots: &Roots) -> Result<Payload, String> {
    let mut finder = Finder { roots, files: BTreeMap::new(), bytes: 0 };
    finder.add(&module.import_name, &module.source)?;
    for name in IMPORTED_BY_NAME {
        if let Some((name, file)) = finder.locate(name) {
            finder.add(&name, &file)?;
        }
    }
    // The bootstrap starts every module through AnsibleModule's `basic`: without it the host would only print a traceback.
    let basic = finder.locate("ansible.module_utils.basic").ok_or_else(|| {
        format!("it needs ansible-core's module_utils on the controller, and none was found ({}); install ansible-core (`pip install ansible-core`) where `ansible-playbook` is on PATH, or set STOCKMAN_ANSIBLE_PYTHON", roots.looked.join(", "))
    })?;
    finder.add(&basic.0, &basic.1)?;
    let files = finder.files.len();
    let mut json = serde_json::Map::new();
    for (rel, text) in finder.files {
        json.insert(rel, serde_json::Value::String(text));
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(serde_json::Value::Object(json).to_string().as_bytes()).map_err(|e| e.to_string())?;
    let deflated = encoder.finish().map_err(|e| e.to_string())?;
    let sha256 = sha2::Sha256::digest(&deflated).iter().map(|b| format!("{b:02x}")).collect();
    Ok(Payload { deflated, sha256, import_name: module.import_name.clone(), files })
}

struct Finder<'r> {
    roots: &'r Roots,
    /// Path inside the import tree → source.
    files: BTreeMap<String, String>,
    bytes: usize,
}

impl Finder<'_> {
    /// Adds one Python file (imported as `dotted`) and, recursively, what it imports.
    fn add(&mut self, dotted: &str, path: &Path) -> Result<(), String> {
        let rel = rel_path(dotted, path);
        if self.files.contains_key(&rel) {
            return Ok(());
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        self.bytes += text.len();
        if self.files.len() >= MAX_FILES || self.bytes > MAX_BYTES {
            return Err(format!("module support code for `{dotted}` exceeds {MAX_FILES} files or {} MiB", MAX_BYTES >> 20));
        }
        let package = if path.ends_with("__init__.py") { dotted.to_string() } else { parent(dotted).to_string() };
        let imports = imports(&text);
        self.files.insert(rel, text);
        self.add_packages(dotted)?;
        for import in imports {
            let Some(base) = absolute(&import, &package) else { continue };
            for wanted in import.names.iter().map(|n| format!("{base}.{n}")).chain([base.clone()]) {
                if let Some((name, file)) = self.locate(&wanted) {
                    self.add(&name, &file)?;
                }
            }
        }
        Ok(())
    }

    /// The `__init__.py` of every package above `dotted` that has one on disk.
    fn add_packages(&mut self, dotted: &str) -> Result<(), String> {
        let mut name = parent(dotted);
        while !name.is_empty() {
            if wanted(name) {
                if let Some(init) = self.file_of(name).filter(|p| p.ends_with("__init__.py")) {
                    self.add(name, &init)?;
                }
            }
            name = parent(name);
        }
        Ok(())
    }

    /// The longest prefix of `dotted` that is a module file we ship, with its file.
    fn locate(&self, dotted: &str) -> Option<(String, PathBuf)> {
        let mut name = dotted;
        while wanted(name) {
            if let Some(file) = self.file_of(name) {
                return Some((name.to_string(), file));
            }
            name = parent(name);
        }
        None
    }

    /// `a.b.c` → `ROOT/a/b/c.py` or `ROOT/a/b/c/__init__.py`.
    fn file_of(&self, dotted: &str) -> Option<PathBuf> {
        let rel = dotted.replace('.', "/");
        if let Some(local) = dotted.strip_prefix("ansible.module_utils.").map(|r| r.replace('.', "/")) {
            let found = self.roots.module_utils.iter().flat_map(|d| [d.join(format!("{local}.py")), d.join(&local).join("__init__.py")]).find(|p| p.is_file());
            if found.is_some() {
                return found;
            }
        }
        let bases: Vec<PathBuf> = if dotted.starts_with("ansible_collections.") {
            self.roots.collections.iter().filter_map(|c| c.parent().map(Path::to_path_buf)).collect()
        } else {
            self.roots.core.iter().cloned().collect()
        };
        bases.iter().flat_map(|b| [b.join(format!("{rel}.py")), b.join(&rel).join("__init__.py")]).find(|p| p.is_file())
    }
}

/// Module support code the bundle carries: ansible-core's module_utils and
/// collections' module_utils and modules. Everything else comes from the
/// target's own Python (the standard library, third-party libraries).
fn wanted(dotted: &str) -> bool {
    if dotted == "ansible.module_utils" || dotted.starts_with("ansible.module_utils.") || dotted.starts_with("ansible.modules.") {
        return true;
    }
    let parts: Vec<&str> = dotted.split('.').collect();
    parts.len() >= 5 && parts[0] == "ansible_collections" && parts[3] == "plugins" && matches!(parts[4], "module_utils" | "modules")
}

fn parent(dotted: &str) -> &str {
    dotted.rsplit_once('.').map_or("", |(p, _)| p)
}

fn rel_path(dotted: &str, path: &Path) -> String {
    let base = dotted.replace('.', "/");
    if path.ends_with("__init__.py") { format!("{base}/__init__.py") } else { format!("{base}.py") }
}

/// One `import` or `from ... import` statement.
#[derive(Debug, PartialEq)]
struct Import {
    /// Leading dots of a relative import.
    level: usize,
    module: String,
    /// `from X import a, b`: a and b (which may be modules); empty for `import X`.
    names: Vec<String>,
}

/// The dotted module an import names, relative imports resolved against `package`.
fn absolute(import: &Import, package: &str) -> Option<String> {
    if import.level == 0 {
        return Some(import.module.clone());
    }
    let mut base = package;
    for _ in 1..import.level {
        if base.is_empty() {
            return None;
        }
        base = parent(base);
    }
    match (base.is_empty(), import.module.is_empty()) {
        (true, _) => None,
        (false, true) => Some(base.to_string()),
        (false, false) => Some(format!("{base}.{}", import.module)),
    }
}

/// The import statements of a Python source, read from its logical lines
/// (parentheses and backslashes joined, comments and docstrings skipped).
/// Imports under `try:` or `if` count too: like Ansible, we ship what may be imported.
fn imports(source: &str) -> Vec<Import> {
    let mut out = Vec::new();
    for line in logical_lines(source) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',') {
                let module = part.split_whitespace().next().unwrap_or_default();
                if is_dotted(module) {
                    out.push(Import { level: 0, module: module.to_string(), names: Vec::new() });
                }
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            let Some((from, names)) = rest.split_once(" import ").or_else(|| rest.split_once(" import(")) else { continue };
            let from = from.trim();
            let level = from.bytes().take_while(|b| *b == b'.').count();
            let module = from[level..].trim().to_string();
            if !module.is_empty() && !is_dotted(&module) {
                continue;
            }
            let names = names
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .filter_map(|n| n.split_whitespace().next())
                .filter(|n| is_dotted(n) && *n != "*")
                .map(str::to_string)
                .collect();
            out.push(Import { level, module, names });
        }
    }
    out
}

fn is_dotted(name: &str) -> bool {
    !name.is_empty() && name.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// Source lines with continuations joined; triple-quoted strings and comments dropped.
fn logical_lines(source: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut in_string: Option<&str> = None;
    for raw in source.lines() {
        let mut line = raw;
        if let Some(quote) = in_string {
            match line.find(quote) {
                Some(end) => {
                    line = &line[end + 3..];
                    in_string = None;
                }
                None => continue,
            }
        }
        let mut kept = String::new();
        let mut rest = line;
        loop {
            let triple = ["\"\"\"", "'''"].iter().filter_map(|q| rest.find(q).map(|i| (i, *q))).min();
            let hash = rest.find('#');
            match (triple, hash) {
                (Some((i, q)), h) if h.is_none_or(|h| i < h) => {
                    kept.push_str(&rest[..i]);
                    match rest[i + 3..].find(q) {
                        Some(end) => rest = &rest[i + 3 + end + 3..],
                        None => {
                            in_string = Some(q);
                            rest = "";
                        }
                    }
                }
                (_, Some(h)) => {
                    kept.push_str(&rest[..h]);
                    break;
                }
                _ => {
                    kept.push_str(rest);
                    break;
                }
            }
            if rest.is_empty() {
                break;
            }
        }
        depth += kept.matches(['(', '[', '{']).count() as i32 - kept.matches([')', ']', '}']).count() as i32;
        let continued = kept.trim_end().ends_with('\\');
        current.push_str(kept.trim_end().trim_end_matches('\\'));
        current.push(' ');
        if depth <= 0 && !continued {
            lines.push(std::mem::take(&mut current));
            depth = 0;
        }
    }
    if !current.trim().is_empty() {
        lines.push(current);
    }
    lines
}

/// A bundle's files (path → source), for tests.
#[cfg(test)]
fn files(payload: &Payload) -> serde_json::Map<String, serde_json::Value> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::ZlibDecoder::new(&payload.deflated[..]).read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every file name of a bundle, for tests.
#[cfg(test)]
pub fn file_names(payload: &Payload) -> std::collections::BTreeSet<String> {
    files(payload).keys().cloned().collect()
}

/// One file's source in a bundle, for tests.
#[cfg(test)]
pub fn file_text(payload: &Payload, path: &str) -> String {
    files(payload).get(path).and_then(serde_json::Value::as_str).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read_across_lines_and_relative_ones_resolved() {
        let source = "\"\"\"doc\nimport not.this\n\"\"\"\nimport os, ansible.module_utils.basic as b\nfrom ansible.module_utils.common.text.converters import (\n    to_text,  # comment\n    to_native,\n)\nfrom ..module_utils.foo import \\\n    bar\n# from ansible.module_utils.commented import x\n";
        let found = imports(source);
        assert_eq!(found[0], Import { level: 0, module: "os".into(), names: vec![] });
        assert_eq!(found[1].module, "ansible.module_utils.basic");
        assert_eq!(found[2].names, ["to_text", "to_native"]);
        assert_eq!(found[3], Import { level: 2, module: "module_utils.foo".into(), names: vec!["bar".into()] });
        assert_eq!(found.len(), 4, "{found:?}");
        let package = "ansible_collections.community.general.plugins.modules";
        assert_eq!(absolute(&found[3], package).as_deref(), Some("ansible_collections.community.general.plugins.module_utils.foo"));
        assert_eq!(absolute(&Import { level: 1, module: String::new(), names: vec!["x".into()] }, "a.b").as_deref(), Some("a.b"));
    }

    #[test]
    fn only_module_support_code_is_shipped() {
        assert!(wanted("ansible.module_utils.basic"));
        assert!(wanted("ansible_collections.community.general.plugins.module_utils.ini"));
        assert!(!wanted("ansible.plugins.action"));
        assert!(!wanted("ansible_collections.community.general.plugins.action.x"));
        assert!(!wanted("os"));
    }
}
