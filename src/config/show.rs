//! `stockman config list|dump|view`: the table, the effective values, the file, as
//! ansible-config prints them (text returned; the caller prints).

use super::table::{Kind, Support, TABLE};
use super::values::{Loaded, Origin};

/// Every setting: its name, cfg key, variables, type, default, what stockman does with it.
pub fn list() -> String {
    let mut out = String::new();
    for def in TABLE {
        let places: Vec<String> = def.ini.iter().map(|(s, k)| format!("[{s}] {k}")).collect();
        out.push_str(&format!("{}:\n  description: {}\n", def.name, def.doc));
        out.push_str(&format!("  ini: {}\n", places.join(", ")));
        if !def.env.is_empty() {
            out.push_str(&format!("  env: {}\n", def.env.join(", ")));
        }
        out.push_str(&format!("  type: {}\n  default: {}\n", kind_name(def.kind), def.default.unwrap_or("None")));
        out.push_str(&format!("  stockman: {}\n", support_text(def.support)));
    }
    out
}

fn kind_name(kind: Kind) -> String {
    match kind {
        Kind::Bool => "boolean".into(),
        Kind::Int => "integer".into(),
        Kind::Str => "string".into(),
        Kind::Path => "path".into(),
        Kind::PathList => "pathlist (comma-separated)".into(),
        Kind::PathSpec => "pathspec (colon-separated)".into(),
        Kind::List => "list (comma-separated)".into(),
        Kind::Choice(words) => format!("one of {}", words.join(", ")),
        Kind::Color => "colour (a name, colorN, rgbRGB or grayN)".into(),
    }
}

fn support_text(support: Support) -> String {
    match support {
        Support::Honoured => "honoured".into(),
        Support::Stored => "stored for modules stockman runs through Ansible".into(),
        Support::Ignored(reason) => format!("accepted, ignored: {reason}"),
    }
}

/// `NAME(origin) = value` for every setting (or only those not at their default).
pub fn dump(loaded: &Loaded, only_changed: bool) -> String {
    let mut out = String::new();
    let file = loaded.file.as_ref().map_or("None".to_string(), |p| p.display().to_string());
    out.push_str(&format!("CONFIG_FILE() = {file}\n"));
    for r in &loaded.values {
        if only_changed && r.origin == Origin::Default {
            continue;
        }
        // A history URL's password stays out of what is shown.
        out.push_str(&format!("{}({}) = {}\n", r.def.name, r.origin, crate::report::history::censor_url(&r.value.to_string())));
    }
    out
}

/// The file in use, as it is.
pub fn view(loaded: &Loaded) -> Result<String, String> {
    let path = loaded.file.as_ref().ok_or("no config file found (looked at ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg)")?;
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `stockman config`.
#[derive(clap::Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Every setting: its ansible.cfg key, environment variables, type, default and whether stockman honours it.
    List,
    /// The effective value of every setting and where it came from (default, file:line, env).
    Dump {
        /// Only the settings not at their default.
        #[arg(long = "only-changed", visible_alias = "changed-only")]
        only_changed: bool,
    },
    /// The ansible.cfg in use.
    View,
}

/// Runs `stockman config ...`; returns the exit code.
pub fn run(args: ConfigArgs) -> u8 {
    let text = match args.action {
        Action::List => Ok(list()),
        Action::Dump { only_changed } => super::load_reporting().map(|l| dump(&l, only_changed)),
        Action::View => super::load_reporting().and_then(|l| view(&l)),
    };
    match text {
        Ok(text) => {
            crate::report::error::note(text.trim_end());
            0
        }
        Err(message) => crate::report::error::fatal(&message, 5),
    }
}
