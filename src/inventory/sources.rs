//! Turning `-i` arguments into inventory data: files (INI or YAML, decided as
//! Ansible's plugins would; JSON documents recognised by content: Terraform
//! state and outputs, Ansible's script protocol), executables (dynamic
//! inventory scripts), directories of such files, and host lists.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model::{Model, UNGROUPED};
use super::{host_range, ini, json_source, script, terraform, yaml_error, yaml_source, InventoryError};

/// What reading the sources produced.
pub(crate) struct Loaded {
    pub model: Model,
    /// Directories whose `group_vars/` and `host_vars/` apply, in source order.
    pub vars_dirs: Vec<PathBuf>,
    pub warnings: Vec<String>,
    /// Values from sensitive Terraform outputs, never to be printed.
    pub secrets: Vec<String>,
}

/// Extensions skipped inside inventory directories (Ansible's
/// `INVENTORY_IGNORE_EXTS` default).
const IGNORED_EXTENSIONS: [&str; 12] =
    [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"];
const IGNORED_NAMES: [&str; 3] = ["host_vars", "group_vars", "vars_plugins"];

pub(crate) fn load(sources: &[PathBuf]) -> Result<Loaded, InventoryError> {
    let mut loaded = Loaded { model: Model::default(), vars_dirs: Vec::new(), warnings: Vec::new(), secrets: Vec::new() };
    for source in sources {
        load_source(source, &mut loaded)?;
    }
    Ok(loaded)
}

fn load_source(source: &Path, loaded: &mut Loaded) -> Result<(), InventoryError> {
    let text = source.to_string_lossy();
    if !source.exists() && text.contains(',') {
        host_list(&text, &mut loaded.model);
        loaded.model.reconcile();
        return Ok(());
    }
    if source.is_dir() {
        load_dir(source, loaded)?;
        loaded.vars_dirs.push(source.to_path_buf());
        return Ok(());
    }
    if !source.exists() {
        return Err(InventoryError::Read {
            path: source.to_path_buf(),
            message: "no such file or directory (to list hosts directly, end the list with a comma: -i 'web1,')".into(),
        });
    }
    load_file(source, loaded)?;
    let parent = source.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    loaded.vars_dirs.push(parent.to_path_buf());
    Ok(())
}

/// `-i 'web1,web2:2222,'`: hosts in `ungrouped`, no ranges.
fn host_list(text: &str, model: &mut Model) {
    model.origin.file = Value::String(text.to_string());
    model.origin.dir = Value::Null;
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, port) = if item.contains('[') { (item.to_string(), None) } else { host_range::split_port(item) };
        if model.host_id(&name).is_none() {
            model.add_host(&name, Some(UNGROUPED), port);
        }
    }
}

/// The paths in `dir`, in name order.
pub(super) fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, InventoryError> {
    let read_error = |e: std::io::Error| InventoryError::Read { path: dir.to_path_buf(), message: e.to_string() };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read_error)?;
    entries.sort();
    Ok(entries)
}

/// Every inventory file in `dir`, in name order, subdirectories included.
fn load_dir(dir: &Path, loaded: &mut Loaded) -> Result<(), InventoryError> {
    let entries = sorted_entries(dir)?;
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if is_ignored(&name) {
            continue;
        }
        if path.is_dir() {
            load_dir(&path, loaded)?;
        } else {
            load_file(&path, loaded)?;
        }
    }
    Ok(())
}

/// Terraform files beside a state in an inventory directory: configuration
/// and the previous state (which would duplicate every host).
const TERRAFORM_EXTENSIONS: [&str; 4] = [".tfstate.backup", ".tf", ".tfvars", ".hcl"];

fn is_ignored(name: &str) -> bool {
    name.starts_with('.')
        || IGNORED_NAMES.contains(&name)
        || IGNORED_EXTENSIONS.iter().chain(&TERRAFORM_EXTENSIONS).any(|ext| name.ends_with(ext))
}

fn load_file(path: &Path, loaded: &mut Loaded) -> Result<(), InventoryError> {
    let name = path.display().to_string();
    let read_error = |message: String| InventoryError::Read { path: path.to_path_buf(), message };
    let bytes = std::fs::read(path).map_err(|e| read_error(e.to_string()))?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    loaded.model.origin.file = Value::String(absolute.display().to_string());
    loaded.model.origin.dir = absolute.parent().map(|p| Value::String(p.display().to_string())).unwrap_or(Value::Null);
    if is_program(&bytes) && is_executable(path) {
        script::load(path, &mut loaded.model, script::TIMEOUT).map_err(read_error)?;
        loaded.model.reconcile();
        return Ok(());
    }
    let text = String::from_utf8(bytes).map_err(|e| read_error(format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to())))?;
    if let Some(doc) = json_object(&text) {
        if load_json(&doc, loaded).map_err(read_error)? {
            loaded.model.reconcile();
            return Ok(());
        }
    }
    match detect(path, &text, &name)? {
        Some(doc) => yaml_source::Reader { model: &mut loaded.model, warnings: &mut loaded.warnings }.read(&doc)?,
        None => ini::parse(&text, &name, &mut loaded.model)?,
    }
    loaded.model.reconcile();
    Ok(())
}

/// A script (`#!`) or a compiled program (ELF).
fn is_program(bytes: &[u8]) -> bool {
    bytes.starts_with(b"#!") || bytes.starts_with(b"\x7fELF")
}

/// The text as a JSON object, if it is one (cheaply ruled out otherwise).
fn json_object(text: &str) -> Option<Value> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    serde_json::from_str::<Value>(text).ok().filter(Value::is_object)
}

/// Reads JSON documents that are not YAML inventories: Terraform states and
/// outputs, and Ansible's script protocol. False when `doc` is none of them.
fn load_json(doc: &Value, loaded: &mut Loaded) -> Result<bool, String> {
    let extras = match terraform::recognise(doc) {
        Some(terraform::Document::State) => terraform::read_state(doc, &mut loaded.model)?,
        Some(terraform::Document::Outputs) => terraform::read_outputs(doc, &mut loaded.model)?,
        None if doc.as_object().is_some_and(json_source::is_script_shape) => {
            json_source::read(doc, &mut loaded.model)?;
            return Ok(true);
        }
        None => return Ok(false),
    };
    loaded.warnings.extend(extras.warnings);
    loaded.secrets.extend(extras.secrets);
    Ok(true)
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

/// The YAML document when the file is a YAML inventory, None for INI.
///
/// `.yml`, `.yaml` and `.json` are YAML; a file without extension is YAML
/// when it parses as a mapping; anything else is INI.
fn detect(path: &Path, text: &str, name: &str) -> Result<Option<crate::yaml::Node>, InventoryError> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    match ext.as_deref() {
        Some("yml" | "yaml" | "json") => crate::yaml::parse_str(text, name.into()).map(Some).map_err(yaml_error),
        Some("toml") => Err(InventoryError::Read {
            path: path.to_path_buf(),
            message: "TOML inventories are not supported; use INI or YAML".into(),
        }),
        Some(_) => Ok(None),
        None => match crate::yaml::parse_str(text, name.into()) {
            Ok(doc) if doc.as_map().is_some() => Ok(Some(doc)),
            Err(e) if looks_like_yaml(text) => Err(yaml_error(e)),
            _ => Ok(None),
        },
    }
}

/// Whether the first meaningful line reads as YAML rather than INI, so that a
/// broken YAML file reports its YAML error instead of confusing INI ones.
fn looks_like_yaml(text: &str) -> bool {
    let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with(['#', ';'])) else {
        return false;
    };
    line == "---" || line.starts_with("--- ")
        || (!line.starts_with('[') && !line.contains('=') && (line.ends_with(':') || line.contains(": ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_directory_entries() {
        for name in [".git", "group_vars", "host_vars", "README.md", "notes.txt", "x.retry", "ansible.cfg", "hosts~"] {
            assert!(is_ignored(name), "{name}");
        }
        assert!(is_ignored("terraform.tfstate.backup") && is_ignored("main.tf"));
        for name in ["hosts", "hosts.ini", "prod.yml", "inv.json", "terraform.tfstate"] {
            assert!(!is_ignored(name), "{name}");
        }
    }

    #[test]
    fn yaml_lookalikes() {
        assert!(looks_like_yaml("# c\nall:\n  hosts: [\n"));
        assert!(looks_like_yaml("---\n"));
        assert!(!looks_like_yaml("[web]\nweb1\n"));
        assert!(!looks_like_yaml("web1 ansible_host=1.2.3.4\n"));
    }
}
