//! `group_vars/` and `host_vars/` directories, read as Ansible's
//! `host_group_vars` plugin reads them.
//!
//! For an entity `NAME` the first of `NAME`, `NAME.yml`, `NAME.yaml`,
//! `NAME.json` that exists is used. When it is a directory, every file in it
//! (recursively, in name order, skipping hidden files, `~` backups and
//! extensions other than those three) is merged in that order, later files
//! replacing earlier top-level keys.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::InventoryError;

const EXTENSIONS: [&str; 3] = [".yml", ".yaml", ".json"];

/// The variables found in one directory's `group_vars/` and `host_vars/`.
#[derive(Debug, Clone, Default)]
pub(crate) struct VarsDir {
    group_vars: HashMap<String, Map<String, Value>>,
    host_vars: HashMap<String, Map<String, Value>>,
}

impl VarsDir {
    /// Reads the variables of the named groups and hosts from `dir/group_vars`
    /// and `dir/host_vars`; names without files are simply absent.
    pub fn load<'a>(
        dir: &Path,
        groups: impl IntoIterator<Item = &'a str>,
        hosts: impl IntoIterator<Item = &'a str>,
        warnings: &mut Vec<String>,
    ) -> Result<VarsDir, InventoryError> {
        Ok(VarsDir {
            group_vars: load_entities(&dir.join("group_vars"), groups, warnings)?,
            host_vars: load_entities(&dir.join("host_vars"), hosts, warnings)?,
        })
    }

    pub fn group(&self, name: &str) -> Option<&Map<String, Value>> {
        self.group_vars.get(name)
    }

    pub fn host(&self, name: &str) -> Option<&Map<String, Value>> {
        self.host_vars.get(name)
    }
}

fn load_entities<'a>(
    base: &Path,
    names: impl IntoIterator<Item = &'a str>,
    warnings: &mut Vec<String>,
) -> Result<HashMap<String, Map<String, Value>>, InventoryError> {
    let mut found = HashMap::new();
    if !base.exists() {
        return Ok(found);
    }
    if !base.is_dir() {
        warnings.push(format!("Found {} that is not a directory, skipping: {}", file_name(base), base.display()));
        return Ok(found);
    }
    for name in names {
        // A name with a path separator would reach outside the directory.
        if name.contains(['/', '\\']) || name.is_empty() {
            continue;
        }
        if let Some(vars) = load_entity(base, name)? {
            found.insert(name.to_string(), vars);
        }
    }
    Ok(found)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The merged variables of one entity, or None when it has no file.
fn load_entity(base: &Path, name: &str) -> Result<Option<Map<String, Value>>, InventoryError> {
    let candidates = std::iter::once(base.join(name)).chain(EXTENSIONS.iter().map(|ext| base.join(format!("{name}{ext}"))));
    let Some(path) = candidates.into_iter().find(|p| p.exists()) else {
        return Ok(None);
    };
    let files = if path.is_dir() { files_in(&path)? } else { vec![path] };
    let mut vars = Map::new();
    for file in files {
        vars.extend(load_vars_file(&file)?);
    }
    Ok(Some(vars))
}

/// Vars files under `dir`, recursively, in name order.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>, InventoryError> {
    let entries = super::sources::sorted_entries(dir)?;
    let mut files = Vec::new();
    for path in entries {
        let name = file_name(&path);
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let ext = extension(&name);
        if path.is_dir() && ext.is_empty() {
            files.extend(files_in(&path)?);
        } else if path.is_file() && (ext.is_empty() || EXTENSIONS.contains(&ext)) {
            files.push(path);
        }
    }
    Ok(files)
}

/// Python's `os.path.splitext` extension (a leading dot does not count).
fn extension(name: &str) -> &str {
    let trimmed = name.trim_start_matches('.');
    match trimmed.rfind('.') {
        Some(i) => &trimmed[i..],
        None => "",
    }
}

/// One YAML or JSON file that must hold a mapping (or nothing).
pub(crate) fn load_vars_file(path: &Path) -> Result<Map<String, Value>, InventoryError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InventoryError::Read { path: path.to_path_buf(), message: e.to_string() })?;
    // A vault-encrypted file is decrypted by the YAML reader with the run's keyring.
    let node = crate::yaml::parse_str(&text, path.display().to_string().into()).map_err(super::yaml_error)?;
    match node.to_json() {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(InventoryError::Parse {
            location: node.span.to_string(),
            message: format!("a variables file must hold a mapping of names to values, found {}", node.kind_name()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn first_matching_name_wins_and_dirs_merge_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let gv = tmp.path().join("group_vars");
        write(&gv.join("web.yml"), "a: from_yml\n");
        write(&gv.join("web.json"), "{\"a\": \"from_json\"}\n");
        write(&gv.join("db/10-first.yml"), "a: 1\nb: 1\n");
        write(&gv.join("db/20-second"), "b: 2\n");
        write(&gv.join("db/sub/30.yaml"), "c: 3\n");
        write(&gv.join("db/notes.txt"), "ignored: true\n");
        write(&gv.join("db/.hidden.yml"), "hidden: true\n");
        write(&tmp.path().join("host_vars/h1"), "---\nx: 1\n");
        let mut warnings = Vec::new();
        let vd = VarsDir::load(tmp.path(), ["web", "db", "none"], ["h1"], &mut warnings).unwrap();
        assert_eq!(Value::Object(vd.group("web").unwrap().clone()), json!({"a": "from_yml"}));
        assert_eq!(Value::Object(vd.group("db").unwrap().clone()), json!({"a": 1, "b": 2, "c": 3}));
        assert!(vd.group("none").is_none());
        assert_eq!(vd.host("h1").unwrap()["x"], 1);
        assert!(warnings.is_empty());
    }

    #[test]
    fn bad_files_are_errors_with_positions() {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join("group_vars/all.yml"), "- a\n- b\n");
        let err = VarsDir::load(tmp.path(), ["all"], [], &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("all.yml:1:1") && err.contains("mapping"), "{err}");
        write(&tmp.path().join("group_vars/all.yml"), "a: [1\n");
        let err = VarsDir::load(tmp.path(), ["all"], [], &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("all.yml:"), "{err}");
    }

    #[test]
    fn vault_files_without_a_password_say_so() {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join("group_vars/all"), "$ANSIBLE_VAULT;1.1;AES256\n6162\n");
        let err = VarsDir::load(tmp.path(), ["all"], [], &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("group_vars/all:1:1") && err.contains("no vault secrets found"), "{err}");
    }
}
