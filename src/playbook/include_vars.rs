//! `include_vars`: variables read from a file or a directory of files, as
//! Ansible's action reads them (sorted walk, `depth`, `files_matching`,
//! `ignore_files`, `extensions`, `name`).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::IncludeSource;
use crate::yaml;

/// Ansible's message when neither `file` nor a free-form name gives a file.
const NO_FILE: &str = "Could not find file on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option";

/// What an `include_vars` read: the variables and the files, in order.
#[derive(Debug, Default)]
pub struct IncludedVars {
    pub vars: Map<String, Value>,
    pub files: Vec<String>,
}

impl IncludeSource {
    /// Reads the files `args` (already templated) name; the message of an
    /// error is Ansible's.
    pub fn include_vars(&self, args: &Map<String, Value>) -> Result<IncludedVars, String> {
        let text = |k: &str| args.get(k).map(stockman_modules::args::value_to_string);
        let mut out = IncludedVars::default();
        match text("dir") {
            Some(dir) => self.read_dir(&dir, args, &mut out)?,
            None => {
                // An empty `file` falls back to the free-form name, as Ansible's action.
                let file = text("file").filter(|f| !f.is_empty()).or_else(|| text("_raw_params")).unwrap_or_default();
                let file = file.trim_end_matches('\n');
                if file.is_empty() {
                    return Err(NO_FILE.into());
                }
                let path = self.vars_path(&file).ok_or_else(|| format!("Could not find or access '{file}'"))?;
                read_one(&path, &mut out)?;
            }
        }
        if let Some(name) = text("name") {
            let all = std::mem::take(&mut out.vars);
            out.vars.insert(name, Value::Object(all));
        }
        Ok(out)
    }

    fn read_dir(&self, dir: &str, args: &Map<String, Value>, out: &mut IncludedVars) -> Result<(), String> {
        let root = self.vars_dir(dir);
        if !root.exists() {
            return Err(format!("{} directory does not exist", root.display()));
        }
        if !root.is_dir() {
            return Err(format!("{} is not a directory", root.display()));
        }
        let filter = DirFilter::from_args(args)?;
        let role_main = self.ctx.role.as_ref().map(|r| r.path.join("vars").join("main.yml"));
        for path in sorted_walk(&root, filter.depth) {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if Some(&path) == role_main.as_ref() || !filter.wants(&name)? {
                continue;
            }
            if !filter.has_valid_extension(&name) {
                return Err(format!("{} does not have a valid extension: {}", path.display(), filter.extensions.join(", ")));
            }
            read_one(&path, out)?;
        }
        Ok(())
    }

    /// `dir:` is under the role's vars/ inside a role, else beside the including file.
    fn vars_dir(&self, dir: &str) -> PathBuf {
        if Path::new(dir).is_absolute() {
            return PathBuf::from(dir);
        }
        match &self.ctx.role {
            Some(role) if dir.split('/').next() == Some("vars") && role.path.join(dir).exists() => role.path.join(dir),
            Some(role) => role.path.join("vars").join(dir),
            None => self.ctx.dir.join(dir),
        }
    }
}

fn read_one(path: &Path, out: &mut IncludedVars) -> Result<(), String> {
    let doc = yaml::parse_file(path).map_err(|e| e.to_string())?;
    match doc.to_json() {
        Value::Object(map) => out.vars.extend(map),
        Value::Null => {}
        _ => return Err(format!("{} must be stored as a dictionary/hash", path.display())),
    }
    out.files.push(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string());
    Ok(())
}

/// Files under `root`, directories in name order then each one's files in
/// name order (Ansible's sorted walk); `depth` 0 is unlimited, 1 is `root` only.
fn sorted_walk(root: &Path, depth: usize) -> Vec<PathBuf> {
    let mut dirs = vec![(root.to_path_buf(), 1usize)];
    let mut i = 0;
    while i < dirs.len() {
        let (dir, level) = dirs[i].clone();
        if depth == 0 || level < depth {
            let mut subs: Vec<PathBuf> = entries(&dir).into_iter().filter(|p| p.is_dir()).collect();
            subs.sort();
            dirs.extend(subs.into_iter().map(|d| (d, level + 1)));
        }
        i += 1;
    }
    dirs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut files = Vec::new();
    for (dir, _) in dirs {
        let mut here: Vec<PathBuf> = entries(&dir).into_iter().filter(|p| !p.is_dir()).collect();
        here.sort();
        files.extend(here);
    }
    files
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default()
}

struct DirFilter {
    depth: usize,
    matching: Option<regex::Regex>,
    ignore: Vec<regex::Regex>,
    extensions: Vec<String>,
    ignore_unknown: bool,
}

impl DirFilter {
    fn from_args(args: &Map<String, Value>) -> Result<Self, String> {
        let regex = |p: &str| regex::Regex::new(p).map_err(|_| format!("Invalid regular expression: {p}"));
        let list = |k: &str| -> Vec<String> {
            match args.get(k) {
                Some(Value::Array(items)) => items.iter().map(stockman_modules::args::value_to_string).collect(),
                Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
                _ => Vec::new(),
            }
        };
        let depth = match args.get("depth") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().or_else(|| v.as_str()?.parse().ok()).ok_or_else(|| format!("`depth` must be a number, got {v}"))? as usize,
        };
        let mut extensions = list("extensions");
        if extensions.is_empty() {
            extensions = vec!["yaml".into(), "yml".into(), "json".into()];
        }
        Ok(DirFilter {
            depth,
            matching: args.get("files_matching").map(|v| regex(&stockman_modules::args::value_to_string(v))).transpose()?,
            ignore: list("ignore_files").iter().map(|p| regex(&format!("{p}$"))).collect::<Result<_, _>>()?,
            extensions,
            ignore_unknown: args.get("ignore_unknown_extensions").and_then(stockman_modules::args::parse_bool).unwrap_or(false),
        })
    }

    /// Whether the file is read at all (an unwanted extension is an error, unless ignored).
    fn wants(&self, name: &str) -> Result<bool, String> {
        if self.matching.as_ref().is_some_and(|m| !m.is_match(name)) || self.ignore.iter().any(|r| r.is_match(name)) {
            return Ok(false);
        }
        Ok(!self.ignore_unknown || self.has_valid_extension(name))
    }

    /// As Ansible's: a name without an extension has the extension `''`,
    /// which `extensions: ['']` accepts.
    fn has_valid_extension(&self, name: &str) -> bool {
        let ext = Path::new(name).extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        self.extensions.iter().any(|x| *x == ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_extension_accepts_files_without_one() {
        let filter = |exts: &[&str]| DirFilter { depth: 0, matching: None, ignore: Vec::new(), extensions: exts.iter().map(|e| e.to_string()).collect(), ignore_unknown: true };
        assert!(filter(&["", "yml"]).has_valid_extension("file_without_extension"));
        assert!(filter(&["", "yml"]).has_valid_extension("a.yml"));
        assert!(!filter(&["yml"]).has_valid_extension("file_without_extension"));
        assert!(!filter(&[""]).has_valid_extension("a.json"));
    }

    #[test]
    fn walk_is_sorted_and_bounded_by_depth() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        for f in ["b.yml", "a.yml", "sub/c.yml"] {
            std::fs::write(root.join(f), "x: 1\n").unwrap();
        }
        let names = |files: Vec<PathBuf>| files.iter().map(|p| p.strip_prefix(root).unwrap().display().to_string()).collect::<Vec<_>>();
        assert_eq!(names(sorted_walk(root, 0)), ["a.yml", "b.yml", "sub/c.yml"]);
        assert_eq!(names(sorted_walk(root, 1)), ["a.yml", "b.yml"]);
    }
}
