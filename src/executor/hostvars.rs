//! The `hostvars` magic variable: every host's variables, by name.
//!
//! Nothing is copied per task: templates see a [`HostVars`] object over a
//! table shared by the play's hosts, and a host's entry is converted to
//! template values one key at a time, only when a template reads it. Hosts
//! publish their layers (inventory and magic, facts, set_fact and registered)
//! when these change; hosts outside the play show their inventory variables.
//!
//! A task's variables written as templates by the user (inventory, play,
//! role, task vars, include_vars, `-e`, ...) are rendered when read, in the
//! reader's context (Ansible's lazy templating); through `hostvars[h]`, the
//! inventory and extra-var ones render in h's context. A loop among them
//! fails the render (see [`recursion`](crate::template::recursion)). The table also
//! holds the live `ansible_play_hosts`/`ansible_play_batch`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value as Jinja};
use serde_json::{Map, Value};

use super::scope::{Layer, Level, Scope};
use crate::combine::HashBehaviour;
use crate::inventory::Inventory;
use crate::template::Templar;

/// One host's variable layers, lowest precedence first; shared, never copied.
#[derive(Debug, Clone, Default)]
pub struct HostLayers {
    pub base: Arc<Map<String, Value>>,
    pub facts: Arc<Map<String, Value>>,
    pub registered: Arc<Map<String, Value>>,
    /// The names in `registered` that `include_vars` set last: the user's own
    /// values, which may be templates (set_fact and results are data).
    pub included: Arc<std::collections::BTreeSet<String>>,
}

/// The table behind `hostvars` for one play (or serial batch).
#[derive(Debug, Default)]
pub struct HostVarsTable {
    /// Replaced when `add_host`, `group_by` or `refresh_inventory` change it.
    inventory: RwLock<Arc<Inventory>>,
    extra: Arc<Map<String, Value>>,
    published: RwLock<HashMap<String, HostLayers>>,
    /// `ansible_play_hosts` and `ansible_play_batch` as they stand now.
    play_hosts: RwLock<Option<PlayHostLists>>,
    /// Renders a host's own template values in its context; made on first use.
    templar: std::sync::OnceLock<Templar>,
}

/// The play's and the batch's hosts less those that failed in the play so
/// far (Ansible's `_removed_hosts`); replaced whenever a host fails.
#[derive(Debug, Clone)]
pub struct PlayHostLists {
    pub play: Jinja,
    pub batch: Jinja,
}

impl HostVarsTable {
    pub fn new(inventory: Arc<Inventory>, extra: Arc<Map<String, Value>>) -> Self {
        HostVarsTable { inventory: RwLock::new(inventory), extra, ..HostVarsTable::default() }
    }

    /// What `ansible_play_hosts` and `ansible_play_batch` show from now on.
    pub fn set_play_hosts(&self, lists: PlayHostLists) {
        *self.play_hosts.write().unwrap_or_else(|e| e.into_inner()) = Some(lists);
    }

    fn play_hosts(&self) -> Option<PlayHostLists> {
        self.play_hosts.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_inventory(&self, inventory: Arc<Inventory>) {
        *self.inventory.write().unwrap_or_else(|e| e.into_inner()) = inventory;
    }

    fn inventory(&self) -> Arc<Inventory> {
        self.inventory.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Makes `layers` what `hostvars[name]` shows from now on.
    pub fn publish(&self, name: &str, layers: HostLayers) {
        self.published.write().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), layers);
    }

    fn templar(&self) -> &Templar {
        self.templar.get_or_init(Templar::new)
    }

    fn entry(self: &Arc<Self>, name: &str) -> Option<HostEntry> {
        let extra = self.extra.clone();
        let table = self.clone();
        if let Some(layers) = self.published.read().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Some(HostEntry::new(layers.clone(), extra, table));
        }
        let inventory = self.inventory();
        let host = inventory.host(name)?;
        let mut base = host.vars.clone();
        base.insert("inventory_hostname".into(), host.name.clone().into());
        base.insert("inventory_hostname_short".into(), host.name.split('.').next().unwrap_or_default().into());
        base.insert("group_names".into(), host.groups.clone().into());
        Some(HostEntry::new(HostLayers { base: Arc::new(base), ..HostLayers::default() }, extra, table))
    }

    fn names(&self) -> Vec<String> {
        let inventory = self.inventory();
        let mut names: Vec<String> = inventory.hosts().iter().map(|h| h.name.clone()).collect();
        let published = self.published.read().unwrap_or_else(|e| e.into_inner());
        names.extend(published.keys().filter(|n| inventory.host(n).is_none()).cloned());
        names
    }
}

/// `hostvars` itself: host name → that host's variables.
#[derive(Debug)]
pub struct HostVars(pub Arc<HostVarsTable>);

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        self.0.entry(key.as_str()?).map(Jinja::from_object)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.names().into_iter().map(Jinja::from).collect())
    }
}

/// `hostvars[name]`: the host's layers with extra vars on top.
#[derive(Debug)]
struct HostEntry {
    vars: Scope,
    /// Its inventory layer, for the host's name.
    base: Arc<Map<String, Value>>,
    table: Arc<HostVarsTable>,
}

impl HostEntry {
    fn new(layers: HostLayers, extra: Arc<Map<String, Value>>, table: Arc<HostVarsTable>) -> Self {
        let base = Arc::clone(&layers.base);
        let all = vec![
            Layer::new(Level::Inventory, layers.base),
            Layer::new(Level::Facts, layers.facts),
            Layer::registered(layers.registered, layers.included),
            Layer::new(Level::Extra, extra),
        ];
        // Dictionaries are not merged through hostvars (as stockman always did).
        HostEntry { vars: Scope::new(all, HashBehaviour::Replace), base, table }
    }

    /// A template value rendered in this host's context, as Ansible does for
    /// `hostvars[h].x`; undefined when it cannot be (so `default` applies).
    fn render(self: &Arc<Self>, key: &str, value: &Value) -> Jinja {
        let own = Jinja::from_dyn_object(self.clone());
        let ctx = minijinja::value::merge_maps([own, live_magic(&self.table)]);
        let host = self.base.get("inventory_hostname").and_then(Value::as_str).unwrap_or_default();
        let name = format!("hostvars['{host}'].{key}");
        let rendered = crate::template::recursion::resolve_quietly(&name, || self.table.templar().render_value(value, &ctx));
        to_template_value(rendered)
    }
}

/// `value`, the template of variable `name`, rendered in `ctx`; undefined when
/// it cannot be, or when it is read again while it renders (a loop, which
/// fails the outer render: see [`recursion`](crate::template::recursion)).
fn render_lazily(table: &HostVarsTable, name: &str, value: &Value, ctx: &Jinja) -> Jinja {
    to_template_value(crate::template::recursion::resolve(name, || table.templar().render_value(value, ctx)))
}

/// A lazily rendered value; undefined when it failed, or when a loop was found
/// during the render it is part of (what was rendered then is not kept).
fn to_template_value(rendered: Option<Result<Value, crate::template::TemplateError>>) -> Jinja {
    match rendered {
        Some(Ok(v)) if !crate::template::recursion::found() => Jinja::from(minijinja::value::Serde(v)),
        _ => Jinja::UNDEFINED,
    }
}

/// A task's variables as a template object: a read looks the name up
/// through the layers and converts that value alone. The user's own templates
/// among them (inventory, group_vars/host_vars, play, role, block and task
/// vars, include_vars, include parameters, `-e`) render when read, in the
/// reader's context, as Ansible templates variables lazily; each once per context.
#[derive(Debug)]
struct TaskScope {
    vars: Scope,
    table: Arc<HostVarsTable>,
    rendered: std::sync::Mutex<HashMap<String, Jinja>>,
}

impl Object for TaskScope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        let name = key.as_str()?;
        let found = self.vars.find(name)?;
        if !found.template {
            return Some(Jinja::from(minijinja::value::Serde(&*found.value)));
        }
        if let Some(done) = self.rendered.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Some(done.clone());
        }
        let ctx = compose(Jinja::from_dyn_object(self.clone()), &self.table);
        let value = render_lazily(&self.table, name, &found.value, &ctx);
        if !value.is_undefined() {
            self.rendered.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), value.clone());
        }
        Some(value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.vars.names().into_iter().map(Jinja::from).collect())
    }
}

impl Object for HostEntry {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        let name = key.as_str()?;
        let found = self.vars.find(name)?;
        match found.template {
            true => Some(self.render(name, &found.value)),
            false => Some(Jinja::from(minijinja::value::Serde(&*found.value))),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.vars.names().into_iter().map(Jinja::from).collect())
    }
}

/// `groups`: group name → member names, read from the current inventory, so
/// `group_by` and `add_host` show at once, as in Ansible.
#[derive(Debug)]
struct Groups(Arc<HostVarsTable>);

impl Object for Groups {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        let name = key.as_str()?;
        let inventory = self.0.inventory();
        let members = inventory.groups().iter().find(|(g, _)| g == name).map(|(_, m)| m.clone())?;
        Some(Jinja::from(members))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let names: Vec<Jinja> = self.0.inventory().groups().iter().map(|(g, _)| Jinja::from(g.as_str())).collect();
        Enumerator::Values(names)
    }
}

/// `hostvars` and `groups`, read live from the table.
fn live_magic(table: &Arc<HostVarsTable>) -> Jinja {
    minijinja::context! {
        hostvars => Jinja::from_object(HostVars(table.clone())),
        groups => Jinja::from_object(Groups(table.clone())),
    }
}

/// A task's variables as a template context, with `hostvars` and `groups`
/// beside them; the user's own templates among them render when read.
pub fn context_with(vars: &Scope, table: &Arc<HostVarsTable>) -> Jinja {
    let own = TaskScope { vars: vars.clone(), table: table.clone(), rendered: Default::default() };
    compose(Jinja::from_object(own), table)
}

/// A context of `own` variables under the live magic ones (`hostvars`,
/// `groups`, `ansible_play_hosts`, `ansible_play_batch`): the last map wins.
fn compose(own: Jinja, table: &Arc<HostVarsTable>) -> Jinja {
    let mut maps = vec![own, live_magic(table)];
    if let Some(lists) = table.play_hosts() {
        maps.push(minijinja::context! { ansible_play_hosts => lists.play, ansible_play_batch => lists.batch });
    }
    minijinja::value::merge_maps(maps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layers(base: Value, registered: Value) -> HostLayers {
        let map = |v: Value| Arc::new(v.as_object().cloned().unwrap_or_default());
        HostLayers { base: map(base), registered: map(registered), ..HostLayers::default() }
    }

    #[test]
    fn reads_published_layers_by_precedence() {
        let table = Arc::new(HostVarsTable::new(Arc::default(), Arc::new(json!({"e": "extra"}).as_object().cloned().unwrap())));
        table.publish("web1", layers(json!({"a": 1, "b": 1}), json!({"b": 2})));
        let ctx = context_with(&Scope::default(), &table);
        let env = minijinja::Environment::new();
        let render = |t: &str| env.render_str(t, ctx.clone()).unwrap();
        assert_eq!(render("{{ hostvars['web1'].a }} {{ hostvars.web1.b }} {{ hostvars['web1']['e'] }}"), "1 2 extra");
        assert_eq!(render("{{ 'yes' if hostvars['nope'] is defined else 'no' }}"), "no");
        assert_eq!(render("{{ 'yes' if 'web1' in hostvars else 'no' }}"), "yes");
    }

    #[test]
    fn a_later_publication_replaces_the_entry() {
        let table = Arc::new(HostVarsTable::new(Arc::default(), Arc::default()));
        table.publish("h", layers(json!({"x": 1}), json!({})));
        table.publish("h", layers(json!({"x": 1}), json!({"x": 3})));
        let env = minijinja::Environment::new();
        assert_eq!(env.render_str("{{ hostvars.h.x }}", context_with(&Scope::default(), &table)).unwrap(), "3");
    }

    #[test]
    fn own_templates_render_when_read_and_data_never_does() {
        let table = Arc::new(HostVarsTable::new(Arc::default(), Arc::default()));
        let base = json!({"inventory_hostname": "h", "y": "why", "x": "{{ y }}!", "nested": "<{{ x }}>"});
        table.publish("h", layers(base.clone(), json!({"out": "{{ y }}"})));
        let own = Layer::new(Level::Inventory, Arc::new(base.as_object().cloned().unwrap()));
        let result = Layer::registered(Arc::new(json!({"out": "{{ y }}"}).as_object().cloned().unwrap()), Arc::default());
        let ctx = context_with(&Scope::new(vec![own, result], HashBehaviour::Replace), &table);
        let t = Templar::new();
        assert_eq!(t.render_str("{{ nested }} {{ hostvars.h.nested }}", &ctx).unwrap(), json!("<why!> <why!>"));
        assert_eq!(t.render_str("{{ out }}", &ctx).unwrap(), json!("{{ y }}"));
    }

    #[test]
    fn templates_using_each_other_fail_every_render_that_reads_them() {
        let table = Arc::new(HostVarsTable::new(Arc::default(), Arc::default()));
        let vars = json!({"a": "{{ b }}", "b": "{{ a | default(1) }}", "ok": "{{ 2 }}"}).as_object().cloned().unwrap();
        let ctx = context_with(&Scope::new(vec![Layer::new(Level::TaskVars, Arc::new(vars))], HashBehaviour::Replace), &table);
        let t = Templar::new();
        for text in ["{{ a }}", "{{ a | default('x') }}", "{{ b is defined }}"] {
            let e = t.render_str(text, &ctx).unwrap_err();
            assert!(e.message.starts_with("Recursive loop detected in template: "), "{text}: {}", e.message);
        }
        assert!(!t.eval_condition("b is defined and a is defined", &ctx).is_ok());
        // A variable rendered during a failed render is not kept.
        assert!(t.render_str("{{ b }}", &ctx).is_err());
        assert_eq!(t.render_str("{{ ok }}", &ctx).unwrap(), json!(2));
    }
}
