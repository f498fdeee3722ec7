//! Dictionary filters: `dict2items`, `items2dict`, `combine`, `rekey_on_member`.

use super::{fail, from_json, to_json};
use minijinja::value::{Kwargs, Rest, Value as Jinja, ValueKind};
use minijinja::{Environment, Error};
use serde_json::{Map, Value};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("combine", combine);
    env.add_filter("rekey_on_member", rekey_on_member);
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

/// `rekey_on_member(key, duplicates='error')`: a dict of the items (of a
/// list, or the values of a dict) keyed by their `key` member.
fn rekey_on_member(data: Jinja, key: Jinja, duplicates: Option<String>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let duplicates = match duplicates {
        Some(d) => d,
        None => kwargs.get::<Option<String>>("duplicates")?.unwrap_or_else(|| "error".into()),
    };
    kwargs.assert_all_used()?;
    let repr = |v: &Jinja| super::py::repr(&to_json(v));
    if duplicates != "error" && duplicates != "overwrite" {
        return Err(fail(format!("duplicates parameter to rekey_on_member has unknown value {}", repr(&Jinja::from(duplicates)))));
    }
    let items: Vec<Jinja> = match data.kind() {
        ValueKind::Map => data.try_iter()?.map(|k| data.get_item(&k)).collect::<Result<_, _>>()?,
        ValueKind::Seq | ValueKind::Iterable => data.try_iter()?.collect(),
        _ => return Err(fail("Type is not a valid list, set, or dict")),
    };
    let mut out: Vec<(Jinja, Jinja)> = Vec::new();
    for item in items {
        if item.kind() != ValueKind::Map {
            return Err(fail("List item is not a valid dict"));
        }
        let new_key = item.get_item(&key)?;
        if new_key.is_undefined() {
            return Err(fail(format!("Key {} was not found.", repr(&key))));
        }
        match out.iter_mut().find(|(k, _)| *k == new_key) {
            Some(_) if duplicates == "error" => return Err(fail(format!("Key {} is not unique, cannot convert to dict.", repr(&new_key)))),
            Some(slot) => slot.1 = item,
            None => out.push((new_key, item)),
        }
    }
    Ok(super::dict(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String, String> {
        let mut env = Environment::new();
        register(&mut env);
        let ctx = minijinja::context! { d => super::super::from_json(&serde_json::json!({"a": {"n": "x", "v": 1}, "b": {"n": "y", "v": 2}})) };
        env.render_str(source, ctx).map_err(|e| e.detail().unwrap_or_default().to_string())
    }

    #[test]
    fn rekey_on_member_keys_by_a_member() {
        assert_eq!(render("{{ d | rekey_on_member('n') }}").unwrap(), "{'x': {'n': 'x', 'v': 1}, 'y': {'n': 'y', 'v': 2}}");
        assert_eq!(render("{{ [{'n': 1}, {'n': 1, 'x': 2}] | rekey_on_member('n', duplicates='overwrite') }}").unwrap(), "{1: {'n': 1, 'x': 2}}");
        assert_eq!(render("{{ [{'n': 1}, {'n': 1}] | rekey_on_member('n') }}").unwrap_err(), "Key 1 is not unique, cannot convert to dict.");
        assert_eq!(render("{{ [{'m': 1}] | rekey_on_member('n') }}").unwrap_err(), "Key 'n' was not found.");
        assert_eq!(render("{{ 'x' | rekey_on_member('n') }}").unwrap_err(), "Type is not a valid list, set, or dict");
        assert_eq!(render("{{ [1] | rekey_on_member('n') }}").unwrap_err(), "List item is not a valid dict");
        assert_eq!(render("{{ [] | rekey_on_member('n', duplicates='x') }}").unwrap_err(), "duplicates parameter to rekey_on_member has unknown value 'x'");
    }
}
