//! Per-host state during a play: variables by layer, registered results,
//! notified handlers, failure flags and the connection.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::fact_cache::{self, FactCache};
use super::hostvars::{self, HostLayers, HostVarsTable};
use super::scope::{Layer, Level, Scope};
use super::SharedConnection;
use crate::combine::HashBehaviour;
use crate::config::{home_dir, Settings};
use crate::inventory::Host;
use crate::playbook::{Play, Role};
use crate::template::Templar;
use crate::transport::{ssh_config, ConnectSpec, ConnectionKind, HostKeyPolicy, Secret, SshInputs};

/// A host's set_fact and registered variables, carried from play to play.
#[derive(Clone)]
pub struct RunVars {
    pub registered: Arc<Map<String, Value>>,
    pub included: Arc<std::collections::BTreeSet<String>>,
}

/// The facts layer from a cache entry: all facts in `ansible_facts` without the
/// `ansible_` prefix (`ansible_local` keeps its name, as Ansible's namespace_facts
/// does), and each a variable of its own when `inject` (INJECT_FACTS_AS_VARS; False
/// keeps only `ansible_local`, as in ansible-core 2.19). The gathered marker is neither.
fn facts_layer(entry: &Map<String, Value>, inject: bool) -> Map<String, Value> {
    let mut layer = Map::new();
    let mut tree = Map::new();
    for (k, v) in entry.iter().filter(|(k, _)| k.as_str() != fact_cache::GATHERED) {
        if inject || k == "ansible_local" {
            layer.insert(k.clone(), v.clone());
        }
        let short = if k == "ansible_local" { k } else { k.strip_prefix("ansible_").unwrap_or(k) };
        tree.insert(short.to_string(), v.clone());
    }
    layer.insert("ansible_facts".into(), Value::Object(tree));
    layer
}

/// The cache entry a facts layer stands for: its variables but `ansible_facts`,
/// or (facts not injected as variables) `ansible_facts` with the prefix put back.
fn fact_entry(layer: &Map<String, Value>, inject: bool) -> Map<String, Value> {
    if inject {
        return layer.iter().filter(|(k, _)| k.as_str() != "ansible_facts").map(|(k, v)| (k.clone(), v.clone())).collect();
    }
    let tree = layer.get("ansible_facts").and_then(Value::as_object).cloned().unwrap_or_default();
    tree.into_iter()
        .map(|(k, v)| (if k.starts_with("ansible_") { k } else { format!("ansible_{k}") }, v))
        .collect()
}

/// The value that makes a module argument disappear (`{{ x | default(omit) }}`).
pub const OMIT: &str = "__omit_place_holder__stockman__";

pub struct HostState {
    pub name: String,
    pub spec: ConnectSpec,
    /// Inventory and magic variables, facts, set_fact and registered results:
    /// shared with `hostvars`, copied only when one changes.
    layers: HostLayers,
    /// The play's `hostvars`, where this host publishes its layers.
    hostvars: Arc<HostVarsTable>,
    /// The batch's magic variables (`groups`, `ansible_play_hosts`, ...): each
    /// holds every host's name, so all hosts share one copy (a copy per host
    /// grows with hosts x hosts: hundreds of MB at 1,000 hosts).
    magic: Arc<Map<String, Value>>,
    pub failed: bool,
    pub unreachable: bool,
    /// `meta: end_host`: done with this play, not failed.
    pub ended: bool,
    /// Not taking part in the current rescue section (its block did not fail here).
    pub sitting_out: bool,
    /// Indexes into the play's handlers.
    pub notified: BTreeSet<usize>,
    pub conn: SharedConnection,
    /// `ansible_host` and `ansible_connection` as the connection resolved them,
    /// for tasks where no variable gives them (Ansible's PlayContext.update_vars);
    /// not in `hostvars`, as in Ansible.
    connection_vars: Arc<Map<String, Value>>,
    /// The play's vars and vars_files, shared by the host's tasks.
    play_vars: Arc<Map<String, Value>>,
    vars_files: Arc<Map<String, Value>>,
    /// The play's roles' defaults and vars, shown to all its tasks.
    role_defaults: Arc<Map<String, Value>>,
    role_exports: Arc<Map<String, Value>>,
    /// Where the host's facts are kept across plays and runs (None for a delegation target's state).
    cache: Option<Arc<FactCache>>,
    /// INJECT_FACTS_AS_VARS: facts are variables of their own besides `ansible_facts`.
    inject_facts: bool,
    /// hash_behaviour: how the layers combine in a [`Scope`] lookup.
    hash: HashBehaviour,
}

impl HostState {
    pub fn new(
        host: &Host,
        play: &Play,
        settings: &Settings,
        magic: &Arc<Map<String, Value>>,
        conn: SharedConnection,
        templar: &Templar,
        hostvars: Arc<HostVarsTable>,
    ) -> Result<Self, String> {
        let mut base = host.vars.clone();
        base.insert("inventory_hostname".into(), host.name.clone().into());
        base.insert("inventory_hostname_short".into(), host.name.split('.').next().unwrap_or_default().into());
        base.insert("group_names".into(), host.groups.clone().into());
        let mut state = HostState {
            name: host.name.clone(),
            spec: placeholder_spec(&host.name),
            layers: HostLayers { base: Arc::new(base), ..HostLayers::default() },
            hostvars,
            magic: Arc::clone(magic),
            failed: false,
            unreachable: false,
            ended: false,
            sitting_out: false,
            notified: BTreeSet::new(),
            conn,
            connection_vars: Arc::default(),
            play_vars: Arc::new(play.vars.clone()),
            vars_files: Arc::new(play.vars_files.clone()),
            role_defaults: Arc::new(play.role_defaults.clone()),
            role_exports: Arc::new(play.role_exports.clone()),
            cache: None,
            inject_facts: settings.inject_facts_as_vars,
            hash: settings.hash_behaviour,
        };
        let extra = Arc::new(settings.extra_vars.clone());
        let vars = state.vars(&Layers { role: None, task_vars: &Map::new(), params: &Map::new(), extra: &extra, task_file: None });
        state.spec = connect_spec(&host.name, &vars, &state.context(&vars), play, settings, templar)?;
        state.connection_vars = Arc::new(connection_vars(&state.spec));
        state.publish();
        Ok(state)
    }

    pub fn active(&self) -> bool {
        !self.failed && !self.unreachable && !self.ended && !self.sitting_out
    }

    /// Picks up what earlier plays (and, with jsonfile, earlier runs) left for this
    /// host: its cached facts, its set_fact and registered variables.
    pub fn resume(&mut self, cache: &Arc<FactCache>) {
        self.cache = Some(Arc::clone(cache));
        let cached = cache.facts(&self.name);
        if !cached.is_empty() {
            self.layers.facts = Arc::new(facts_layer(&cached, self.inject_facts));
        }
        if let Some(kept) = cache.run_vars(&self.name) {
            self.layers.registered = kept.registered;
            self.layers.included = kept.included;
        }
        self.publish();
    }

    /// Whether `value` of `name` is only the one the connection gave the task
    /// (PlayContext.update_vars), not a variable anyone set: it must not beat a
    /// task's `connection`/`remote_user` keyword. (A variable set to exactly the
    /// resolved value counts as unset; the outcome is the same but for `connection`.)
    pub fn is_connection_default(&self, name: &str, value: &minijinja::Value) -> bool {
        self.connection_vars.get(name).and_then(Value::as_str).is_some_and(|v| value.as_str() == Some(v))
    }

    /// What later plays of the run take over from this one.
    pub fn run_vars(&self) -> RunVars {
        RunVars { registered: Arc::clone(&self.layers.registered), included: Arc::clone(&self.layers.included) }
    }

    /// Facts a module returned (`setup`, `getent`, a fallback module's) or a
    /// `set_fact ... cacheable`, merged into the host's facts as Ansible does:
    /// each under its own name as a variable, and in `ansible_facts` without the
    /// `ansible_` prefix; kept in the fact cache.
    pub fn merge_module_facts(&mut self, facts: &Map<String, Value>) -> Result<(), String> {
        self.cache_facts(facts)
    }

    fn cache_facts(&mut self, facts: &Map<String, Value>) -> Result<(), String> {
        let written = match &self.cache {
            Some(cache) => {
                let written = cache.update(&self.name, facts);
                self.layers.facts = Arc::new(facts_layer(&cache.facts(&self.name), self.inject_facts));
                written
            }
            None => {
                let mut entry = fact_entry(&self.layers.facts, self.inject_facts);
                entry.extend(facts.iter().map(|(k, v)| (k.clone(), v.clone())));
                self.layers.facts = Arc::new(facts_layer(&entry, self.inject_facts));
                Ok(())
            }
        };
        self.publish();
        written
    }

    /// A registered result or a `set_fact`: above everything but extra vars;
    /// data, never rendered again.
    pub fn register(&mut self, name: &str, value: Value) {
        if self.layers.included.contains(name) {
            Arc::make_mut(&mut self.layers.included).remove(name);
        }
        Arc::make_mut(&mut self.layers.registered).insert(name.to_string(), value);
        self.publish();
    }

    /// A variable read by `include_vars`: at set_fact's level, but the user's
    /// own value, which renders when read if it is a template. With
    /// hash_behaviour=merge a dictionary merges into the one an earlier
    /// include_vars (or set_fact: stockman keeps both in one layer) set.
    pub fn include_var(&mut self, name: &str, value: Value) {
        Arc::make_mut(&mut self.layers.included).insert(name.to_string());
        self.hash.set(Arc::make_mut(&mut self.layers.registered), name, &value);
        self.publish();
    }

    /// Shows the current layers in `hostvars` (cheap: the maps are shared).
    fn publish(&self) {
        self.hostvars.publish(&self.name, self.layers.clone());
    }

    /// `vars` (from [`HostState::vars`]) as a template context, with
    /// `hostvars`; the user's own templates among them render when read.
    pub fn context(&self, vars: &TaskVars) -> minijinja::Value {
        hostvars::context_with(vars, &self.hostvars)
    }

    /// All variables visible to a task: the host's layers, the play's and
    /// the task's, shared, in [`Level`] order (the one statement of
    /// precedence); nothing is merged or copied but the task's own maps.
    pub fn vars(&self, layers: &Layers<'_>) -> TaskVars {
        let own = &self.layers;
        let mut all = vec![
            Layer::new(Level::Connection, Arc::clone(&self.connection_vars)),
            Layer::new(Level::Inventory, Arc::clone(&own.base)),
            Layer::new(Level::Magic, Arc::clone(&self.magic)),
            Layer::new(Level::Facts, Arc::clone(&own.facts)),
            Layer::new(Level::PlayVars, Arc::clone(&self.play_vars)),
            Layer::new(Level::VarsFiles, Arc::clone(&self.vars_files)),
            Layer::new(Level::PlayRoleDefaults, Arc::clone(&self.role_defaults)),
            Layer::new(Level::PlayRoleVars, Arc::clone(&self.role_exports)),
            Layer::registered(Arc::clone(&own.registered), Arc::clone(&own.included)),
            Layer::new(Level::Extra, Arc::clone(layers.extra)),
            Layer::new(Level::TaskMagic, Arc::new(task_magic(&self.magic, layers))),
        ];
        if let Some(role) = layers.role {
            all.extend([Layer::role_defaults(role), Layer::role_vars(role)]);
        }
        for (level, map) in [(Level::TaskVars, layers.task_vars), (Level::IncludeParams, layers.params)] {
            if !map.is_empty() {
                all.push(Layer::new(level, Arc::new(map.clone())));
            }
        }
        Scope::new(all, self.hash)
    }
}

/// A task's variables: layers looked up by precedence, and what the task
/// binds over them (loop items, results).
pub type TaskVars = Scope;

/// The variables that are the task's own: its role's name and path, and
/// `ansible_search_path`.
fn task_magic(magic: &Map<String, Value>, layers: &Layers<'_>) -> Map<String, Value> {
    let mut vars = Map::new();
    if let Some(role) = layers.role {
        vars.insert("role_name".into(), role.name.clone().into());
        vars.insert("ansible_role_name".into(), role.name.clone().into());
        vars.insert("role_path".into(), role.path.display().to_string().into());
    }
    vars.insert("ansible_search_path".into(), search_path(magic, layers));
    vars
}

/// Ansible's task search path: the role, the task file's directory, the
/// playbook's directory (each once, absolute).
fn search_path(magic: &Map<String, Value>, layers: &Layers<'_>) -> Value {
    let task_dir = layers.task_file.and_then(|f| std::path::Path::new(f).parent()).map(|d| d.display().to_string());
    let playbook_dir = magic.get("playbook_dir").and_then(Value::as_str).map(str::to_string);
    let mut out: Vec<Value> = Vec::new();
    for dir in [layers.role.map(|r| r.path.display().to_string()), task_dir, playbook_dir].into_iter().flatten() {
        let dir = Value::String(crate::template::unfrack(std::path::Path::new(&dir)).display().to_string());
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    Value::Array(out)
}

/// The variable layers of a task besides the host's own.
pub struct Layers<'a> {
    pub role: Option<&'a Arc<Role>>,
    pub task_vars: &'a Map<String, Value>,
    /// Dynamic include parameters: above set_fact and registered results.
    pub params: &'a Map<String, Value>,
    pub extra: &'a Arc<Map<String, Value>>,
    /// The file the task was written in: its directory joins `ansible_search_path`.
    pub task_file: Option<&'a str>,
}

fn connection_vars(spec: &ConnectSpec) -> Map<String, Value> {
    let kind = match spec.kind {
        ConnectionKind::Ssh => "ssh",
        ConnectionKind::Local => "local",
    };
    let mut vars = Map::new();
    vars.insert("ansible_host".into(), spec.address.clone().into());
    vars.insert("ansible_connection".into(), kind.into());
    vars
}

fn placeholder_spec(name: &str) -> ConnectSpec {
    ConnectSpec { name: name.to_string(), address: name.to_string(), ..ConnectSpec::default() }
}

/// How to reach the host. Inventory variables win over play keywords, which
/// win over command-line flags, as in Ansible.
fn connect_spec(name: &str, vars: &TaskVars, ctx: &minijinja::Value, play: &Play, settings: &Settings, templar: &Templar) -> Result<ConnectSpec, String> {
    let get = |key: &str| -> Result<Option<String>, String> {
        match vars.get(key).as_deref() {
            None | Some(Value::Null) => Ok(None),
            Some(v) => templar
                .render_value(v, ctx)
                .map(|v| Some(stockman_modules::args::value_to_string(&v)))
                .map_err(|e| format!("{key}: {e}")),
        }
    };
    let kind = match get("ansible_connection")?.or_else(|| play.connection.clone()).as_deref() {
        None => settings.connection.unwrap_or(ConnectionKind::Ssh),
        Some(other) => ConnectionKind::parse(other).ok_or_else(|| format!("unknown ansible_connection `{other}` for host `{name}` (use ssh or local)"))?,
    };
    let port = match get("ansible_port")?.or(get("ansible_ssh_port")?) {
        None => 22,
        Some(p) => p.parse().map_err(|_| format!("ansible_port `{p}` of host `{name}` is not a port number"))?,
    };
    let checking = match get("ansible_host_key_checking")?.or(get("ansible_ssh_host_key_checking")?) {
        Some(v) => stockman_modules::args::parse_bool(&Value::String(v.clone())).ok_or_else(|| format!("ansible_host_key_checking `{v}` is not a boolean"))?,
        None => settings.host_key_checking,
    };
    let address = get("ansible_host")?.or(get("ansible_ssh_host")?).unwrap_or_else(|| name.to_string());
    if kind == ConnectionKind::Local {
        return Ok(ConnectSpec { name: name.to_string(), address, kind, ..ConnectSpec::default() });
    }
    let number = |key: &str| -> Result<Option<u64>, String> {
        get(key)?.map(|v| v.parse().map_err(|_| format!("{key} `{v}` of host `{name}` is not a number"))).transpose()
    };
    let inputs = SshInputs {
        name: name.to_string(),
        host: address,
        // An explicit port overrides ssh_config; none lets ssh_config (or 22) decide.
        port: match has_any(vars, &["ansible_port", "ansible_ssh_port"]) {
            true => Some(port),
            false => play_port(play, ctx, templar)?,
        },
        user: get("ansible_user")?.or(get("ansible_ssh_user")?).or_else(|| play.remote_user.clone()).or_else(|| settings.remote_user.clone()),
        private_key: get("ansible_ssh_private_key_file")?.or(get("ansible_private_key_file")?).map(expand_tilde).or_else(|| settings.private_key.clone()),
        host_key_policy: (!checking).then_some(HostKeyPolicy::Off),
        connect_timeout: number("ansible_ssh_timeout")?.or(number("ansible_timeout")?).map(std::time::Duration::from_secs),
        default_timeout: settings.connect_timeout,
        config_file: settings.ssh_config.clone(),
        ssh_args: [
            settings.ssh_args.clone(),
            get("ansible_ssh_common_args")?.or_else(|| settings.ssh_common_args.clone()),
            get("ansible_ssh_extra_args")?.or_else(|| settings.ssh_extra_args.clone()),
        ]
        .into_iter()
        .flatten()
        .collect(),
        password: get("ansible_password")?.or(get("ansible_ssh_pass")?).or(get("ansible_ssh_password")?).map(Secret::new).or_else(|| settings.password.clone()),
        key_passphrase: settings.key_passphrase.clone(),
        retries: number("ansible_ssh_retries")?.map_or(settings.ssh_retries, |n| u32::try_from(n).unwrap_or(u32::MAX)),
    };
    ssh_config::resolve(&inputs).map_err(|e| format!("host `{name}`: {e}"))
}

/// The play's `port:` (a number or a template), for hosts without `ansible_port`.
fn play_port(play: &Play, ctx: &minijinja::Value, templar: &Templar) -> Result<Option<u16>, String> {
    let Some(value) = &play.port else { return Ok(None) };
    let rendered = templar.render_value(value, ctx).map_err(|e| format!("port: {e}"))?;
    let text = stockman_modules::args::value_to_string(&rendered);
    text.parse().map(Some).map_err(|_| format!("the play's port `{text}` is not a port number"))
}

fn has_any(vars: &TaskVars, keys: &[&str]) -> bool {
    keys.iter().any(|k| !matches!(vars.get(k).as_deref(), None | Some(Value::Null)))
}

fn expand_tilde(path: String) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home_dir().join(rest),
        None => PathBuf::from(path),
    }
}
