//! Variables as shared layers, looked up by name in precedence order.
//!
//! A host's layers (inventory, facts, set_fact and registered results) and a
//! play's (play vars, vars_files, extra vars) are held once, behind `Arc`s; a
//! task's variables are these layers plus the task's own, in [`Level`] order,
//! never merged into a map. A template reads a variable through the layers,
//! and only that variable becomes a template value, when it is read.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::combine::HashBehaviour;
use crate::playbook::Role;
use crate::template::has_template;

/// Where variables come from, lowest precedence first: the one statement of
/// variable precedence (the derived order is the precedence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `ansible_host` and `ansible_connection` as the connection resolved
    /// them, for a task where no variable gives them.
    Connection,
    /// Every `roles:` role's defaults, then the task's own role's.
    PlayRoleDefaults,
    RoleDefaults,
    /// Group then host vars, `inventory_hostname`, `group_names`.
    Inventory,
    /// `groups`, `ansible_play_hosts`, `playbook_dir`, `omit`, vars_prompt
    /// answers...: over inventory variables of the same name.
    Magic,
    Facts,
    PlayVars,
    VarsFiles,
    /// Every `roles:` role's vars/ (Ansible's exported vars), then the task's own role's.
    PlayRoleVars,
    RoleVars,
    /// Block and task vars.
    TaskVars,
    /// include_vars, set_fact and registered results.
    Registered,
    /// Parameters of the dynamic includes a task came through.
    IncludeParams,
    /// `-e`.
    Extra,
    /// `role_name`, `role_path`, `ansible_search_path`: the task's own.
    TaskMagic,
    /// Loop variables and results bound while the task runs.
    Bound,
}

impl Level {
    /// Whether the user wrote this level's values, so that a template among
    /// them renders when read; the others (facts, results) are data.
    /// Registered values are the user's only when include_vars set them.
    fn is_own(self) -> bool {
        matches!(self, Level::PlayRoleDefaults | Level::RoleDefaults | Level::Inventory | Level::PlayVars | Level::VarsFiles | Level::PlayRoleVars | Level::RoleVars | Level::TaskVars | Level::IncludeParams | Level::Extra)
    }
}

/// A layer's map, shared with whoever else holds it.
#[derive(Debug, Clone)]
enum Source {
    Map(Arc<Map<String, Value>>),
    RoleDefaults(Arc<Role>),
    RoleVars(Arc<Role>),
}

impl Source {
    fn map(&self) -> &Map<String, Value> {
        match self {
            Source::Map(map) => map,
            Source::RoleDefaults(role) => &role.defaults,
            Source::RoleVars(role) => &role.vars,
        }
    }
}

/// One layer of variables at its level.
#[derive(Debug, Clone)]
pub struct Layer {
    level: Level,
    source: Source,
    /// For [`Level::Registered`]: the names include_vars set last (the user's own).
    included: Option<Arc<BTreeSet<String>>>,
}

impl Layer {
    pub fn new(level: Level, map: Arc<Map<String, Value>>) -> Self {
        Layer { level, source: Source::Map(map), included: None }
    }

    pub fn role_defaults(role: &Arc<Role>) -> Self {
        Layer { level: Level::RoleDefaults, source: Source::RoleDefaults(Arc::clone(role)), included: None }
    }

    pub fn role_vars(role: &Arc<Role>) -> Self {
        Layer { level: Level::RoleVars, source: Source::RoleVars(Arc::clone(role)), included: None }
    }

    /// The registered layer; `included` names the values include_vars set.
    pub fn registered(map: Arc<Map<String, Value>>, included: Arc<BTreeSet<String>>) -> Self {
        Layer { level: Level::Registered, source: Source::Map(map), included: Some(included) }
    }

    fn is_own(&self, key: &str) -> bool {
        match &self.included {
            Some(included) => included.contains(key),
            None => self.level.is_own(),
        }
    }
}

/// A variable found in the layers.
pub struct Found<'a> {
    pub value: Cow<'a, Value>,
    /// The user's own template (rendered when read), not data.
    pub template: bool,
}

/// Layers in precedence order, with the loop variables and results bound
/// over them; cloned per loop item for the price of the `Arc`s.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Lowest first, empty ones left out.
    layers: Arc<[Layer]>,
    bound: Arc<Map<String, Value>>,
    hash: HashBehaviour,
}

impl Default for Scope {
    fn default() -> Self {
        Scope { layers: Arc::new([]), bound: Arc::default(), hash: HashBehaviour::Replace }
    }
}

impl Scope {
    /// The layers put in [`Level`] order (stable: of one level, the later wins).
    pub fn new(mut layers: Vec<Layer>, hash: HashBehaviour) -> Self {
        layers.retain(|l| !l.source.map().is_empty());
        layers.sort_by_key(|l| l.level);
        Scope { layers: layers.into(), bound: Arc::default(), hash }
    }

    /// Binds `name` to data (a loop item, a result) over every layer.
    pub fn set(&mut self, name: &str, value: Value) {
        Arc::make_mut(&mut self.bound).insert(name.to_string(), value);
    }

    /// What was bound with [`Scope::set`].
    pub fn bound(&self) -> &Map<String, Value> {
        &self.bound
    }

    /// The value of `key`: the highest layer's, or under hash_behaviour=merge
    /// the dictionaries of every layer down to the first non-dictionary merged.
    pub fn find(&self, key: &str) -> Option<Found<'_>> {
        let mut hits = self.hits(key);
        let (top, top_own) = hits.next()?;
        let data = |v: &Value| !v.is_object();
        if self.hash == HashBehaviour::Replace || data(top) {
            return Some(Found { value: Cow::Borrowed(top), template: top_own && has_template(top) });
        }
        let mut below: Vec<(&Value, bool)> = Vec::new();
        for (value, own) in hits {
            below.push((value, own));
            if data(value) {
                break;
            }
        }
        if below.is_empty() {
            return Some(Found { value: Cow::Borrowed(top), template: top_own && has_template(top) });
        }
        let mut merged = Value::Null;
        let mut own_template = false;
        for (value, own) in below.into_iter().rev().chain([(top, top_own)]) {
            own_template |= own && has_template(value);
            match (&mut merged, value) {
                (Value::Object(low), Value::Object(high)) => HashBehaviour::Merge.overlay(low, high),
                (slot, high) => *slot = high.clone(),
            }
        }
        let template = own_template && has_template(&merged);
        Some(Found { value: Cow::Owned(merged), template })
    }

    /// `key`'s values, highest first, and whether each is the user's own.
    fn hits<'s: 'k, 'k>(&'s self, key: &'k str) -> impl Iterator<Item = (&'s Value, bool)> + 'k {
        let bound = self.bound.get(key).map(|v| (v, false));
        let layers = self.layers.iter().rev().filter_map(move |l| Some((l.source.map().get(key)?, l.is_own(key))));
        bound.into_iter().chain(layers)
    }

    /// The value of `key`, templates as written.
    pub fn get(&self, key: &str) -> Option<Cow<'_, Value>> {
        self.find(key).map(|f| f.value)
    }

    /// Every variable's name, each once, lowest layer first.
    pub fn names(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        let all = self.layers.iter().flat_map(|l| l.source.map().keys()).chain(self.bound.keys());
        all.map(String::as_str).filter(|k| seen.insert(*k)).collect()
    }

    /// Every variable with its value, as one map (templates as written).
    pub fn to_map(&self) -> Map<String, Value> {
        self.names().into_iter().filter_map(|k| Some((k.to_string(), self.get(k)?.into_owned()))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Arc<Map<String, Value>> {
        Arc::new(v.as_object().cloned().unwrap())
    }

    #[test]
    fn the_highest_level_wins_whatever_order_layers_come_in() {
        let layers = vec![
            Layer::new(Level::Extra, map(json!({"e": "extra"}))),
            Layer::new(Level::Inventory, map(json!({"a": "inv", "e": "inv", "t": "{{ a }}"}))),
            Layer::registered(map(json!({"a": "reg", "r": "{{ raw }}"})), Arc::default()),
            Layer::new(Level::Connection, map(json!({"a": "conn", "c": "conn"}))),
        ];
        let mut scope = Scope::new(layers, HashBehaviour::Replace);
        let value = |s: &Scope, k: &str| s.get(k).map(Cow::into_owned);
        assert_eq!(value(&scope, "a"), Some(json!("reg")));
        assert_eq!(value(&scope, "e"), Some(json!("extra")));
        assert_eq!(value(&scope, "c"), Some(json!("conn")));
        assert!(scope.find("t").unwrap().template, "an inventory template is the user's own");
        assert!(!scope.find("r").unwrap().template, "a result is data");
        scope.set("e", json!("item"));
        assert_eq!(value(&scope, "e"), Some(json!("item")));
        assert_eq!(scope.names(), ["a", "c", "e", "t", "r"]);
    }

    #[test]
    fn merge_combines_dictionaries_down_to_the_first_other_value() {
        let layers = vec![
            Layer::new(Level::Inventory, map(json!({"d": {"low": 1}}))),
            Layer::new(Level::PlayVars, map(json!({"d": "scalar"}))),
            Layer::new(Level::TaskVars, map(json!({"d": {"mid": "{{ x }}", "top": 0}}))),
            Layer::new(Level::Extra, map(json!({"d": {"top": 2}}))),
        ];
        let merged = Scope::new(layers.clone(), HashBehaviour::Merge);
        let found = merged.find("d").unwrap();
        assert_eq!(*found.value, json!({"mid": "{{ x }}", "top": 2}));
        assert!(found.template);
        assert_eq!(*Scope::new(layers, HashBehaviour::Replace).get("d").unwrap(), json!({"top": 2}));
    }
}
