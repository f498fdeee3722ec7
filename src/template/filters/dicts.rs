//! Dictionary filters: `dict2items`, `items2dict`, `combine`.

use super::{fail, from_json, to_json};
use minijinja::value::{Kwargs, Rest, Value as Jinja, ValueKind};
use minijinja::{Environment, Error};
use serde_json::{Map, Value};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("combine", combine);
}

fn names(kwargs: &Kwargs) -> Result<(String, String), Error> {
    let key = kwargs.get::<Option<String>>("key_name")?.unwrap_or_else(|| "key".into());
    let value = kwargs.get::<Option<String>>("value_name")?.unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    Ok((key, value))
}

fn dict2items(v: Jinja, kwargs: Kwargs) -> Result<Jinja, Error> {
    let (key_name, value_name) = names(&kwargs)?;
    let Value::Object(map) = to_json(&v) else {
        return Err(fail(format!("dict2items requires a dictionary, got {}", v.kind())));
    };
    let rows = map.into_iter().map(|(k, val)| {
        let mut row = Map::new();
        row.insert(key_name.clone(), Value::String(k));
        row.insert(value_name.clone(), val);
        Value::Object(row)
    });
    Ok(from_json(&Value::Array(rows.collect())))
}

fn items2dict(v: Jinja, kwargs: Kwargs) -> Result<Jinja, Error> {
    let (key_name, value_name) = names(&kwargs)?;
    let Value::Array(rows) = to_json(&v) else {
        return Err(fail(format!("items2dict requires a list, got {}", v.kind())));
    };
    let mut out = Map::new();
    for row in rows {
        let (Some(k), Some(val)) = (row.get(&key_name), row.get(&value_name)) else {
            return Err(fail(format!("items2dict requires each item to have `{key_name}` and `{value_name}` keys, got {row}")));
        };
        let key = match k {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.insert(key, val.clone());
    }
    Ok(from_json(&Value::Object(out)))
}

/// How `combine` merges two lists under `recursive=True` or at top level.
#[derive(Clone, Copy, PartialEq)]
enum ListMerge {
    Replace,
    Keep,
    Append,
    Prepend,
    AppendRp,
    PrependRp,
}

impl ListMerge {
    fn parse(name: &str) -> Result<Self, Error> {
        Ok(match name {
            "replace" => Self::Replace,
            "keep" => Self::Keep,
            "append" => Self::Append,
            "prepend" => Self::Prepend,
            "append_rp" => Self::AppendRp,
            "prepend_rp" => Self::PrependRp,
            other => return Err(fail(format!("merge_hash: 'list_merge' argument can only be equal to 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', got '{other}'"))),
        })
    }

    fn merge(self, low: &[Value], high: &[Value]) -> Vec<Value> {
        let without = |xs: &[Value], drop: &[Value]| xs.iter().filter(|x| !drop.contains(x)).cloned().collect::<Vec<_>>();
        match self {
            Self::Replace => high.to_vec(),
            Self::Keep => low.to_vec(),
            Self::Append => [low, high].concat(),
            Self::Prepend => [high, low].concat(),
            Self::AppendRp => [without(low, high).as_slice(), high].concat(),
            Self::PrependRp => [high, without(low, high).as_slice()].concat(),
        }
    }
}

/// Ansible's `combine(*dicts, recursive=False, list_merge='replace')`; the
/// arguments may also be lists of dicts.
fn combine(first: Jinja, others: Rest<Jinja>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let recursive = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge = ListMerge::parse(&kwargs.get::<Option<String>>("list_merge")?.unwrap_or_else(|| "replace".into()))?;
    kwargs.assert_all_used()?;
    let mut dicts = Vec::new();
    for term in std::iter::once(&first).chain(others.iter()) {
        match term.kind() {
            ValueKind::Seq => dicts.extend(term.try_iter()?.map(|d| to_json(&d))),
            _ => dicts.push(to_json(term)),
        }
    }
    let mut result = Map::new();
    for dict in dicts {
        let Value::Object(map) = dict else {
            return Err(fail(format!("failed to combine variables, expected dicts but got a {}", super::py::type_name(&dict))));
        };
        merge_hash(&mut result, map, recursive, list_merge);
    }
    Ok(from_json(&Value::Object(result)))
}


/// Ansible's `merge_hash(low, high)`: `high` wins; dicts merge when
/// recursive; lists follow `list_merge`.
fn merge_hash(low: &mut Map<String, Value>, high: Map<String, Value>, recursive: bool, list_merge: ListMerge) {
    for (key, high_value) in high {
        let merged = match (low.get_mut(&key), high_value) {
            (Some(Value::Object(l)), Value::Object(h)) if recursive => {
                merge_hash(l, h, recursive, list_merge);
                continue;
            }
            (Some(Value::Array(l)), Value::Array(h)) => Value::Array(list_merge.merge(l, &h)),
            (_, h) => h,
        };
        low.insert(key, merged);
    }
}
