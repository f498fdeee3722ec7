//! What modules may ask of the controller: files and templates beside the
//! playbook, and variables.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stockman_modules::template::{finish_output, prepare_source, RenderOptions};
use stockman_modules::Controller;

use crate::playbook::inside;
use crate::template::Templar;

pub(super) struct TaskController<'a> {
    pub templar: &'a Templar,
    pub ctx: &'a minijinja::Value,
    pub playbook_dir: &'a Path,
    /// The task's role: its files/ and templates/ are searched first.
    pub role: Option<&'a crate::playbook::Role>,
    /// ansible.cfg's `ansible_managed`, given to templates as is (not itself templated).
    pub ansible_managed: &'a str,
}

impl TaskController<'_> {
    /// Ansible's search path for a relative name: `DIR/name`, then the playbook dir.
    fn find(&self, dir: &str, name: &str) -> Result<PathBuf, String> {
        self.find_where(dir, name, Path::is_file)
    }

    /// [`Self::find`] accepting whatever `accept` accepts (a directory for `copy`).
    fn find_where(&self, dir: &str, name: &str, accept: fn(&Path) -> bool) -> Result<PathBuf, String> {
        let path = Path::new(name);
        if path.is_absolute() {
            return if accept(path) { Ok(path.to_path_buf()) } else { Err(format!("Could not find or access '{name}' on the Ansible Controller.")) };
        }
        let mut candidates = Vec::new();
        if let Some(role) = self.role {
            candidates.extend(inside(&role.path, &role.path.join(dir).join(path)));
            candidates.extend(inside(&role.path, &role.path.join(path)));
        }
        candidates.extend(inside(self.playbook_dir, &self.playbook_dir.join(dir).join(path)));
        candidates.extend(inside(self.playbook_dir, &self.playbook_dir.join(path)));
        if candidates.is_empty() {
            return Err(format!(
                "refusing '{name}': a relative name must stay inside the playbook (or role) directory, and `..` leads out of it; use an absolute path to take a file from elsewhere"
            ));
        }
        candidates.iter().find(|c| accept(c)).cloned().ok_or_else(|| {
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

    fn locate_src(&self, src: &str) -> Option<Result<PathBuf, String>> {
        Some(self.find_where("files", src, |p| p.is_file() || p.is_dir()))
    }

    fn locate_template(&self, src: &str) -> Option<Result<PathBuf, String>> {
        Some(self.find("templates", src))
    }

    fn render_template_with(&self, src: &str, options: &RenderOptions) -> Option<Result<String, String>> {
        let render = || {
            let path = self.find("templates", src)?;
            let source = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            // The template's own variables win over the host's, as in Ansible.
            let mut extra_vars = options.extra_vars.clone();
            extra_vars.insert("ansible_managed".into(), self.ansible_managed.into());
            let extra = crate::template::Templar::context(&extra_vars);
            let ctx = minijinja::context! { ..extra, ..self.ctx.clone() };
            let rendered = self.templar.render_file(&path.display().to_string(), &prepare_source(&source, options), &ctx);
            rendered.map(|text| finish_output(&source, text)).map_err(|e| format!("{}: {}", path.display(), e.message))
        };
        Some(render())
    }

    fn render_template(&self, src: &str) -> Result<String, String> {
        let path = self.find("templates", src)?;
        let source = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        self.templar.render_file(&path.display().to_string(), &source, self.ctx).map_err(|e| format!("{}: {}", path.display(), e.message))
    }

    fn eval_var(&self, expr: &str) -> Result<Value, stockman_modules::EvalError> {
        self.templar.eval(expr, self.ctx).map_err(|e| stockman_modules::EvalError { undefined: e.undefined, message: e.message })
    }

    fn base_dir(&self) -> PathBuf {
        self.playbook_dir.to_path_buf()
    }

    fn module_exists(&self, name: &str) -> Option<bool> {
        Some(crate::fallback::Catalog::shared().knows(name))
    }
}
