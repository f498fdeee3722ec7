//! What modules may ask of the controller: files and templates beside the
//! playbook, and variables.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stockman_modules::Controller;

use crate::template::Templar;

pub(super) struct TaskController<'a> {
    pub templar: &'a Templar,
    pub ctx: &'a minijinja::Value,
    pub playbook_dir: &'a Path,
    /// The task's role: its files/ and templates/ are searched first.
    pub role: Option<&'a crate::playbook::Role>,
}

impl TaskController<'_> {
    /// Ansible's search path for a relative name: `DIR/name`, then the playbook dir.
    fn find(&self, dir: &str, name: &str) -> Result<PathBuf, String> {
        let path = Path::new(name);
        if path.is_absolute() {
            return if path.is_file() { Ok(path.to_path_buf()) } else { Err(format!("Could not find or access '{name}' on the Ansible Controller.")) };
        }
        let mut candidates = Vec::new();
        if let Some(role) = self.role {
            candidates.extend([role.path.join(dir).join(path), role.path.join(path)]);
        }
        candidates.extend([self.playbook_dir.join(dir).join(path), self.playbook_dir.join(path)]);
        candidates.iter().find(|c| c.is_file()).cloned().ok_or_else(|| {
            let searched: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            format!("Could not find or access '{name}'\nSearched in:\n\t{}\non the Ansible Controller.", searched.join("\n\t"))
        })
    }
}

impl Controller for TaskController<'_> {
    fn read_src(&self, src: &str) -> Result<Vec<u8>, String> {
        let path = self.find("files", src)?;
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }

    fn render_template(&self, src: &str) -> Result<String, String> {
        let path = self.find("templates", src)?;
        let source = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        self.templar.render_file(&path.display().to_string(), &source, self.ctx).map_err(|e| format!("{}: {}", path.display(), e.message))
    }

    fn eval_var(&self, expr: &str) -> Result<Value, String> {
        self.templar.eval(expr, self.ctx).map_err(|e| e.message)
    }
}
