//! `stockman adhoc PATTERN -m MODULE -a ARGS` (Ansible's `ansible`): one task
//! on the selected hosts. The task becomes a one-task play loaded and run
//! exactly as a playbook's, so every module a playbook can use works here.

use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Map, Value};

use super::{settings_from, OutputArgs, OutputFormat, PlaybookArgs};
use crate::executor::Executor;
use crate::inventory::Inventory;
use crate::playbook::{self, parse_kv};
use crate::report::{self, adhoc::{Adhoc, AdhocOptions}, Reporter};

pub(super) const EXAMPLES: &str = "\
Examples:
  stockman adhoc -i hosts.ini all -m ping
  stockman adhoc -i hosts.ini web -m shell -a 'uptime'
  stockman adhoc -i hosts.ini db -b -m apt -a 'name=nginx state=latest'
  stockman adhoc -i hosts.ini all -m copy -a 'src=motd dest=/etc/motd' --check --diff
  stockman adhoc -i hosts.ini all -a 'df -h /' -o";

/// Modules that refuse to run without arguments (Ansible's MODULE_REQUIRE_ARGS).
const REQUIRE_ARGS: &[&str] = &["command", "raw", "script", "shell"];
/// Options of the free-form modules; any other word is part of the command.
const FREE_FORM_OPTIONS: &[&str] = &["creates", "removes", "chdir", "executable", "warn", "stdin", "stdin_add_newline", "strip_empty_ends", "argv", "expand_argument_vars", "cmd"];

#[derive(Args, Debug)]
pub(super) struct AdhocArgs {
    /// The hosts to run on: a host pattern (`all`, `web`, `web:!web3`, `~db\d+`).
    #[arg(value_name = "PATTERN")]
    pattern: String,
    /// The module to run (default `command`).
    #[arg(short = 'm', long = "module-name", value_name = "MODULE", default_value = "command")]
    module: String,
    /// The module's arguments: `key=value` words, a free-form command, or a JSON mapping.
    #[arg(short = 'a', long = "args", value_name = "ARGS", default_value = "", allow_hyphen_values = true)]
    args: String,
    #[command(flatten)]
    common: super::CommonFlags,
    /// One line per host (Ansible's oneline callback).
    #[arg(short = 'o', long = "one-line")]
    one_line: bool,
    /// Write each host's result as JSON to TREE/HOST.
    #[arg(short = 't', long = "tree", value_name = "TREE")]
    tree: Option<PathBuf>,
    /// Run asynchronously, failing after SECONDS.
    #[arg(short = 'B', long = "background", value_name = "SECONDS", default_value_t = 0)]
    background: u64,
    /// Poll the background job every POLL seconds (0: do not wait).
    #[arg(short = 'P', long = "poll", value_name = "POLL", default_value_t = 15)]
    poll: u64,
    /// List the matching hosts, then stop.
    #[arg(long = "list-hosts")]
    list_hosts: bool,
    /// The directory playbook-relative paths (group_vars/, files/) start from (default: the current one).
    #[arg(long = "playbook-dir", value_name = "DIR")]
    playbook_dir: Option<PathBuf>,
}

pub(super) fn run(args: AdhocArgs) -> u8 {
    let module = args.module.clone();
    let short = module.rsplit('.').next().unwrap_or_default().to_string();
    let module_args = match adhoc_args(&short, &args.args) {
        Ok(a) => a,
        Err(message) => return report::error::fatal(&message, 5),
    };
    let (pattern, raw_args, one_line, tree, list_hosts) = (args.pattern.clone(), args.args.clone(), args.one_line, args.tree.clone(), args.list_hosts);
    let (background, poll) = (args.background, args.poll);
    let dir = args.playbook_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let playbook_args = playbook_args(args);
    let loaded = match crate::config::load_reporting() {
        Ok(l) => l,
        Err(message) => return report::error::fatal(&message, 5),
    };
    let settings = match settings_from(&playbook_args, &loaded, None) {
        Ok(s) => s,
        Err(message) => return report::error::fatal(&message, 5),
    };
    let inventory = match Inventory::load(&settings.inventories).and_then(|inv| inv.with_hash_behaviour(settings.hash_behaviour).with_playbook_dir(&dir)) {
        Ok(inv) => inv,
        Err(e) => return report::error::fatal(&e.to_string(), 1),
    };
    for secret in inventory.secrets() {
        crate::vault::keyring::remember_secret(secret);
    }
    let hosts = selected_hosts(&inventory, &pattern, settings.limit.as_deref());
    if list_hosts {
        let mut text = format!("  hosts ({}):", hosts.len());
        for host in &hosts {
            text.push_str(&format!("\n    {host}"));
        }
        report::error::note(&text);
        return 0;
    }
    if REQUIRE_ARGS.contains(&short.as_str()) && raw_args.is_empty() {
        let hint = if pattern.ends_with(".yml") { " (did you mean to run `stockman playbook`?)" } else { "" };
        return report::error::fatal(&format!("No argument passed to {short} module{hint}"), 5);
    }
    if hosts.is_empty() {
        report::error::warning("No hosts matched, nothing to do");
        return 0;
    }
    if let Err(e) = crate::rlimit::check_open_files(hosts.len()) {
        return report::error::fatal(&e.to_string(), 1);
    }
    let play = play_node(&pattern, &module, &raw_args, &module_args, background, poll);
    let path = dir.join("__adhoc_playbook__");
    let adhoc_playbook = match crate::yaml::parse_str(&play.to_string(), format!("<adhoc {module:?} task>").into()) {
        Ok(node) => playbook::load_node(&node, &path, &settings.roles_path),
        Err(e) => Err(e.into()),
    };
    let adhoc_playbook = match adhoc_playbook {
        Ok(pb) => pb,
        Err(e) => return report::error::load_error(&e),
    };
    let task_repr = task_repr(&module, &module_args, background, poll);
    let reporter = Adhoc::new(AdhocOptions { module, task_repr, one_line, tree, no_color: settings.no_color, verbosity: settings.verbosity, in_playbook: false }).forcing_color(settings.force_color);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return report::error::fatal(&format!("cannot start the async runtime: {e}"), 1),
    };
    let code = runtime.block_on(Executor::new(&settings, &inventory, &reporter as &dyn Reporter).run(std::slice::from_ref(&adhoc_playbook)));
    u8::try_from(code).unwrap_or(1)
}

/// The hosts the pattern (and `-l`) selects, by name; none when nothing matches.
fn selected_hosts(inventory: &Inventory, pattern: &str, limit: Option<&str>) -> Vec<String> {
    match inventory.select(pattern, limit) {
        Ok(selection) => {
            for w in &selection.warnings {
                report::error::warning(w);
            }
            selection.hosts.into_iter().map(|h| h.name).collect()
        }
        Err(_) => Vec::new(),
    }
}

/// The arguments as Ansible's ad-hoc command reads them: a JSON mapping when
/// the text is one, else `key=value` words (the rest is the free-form command).
fn adhoc_args(module: &str, text: &str) -> Result<Map<String, Value>, String> {
    if text.starts_with('{') && text.ends_with('}') {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
            return Ok(map);
        }
    }
    let free_form = REQUIRE_ARGS.contains(&module);
    parse_kv(text, true, |k| !free_form || FREE_FORM_OPTIONS.contains(&k)).map_err(|e| format!("-a {text}: {e}"))
}

/// The one-task play: Ansible's `Ansible Ad-Hoc` play without fact gathering.
fn play_node(pattern: &str, module: &str, raw_args: &str, parsed: &Map<String, Value>, background: u64, poll: u64) -> Value {
    // A key=value string goes to the loader as written: it applies the module's own rules.
    let args = if raw_args.is_empty() {
        Value::Null
    } else if raw_args.starts_with('{') && !parsed.is_empty() && serde_json::from_str::<Value>(raw_args).is_ok() {
        Value::Object(parsed.clone())
    } else {
        Value::String(raw_args.to_string())
    };
    let mut task = Map::new();
    task.insert(module.to_string(), args);
    if background > 0 {
        task.insert("async".into(), json!(background));
        task.insert("poll".into(), json!(poll));
    }
    json!([{"name": "Ansible Ad-Hoc", "hosts": pattern, "gather_facts": false, "tasks": [Value::Object(task)]}])
}

/// The task as ansible-core prints it under `Origin:` (a Python dict repr).
fn task_repr(module: &str, args: &Map<String, Value>, background: u64, poll: u64) -> String {
    let task = json!({"action": module, "args": Value::Object(args.clone()), "timeout": 0, "async_val": background, "poll": poll});
    crate::template::py::repr(&task)
}

/// The playbook flags the ad-hoc flags stand for, so both build their settings one way.
fn playbook_args(a: AdhocArgs) -> PlaybookArgs {
    PlaybookArgs {
        common: a.common,
        tags: Vec::new(),
        skip_tags: Vec::new(),
        syntax_check: false,
        list_hosts: false,
        list_tasks: false,
        list_tags: false,
        start_at_task: None,
        step: false,
        shard: None,
        shard_unsafe: false,
        force_handlers: false,
        flush_cache: false,
        output: OutputArgs { format: OutputFormat::Human, junit: None, detailed_exitcode: false, profile: false },
        // Ad-hoc commands are not recorded in the run history (playbook runs are).
        history: super::history::RecordFlags { no_history: true, history_url: None },
        playbooks: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_form_words_stay_the_command_and_options_are_split_out() {
        let args = adhoc_args("shell", "chdir=/tmp echo a=b").unwrap();
        assert_eq!(Value::Object(args), json!({"chdir": "/tmp", "_raw_params": "echo a=b"}));
        assert_eq!(Value::Object(adhoc_args("copy", r#"{"content": "x", "dest": "/d"}"#).unwrap()), json!({"content": "x", "dest": "/d"}));
    }

    #[test]
    fn the_origin_repr_is_ansible_s() {
        let args = adhoc_args("command", "false").unwrap();
        assert_eq!(task_repr("command", &args, 0, 15), "{'action': 'command', 'args': {'_raw_params': 'false'}, 'timeout': 0, 'async_val': 0, 'poll': 15}");
    }
}
