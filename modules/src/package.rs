//! `package`: the generic package module. Like Ansible's action it picks a
//! backend (`use`, else the `ansible_package_use` variable, else the gathered
//! `pkg_mgr` fact) and hands it every other argument. stockman's native
//! backend is `apt`; without facts it assumes apt instead of gathering them
//! (Ansible runs a `setup` first; stockman spares that round trip, and a host
//! without apt-get fails in the apt probe with apt's message).

use serde_json::Value;

use crate::{apt, Args, Controller, ModuleError, ModuleResult, RunMode, Target};

/// Which backend a task asked for, before it is known to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Apt,
    /// A manager stockman has no native backend for (`dnf`, `yum`, ...).
    Other(String),
}

/// The backend for `use` (or `auto`), resolved as Ansible's action does.
pub fn backend(wanted: Option<&str>, package_use: Option<&str>, pkg_mgr: Option<&str>) -> Backend {
    let named = |s: Option<&str>| s.filter(|s| !s.is_empty() && *s != "auto").map(str::to_string);
    let chosen = named(wanted).or_else(|| named(package_use)).or_else(|| named(pkg_mgr));
    match chosen.as_deref() {
        None | Some("apt" | "ansible.builtin.apt" | "ansible.legacy.apt") => Backend::Apt,
        Some(other) => Backend::Other(other.to_string()),
    }
}

pub async fn run<T: Target>(args: &Args, target: &T, controller: &dyn Controller, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let wanted = args.str("use");
    let var = |expr: &str| controller.eval_var(expr).ok().and_then(|v| v.as_str().map(str::to_string));
    let package_use = var("ansible_package_use | default('')");
    let pkg_mgr = var("(ansible_facts | default({})).pkg_mgr | default('')");
    match backend(wanted.as_deref(), package_use.as_deref(), pkg_mgr.as_deref()) {
        Backend::Apt => {
            let mut rest = args.0.clone();
            rest.remove("use");
            apt::run(&Args::new(rest), target, mode).await
        }
        // Ansible's words for a manager that is no module at all.
        Backend::Other(name) if controller.module_exists(&name) == Some(false) => {
            Ok(ModuleResult::raised(format!("Could not find a matching action for the \"{name}\" package manager.")))
        }
        Backend::Other(name) => Ok(ModuleResult::failed(format!(
            "package manager `{name}` has no native backend in stockman (its `package` drives apt); use `use: apt` on Debian hosts, or the `{name}` module itself"
        ))
        .with("use", Value::String(name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_then_variable_then_fact_then_apt() {
        assert_eq!(backend(None, None, None), Backend::Apt);
        assert_eq!(backend(Some("auto"), Some(""), Some("apt")), Backend::Apt);
        assert_eq!(backend(Some("auto"), None, Some("dnf")), Backend::Other("dnf".into()));
        assert_eq!(backend(None, Some("yum"), Some("apt")), Backend::Other("yum".into()));
        assert_eq!(backend(Some("apt"), Some("yum"), Some("dnf")), Backend::Apt);
        assert_eq!(backend(Some("ansible.builtin.apt"), None, None), Backend::Apt);
    }
}
