//! Lookups that reshape lists: `dict`, `nested`, `together`, `subelements`,
//! `indexed_items`, `random_choice` (and their `with_*` loops).

use super::Call;
use crate::template::filters::{fail, to_json};
use crate::template::py;
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::Error;
use serde_json::{Map, Value};

fn json_terms(terms: &[Jinja]) -> Vec<Value> {
    terms.iter().map(to_json).collect()
}

fn to_jinja(items: Vec<Value>) -> Vec<Jinja> {
    items.iter().map(|v| Jinja::from(minijinja::value::Serde(v))).collect()
}

/// `with_dict`: one `{key, value}` item per entry of each dict.
pub(super) fn dict(_: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let mut out = Vec::new();
    for term in json_terms(terms) {
        let Value::Object(map) = term else {
            return Err(fail(format!("the 'dict' lookup plugin expects a dictionary, got '{}'", py::to_str(&term))));
        };
        out.extend(map.into_iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})));
    }
    Ok(to_jinja(out))
}

pub(super) fn nested(_: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    if terms.is_empty() {
        return Err(fail("with_nested requires at least one element in the nested list"));
    }
    Ok(to_jinja(product(lists(Value::Array(json_terms(terms))).map_err(fail)?).map_err(fail)?))
}

pub(super) fn together(_: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    if terms.is_empty() {
        return Err(fail("with_together requires at least one element in each list"));
    }
    Ok(to_jinja(zip_longest(lists(Value::Array(json_terms(terms))).map_err(fail)?)))
}

pub(super) fn subelements(_: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    subelement_items(Value::Array(json_terms(terms))).map(to_jinja).map_err(fail)
}

/// `with_indexed_items`: `[index, item]` for the items flattened one level.
pub(super) fn indexed_items(_: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let items = flatten_once(Value::Array(json_terms(terms)));
    Ok(to_jinja(items.into_iter().enumerate().map(|(i, v)| serde_json::json!([i, v])).collect()))
}

/// `with_random_choice`: one of the terms, picked at random.
pub(super) fn random_choice(_: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let index = rand::random_range(0..terms.len());
    Ok(vec![terms[index].clone()])
}

/// `with_items`: the terms flattened one level.
fn flatten_once(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(inner) => inner,
                other => vec![other],
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn lists(value: Value) -> Result<Vec<Vec<Value>>, String> {
    let Value::Array(outer) = value else {
        return Err("expects a list of lists".into());
    };
    Ok(outer
        .into_iter()
        .map(|v| match v {
            Value::Array(items) => items,
            other => vec![other],
        })
        .collect())
}

/// Every combination, one item from each list in order; counted before any is made.
fn product(lists: Vec<Vec<Value>>) -> Result<Vec<Value>, String> {
    let count = lists.iter().try_fold(1usize, |n, l| n.checked_mul(l.len()));
    if count.is_none_or(|n| n > super::max_items()) {
        return Err(super::too_many_items(count.map_or_else(|| "too many".to_string(), |n| n.to_string())));
    }
    let mut product: Vec<Vec<Value>> = vec![Vec::new()];
    for list in lists {
        product = product.into_iter().flat_map(|prefix| list.iter().map(move |v| [prefix.clone(), vec![v.clone()]].concat())).collect();
    }
    Ok(product.into_iter().map(Value::Array).collect())
}

fn zip_longest(lists: Vec<Vec<Value>>) -> Vec<Value> {
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    (0..len).map(|i| Value::Array(lists.iter().map(|l| l.get(i).cloned().unwrap_or(Value::Null)).collect())).collect()
}

/// `with_subelements: [list, 'key.path', {skip_missing: bool}]`: one
/// `[parent, child]` item per element of each parent's list at `key.path`, the
/// parent shown without that list (Ansible pops it). Follows Ansible's lookup
/// step by step, quirks included, so the same data gives the same items.
fn subelement_items(terms: Value) -> Result<Vec<Value>, String> {
    let usage = |why: &str| format!("subelements lookup expects a list of two or three items, {why}");
    let Value::Array(mut terms) = terms else {
        return Err(usage("got a single value"));
    };
    if !(2..=3).contains(&terms.len()) {
        return Err(usage(&format!("got {}", terms.len())));
    }
    let flags = if terms.len() == 3 { terms.pop() } else { None };
    let (Some(Value::String(path)), Some(parents)) = (terms.pop(), terms.pop()) else {
        return Err(usage("first a dict or a list, second a string pointing to the subkey"));
    };
    let skip_missing = match flags {
        None => false,
        Some(Value::Object(flags)) => match flags.iter().find(|(k, _)| *k != "skip_missing") {
            Some((other, _)) => return Err(usage(&format!("the optional third item must be a dict with flags ['skip_missing'], found `{other}`"))),
            None => flags.get("skip_missing").and_then(stockman_modules::args::parse_bool).unwrap_or(false),
        },
        Some(_) => return Err(usage("the optional third item must be a dict with flags ['skip_missing']")),
    };
    let parents = match parents {
        // A registered result that was skipped as a whole gives no items.
        Value::Object(map) if map.get("skipped").is_some_and(|s| *s != Value::Bool(false)) => return Ok(Vec::new()),
        Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
        Value::Array(items) => items,
        _ => return Err(usage("first a dict or a list, second a string pointing to the subkey")),
    };
    let keys: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    for parent in parents {
        let Value::Object(mut parent) = parent else {
            return Err(format!("subelements lookup expects a dictionary, got '{}'", py::to_str(&parent)));
        };
        if parent.get("skipped").is_some_and(|s| *s != Value::Bool(false)) {
            continue;
        }
        for child in take_sublist(&mut parent, &keys, skip_missing)? {
            out.push(Value::Array(vec![Value::Object(parent.clone()), child]));
        }
    }
    Ok(out)
}

/// Removes and returns the list at `keys` inside `parent` (empty when missing
/// and `skip_missing`), as Ansible's subelements lookup walks it.
fn take_sublist(parent: &mut Map<String, Value>, keys: &[&str], skip_missing: bool) -> Result<Vec<Value>, String> {
    let mut node = parent;
    for (i, key) in keys.iter().enumerate() {
        let last = i + 1 == keys.len();
        let Some(value) = node.get(*key) else {
            if skip_missing {
                continue;
            }
            return Err(format!("could not find '{key}' key in iterated item '{}'", py::to_str(&Value::Object(node.clone()))));
        };
        if last {
            let Value::Array(_) = value else {
                return Err(format!("the key {key} should point to a list, got '{}'", py::to_str(value)));
            };
            let Some(Value::Array(list)) = node.shift_remove(*key) else { unreachable!("checked to be a list") };
            return Ok(list);
        }
        if !value.is_object() {
            if skip_missing {
                continue;
            }
            return Err(format!("the key {key} should point to a dictionary, got '{}'", py::to_str(value)));
        }
        let Some(Value::Object(inner)) = node.get_mut(*key) else { unreachable!("checked to be a dict") };
        node = inner;
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn with_items_flattens_one_level() {
        assert_eq!(flatten_once(json!([1, [2, [3]], "a"])), vec![json!(1), json!(2), json!([3]), json!("a")]);
    }

    #[test]
    fn subelements_pair_each_parent_with_its_children() {
        let users = json!([{"name": "a", "keys": [1, 2], "x": 0}, {"name": "b", "keys": []}, {"name": "c"}]);
        let items = subelement_items(json!([users.clone(), "keys", {"skip_missing": true}])).unwrap();
        assert_eq!(items, vec![json!([{"name": "a", "x": 0}, 1]), json!([{"name": "a", "x": 0}, 2])]);
        let e = subelement_items(json!([users, "keys"])).unwrap_err();
        assert_eq!(e, "could not find 'keys' key in iterated item '{'name': 'c'}'");
        let deep = json!([{"n": 1, "a": {"b": [true]}}]);
        assert_eq!(subelement_items(json!([deep, "a.b"])).unwrap(), vec![json!([{"n": 1, "a": {}}, true])]);
        assert!(subelement_items(json!([[{"k": "v"}], "k"])).unwrap_err().contains("should point to a list"));
    }

    #[test]
    fn nested_and_together() {
        assert_eq!(product(vec![vec![json!(1), json!(2)], vec![json!("a")]]).unwrap(), vec![json!([1, "a"]), json!([2, "a"])]);
        assert_eq!(zip_longest(vec![vec![json!(1), json!(2)], vec![json!("a")]]), vec![json!([1, "a"]), json!([2, null])]);
    }
}
