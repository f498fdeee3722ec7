//! The items of `loop:` and `with_*:`, and the variables each item sees.

use std::path::Path;

use serde_json::{Map, Value};

use super::host::TaskVars;
use crate::playbook::{Loop, LoopKind};
use crate::template::{py, Templar};

/// The environment variable that sets the most items a loop may have.
pub const MAX_ITEMS_VAR: &str = "STOCKMAN_LOOP_MAX_ITEMS";

/// The most items a loop may have: every item's result is kept until the
/// task ends (for `register` and the summary).
pub fn max_items() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| std::env::var(MAX_ITEMS_VAR).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(1_000_000))
}

fn too_many(count: impl std::fmt::Display) -> String {
    format!("the loop has {count} items, more than the limit of {} (raise it with {MAX_ITEMS_VAR}=N)", max_items())
}

/// The loop's items, templated, then shaped as its `with_*` kind does; no
/// more than [`max_items`].
pub(super) fn items(lp: &Loop, templar: &Templar, ctx: &minijinja::Value, playbook_dir: &Path) -> Result<Vec<Value>, String> {
    let items = shaped(lp, templar, ctx, playbook_dir)?;
    if items.len() > max_items() {
        return Err(too_many(items.len()));
    }
    Ok(items)
}

fn shaped(lp: &Loop, templar: &Templar, ctx: &minijinja::Value, playbook_dir: &Path) -> Result<Vec<Value>, String> {
    let value = templar.render_value(&lp.items, ctx).map_err(|e| e.message)?;
    match lp.kind {
        LoopKind::List => match value {
            Value::Array(items) => Ok(items),
            other => Err(format!("Invalid data passed to 'loop', it requires a list, got this instead: {}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.", py::to_str(&other))),
        },
        LoopKind::Items => Ok(flatten_once(value)),
        LoopKind::Dict => match value {
            Value::Object(map) => Ok(map.into_iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})).collect()),
            other => Err(format!("with_dict expects a dict, got {}", py::to_str(&other))),
        },
        LoopKind::Sequence => sequence(&value),
        LoopKind::Nested => nested(lists(value)?),
        LoopKind::Together => Ok(together(lists(value)?)),
        LoopKind::Fileglob => Ok(fileglob(&value, playbook_dir)),
        LoopKind::Subelements => subelements(value).map_err(|e| format!("The lookup plugin 'subelements' failed: {e}")),
    }
}

/// The task's variables plus the loop variable, `index_var` and `ansible_loop`.
pub(super) fn item_vars(lp: &Loop, vars: &TaskVars, items: &[Value], index: usize) -> TaskVars {
    let mut out = vars.clone();
    out.set(&lp.loop_var, items[index].clone());
    if let Some(index_var) = &lp.index_var {
        out.set(index_var, index.into());
    }
    if lp.extended {
        let len = items.len();
        let info = serde_json::json!({
            "index": index + 1, "index0": index, "revindex": len - index, "revindex0": len - index - 1,
            "first": index == 0, "last": index + 1 == len, "length": len,
            "previtem": if index > 0 { items[index - 1].clone() } else { Value::Null },
            "nextitem": items.get(index + 1).cloned().unwrap_or(Value::Null),
            "allitems": items,
        });
        out.set("ansible_loop", info);
    }
    out
}

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
    let Value::Array(outer) = value else { return Err("expects a list of lists".into()) };
    Ok(outer
        .into_iter()
        .map(|v| match v {
            Value::Array(items) => items,
            other => vec![other],
        })
        .collect())
}

/// Every combination, one item from each list in order; counted before any is made.
fn nested(lists: Vec<Vec<Value>>) -> Result<Vec<Value>, String> {
    let count = lists.iter().try_fold(1usize, |n, l| n.checked_mul(l.len()));
    if count.is_none_or(|n| n > max_items()) {
        let count = count.map_or_else(|| "too many".to_string(), |n| n.to_string());
        return Err(too_many(count));
    }
    let mut product: Vec<Vec<Value>> = vec![Vec::new()];
    for list in lists {
        product = product.into_iter().flat_map(|prefix| list.iter().map(move |v| [prefix.clone(), vec![v.clone()]].concat())).collect();
    }
    Ok(product.into_iter().map(Value::Array).collect())
}

fn together(lists: Vec<Vec<Value>>) -> Vec<Value> {
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    (0..len).map(|i| Value::Array(lists.iter().map(|l| l.get(i).cloned().unwrap_or(Value::Null)).collect())).collect()
}

/// `with_sequence`: `start=1 end=10 stride=2 format=web%02d` or `count=3`.
fn sequence(value: &Value) -> Result<Vec<Value>, String> {
    let spec: Map<String, Value> = match value {
        Value::String(s) => crate::playbook::parse_kv(s, false, |_| true)?,
        Value::Object(m) => m.clone(),
        _ => return Err("with_sequence takes `start=N end=M [stride=S] [format=F]`".into()),
    };
    let num = |k: &str| -> Result<Option<i64>, String> {
        match spec.get(k) {
            None => Ok(None),
            Some(v) => {
                let text = stockman_modules::args::value_to_string(v);
                let parsed = match text.strip_prefix("0x") {
                    Some(hex) => i64::from_str_radix(hex, 16),
                    None => text.parse(),
                };
                parsed.map(Some).map_err(|_| format!("with_sequence: `{k}` is not a number: {text}"))
            }
        }
    };
    let start = num("start")?.unwrap_or(1);
    let stride = num("stride")?.unwrap_or(1);
    let end = match (num("end")?, num("count")?) {
        (Some(e), None) => e,
        (None, Some(c)) => c.checked_sub(1).and_then(|n| n.checked_mul(stride)).and_then(|n| n.checked_add(start)).ok_or_else(|| format!("with_sequence: {}", too_many(c)))?,
        _ => return Err("with_sequence needs exactly one of `end` and `count`".into()),
    };
    if stride == 0 {
        return Err("with_sequence: stride must not be 0".into());
    }
    let count = if (stride > 0 && start <= end) || (stride < 0 && start >= end) { (i128::from(end) - i128::from(start)) / i128::from(stride) + 1 } else { 0 };
    if count > max_items() as i128 {
        return Err(format!("with_sequence: {}", too_many(count)));
    }
    let format = spec.get("format").map(stockman_modules::args::value_to_string).unwrap_or_else(|| "%d".into());
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(Value::String(printf_int(&format, i)));
        i += stride;
    }
    Ok(out)
}

/// The `%d`/`%0Nd`/`%x`/`%o` subset of printf that with_sequence formats use.
fn printf_int(format: &str, n: i64) -> String {
    let Some(pos) = format.find('%') else { return format.to_string() };
    let rest = &format[pos + 1..];
    let spec_len = rest.find(|c: char| c.is_ascii_alphabetic()).map(|i| i + 1).unwrap_or(rest.len());
    let (spec, tail) = rest.split_at(spec_len);
    let width: usize = spec.trim_start_matches('0').trim_end_matches(char::is_alphabetic).parse().unwrap_or(0);
    let zero = spec.starts_with('0');
    let body = match spec.chars().last() {
        Some('x') => format!("{n:x}"),
        Some('X') => format!("{n:X}"),
        Some('o') => format!("{n:o}"),
        _ => n.to_string(),
    };
    let padded = if zero { format!("{body:0>width$}") } else { format!("{body:>width$}") };
    format!("{}{padded}{tail}", &format[..pos])
}

/// `with_subelements: [list, 'key.path', {skip_missing: bool}]`: one
/// `[parent, child]` item per element of each parent's list at `key.path`, the
/// parent shown without that list (Ansible pops it). Follows Ansible's lookup
/// step by step, quirks included, so the same data gives the same items.
fn subelements(terms: Value) -> Result<Vec<Value>, String> {
    let usage = |why: &str| format!("subelements lookup expects a list of two or three items, {why}");
    let Value::Array(mut terms) = terms else { return Err(usage("got a single value")) };
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

/// `with_fileglob`: files on the controller matching each pattern (in `files/` for relative ones).
fn fileglob(value: &Value, playbook_dir: &Path) -> Vec<Value> {
    let patterns: Vec<String> = match value {
        Value::Array(items) => items.iter().map(stockman_modules::args::value_to_string).collect(),
        other => vec![stockman_modules::args::value_to_string(other)],
    };
    let mut out = Vec::new();
    for pattern in patterns {
        let path = Path::new(&pattern);
        let full = if path.is_absolute() { path.to_path_buf() } else { playbook_dir.join("files").join(path) };
        let (Some(dir), Some(name)) = (full.parent(), full.file_name().and_then(|n| n.to_str())) else { continue };
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut found: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_file())
            .filter(|e| e.file_name().to_str().is_some_and(|n| crate::inventory::fnmatch(name, n)))
            .map(|e| e.path().display().to_string())
            .collect();
        found.sort();
        out.extend(found.into_iter().map(Value::String));
    }
    out
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
    fn sequences_format_like_printf() {
        let items = sequence(&json!("start=1 end=3 format=web%02d")).unwrap();
        assert_eq!(items, vec![json!("web01"), json!("web02"), json!("web03")]);
        assert_eq!(sequence(&json!("start=10 count=2 stride=5")).unwrap(), vec![json!("10"), json!("15")]);
    }

    #[test]
    fn subelements_pair_each_parent_with_its_children() {
        let users = json!([{"name": "a", "keys": [1, 2], "x": 0}, {"name": "b", "keys": []}, {"name": "c"}]);
        let items = subelements(json!([users.clone(), "keys", {"skip_missing": true}])).unwrap();
        assert_eq!(items, vec![json!([{"name": "a", "x": 0}, 1]), json!([{"name": "a", "x": 0}, 2])]);
        let e = subelements(json!([users, "keys"])).unwrap_err();
        assert_eq!(e, "could not find 'keys' key in iterated item '{'name': 'c'}'");
        let deep = json!([{"n": 1, "a": {"b": [true]}}]);
        assert_eq!(subelements(json!([deep, "a.b"])).unwrap(), vec![json!([{"n": 1, "a": {}}, true])]);
        assert!(subelements(json!([[{"k": "v"}], "k"])).unwrap_err().contains("should point to a list"));
    }

    #[test]
    fn nested_and_together() {
        assert_eq!(nested(vec![vec![json!(1), json!(2)], vec![json!("a")]]).unwrap(), vec![json!([1, "a"]), json!([2, "a"])]);
        let thousand = vec![json!(0); 1000];
        assert!(nested(vec![thousand.clone(), thousand.clone(), thousand]).unwrap_err().contains("1000000000 items, more than the limit"));
        assert_eq!(together(vec![vec![json!(1), json!(2)], vec![json!("a")]]), vec![json!([1, "a"]), json!([2, null])]);
    }
}
