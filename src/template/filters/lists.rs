//! List filters: `unique`, `flatten`, the set operations, `zip`,
//! `zip_longest`, Python's `itertools` (`product`, `combinations`,
//! `permutations`), `extract` and `subelements`. Results that grow faster
//! than their input are checked against the template budget as they grow.
//!
//! Ansible's set operations go through Python sets, whose order is an
//! accident of hashing; ours keep the order of first appearance.

use super::{fail, py_str, to_json};
use crate::template::budget;
use minijinja::value::{Kwargs, Rest, Value as Jinja, ValueKind};
use minijinja::{Environment, Error};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("unique", unique);
    env.add_filter("flatten", flatten);
    env.add_filter("union", |a: Jinja, b: Jinja| -> Result<Jinja, Error> { Ok(dedup(items(&a)?.into_iter().chain(items(&b)?))) });
    env.add_filter("intersect", |a: Jinja, b: Jinja| -> Result<Jinja, Error> {
        let b = items(&b)?;
        Ok(dedup(items(&a)?.into_iter().filter(|x| b.contains(x))))
    });
    env.add_filter("difference", |a: Jinja, b: Jinja| -> Result<Jinja, Error> {
        let b = items(&b)?;
        Ok(dedup(items(&a)?.into_iter().filter(|x| !b.contains(x))))
    });
    env.add_filter("symmetric_difference", |a: Jinja, b: Jinja| -> Result<Jinja, Error> {
        let (a, b) = (items(&a)?, items(&b)?);
        let only_a = a.iter().filter(|x| !b.contains(x));
        let only_b = b.iter().filter(|x| !a.contains(x));
        Ok(dedup(only_a.chain(only_b).cloned()))
    });
    env.add_filter("zip", zip);
    env.add_filter("zip_longest", zip_longest);
    env.add_filter("product", product);
    env.add_filter("combinations", |v: Jinja, r: usize| -> Result<Jinja, Error> { combinations(&items(&v)?, r) });
    env.add_filter("permutations", |v: Jinja, r: Option<usize>| -> Result<Jinja, Error> {
        let pool = items(&v)?;
        let r = r.unwrap_or(pool.len());
        permutations(&pool, r)
    });
    env.add_filter("extract", extract);
    env.add_filter("subelements", subelements);
}

/// The items of a list (or the characters of a string, keys of a dict).
pub(crate) fn items(v: &Jinja) -> Result<Vec<Jinja>, Error> {
    if let Some(s) = v.as_str() {
        return Ok(s.chars().map(Jinja::from).collect());
    }
    Ok(v.try_iter().map_err(|_| fail(format!("expected a list, got {}", v.kind())))?.collect())
}

fn dedup(values: impl Iterator<Item = Jinja>) -> Jinja {
    let mut out: Vec<Jinja> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Jinja::from(out)
}

/// Jinja2's `unique(case_sensitive=False, attribute=None)`.
///
/// Ansible runs Jinja2's, which hashes each key; on an unhashable key (a
/// dict, a list) it falls back to plain equality, unless `case_sensitive=False`
/// or `attribute` was given: then it fails.
fn unique(v: Jinja, kwargs: Kwargs) -> Result<Jinja, Error> {
    let given = kwargs.get::<Option<bool>>("case_sensitive")?;
    let case_sensitive = given.unwrap_or(false);
    let attribute = kwargs.get::<Option<String>>("attribute")?;
    kwargs.assert_all_used()?;
    if !matches!(v.kind(), ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::String) {
        return Err(fail(format!("'{}' object is not iterable", super::py::type_name(&to_json(&v)))));
    }
    let mut seen: Vec<Jinja> = Vec::new();
    let mut out = Vec::new();
    for item in items(&v)? {
        let mut key = match &attribute {
            Some(a) => super::attr_path(&item, a)?,
            None => item.clone(),
        };
        let unhashable = matches!(key.kind(), ValueKind::Map | ValueKind::Seq);
        if unhashable && (given == Some(false) || attribute.is_some()) {
            return Err(fail("Jinja2's unique filter failed and we cannot fall back to Ansible's version as it does not support the parameters supplied."));
        }
        if !case_sensitive {
            if let Some(s) = key.as_str() {
                key = Jinja::from(s.to_lowercase());
            }
        }
        if !seen.contains(&key) {
            seen.push(key);
            out.push(item);
        }
    }
    Ok(Jinja::from(out))
}

/// Ansible's `flatten(levels=None, skip_nulls=True)`.
fn flatten(v: Jinja, levels: Option<i64>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let levels = levels.or(kwargs.get::<Option<i64>>("levels")?);
    let skip_nulls = kwargs.get::<Option<bool>>("skip_nulls")?.unwrap_or(true);
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    flatten_into(&v, levels, skip_nulls, &mut out)?;
    Ok(Jinja::from(out))
}

fn flatten_into(v: &Jinja, levels: Option<i64>, skip_nulls: bool, out: &mut Vec<Jinja>) -> Result<(), Error> {
    for item in items(v)? {
        let is_null = item.is_none() || matches!(item.as_str(), Some("None" | "null"));
        if skip_nulls && is_null {
            continue;
        }
        match levels {
            _ if item.kind() != ValueKind::Seq => out.push(item),
            None => flatten_into(&item, None, skip_nulls, out)?,
            Some(n) if n >= 1 => flatten_into(&item, Some(n - 1), skip_nulls, out)?,
            Some(_) => out.push(item),
        }
    }
    Ok(())
}

/// Python's `zip(a, b, ...)`: lists of the n-th items, as long as the
/// shortest input.
fn zip(first: Jinja, others: Rest<Jinja>) -> Result<Jinja, Error> {
    let mut lists = vec![items(&first)?];
    for other in others.iter() {
        lists.push(items(other)?);
    }
    let len = lists.iter().map(Vec::len).min().unwrap_or(0);
    let rows = (0..len).map(|i| Jinja::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()));
    Ok(Jinja::from(rows.collect::<Vec<_>>()))
}

/// Fails before building `rows` rows of `width` values when they could
/// not fit in what a render may hold.
fn fits(rows: u128, width: usize) -> Result<(), Error> {
    let bytes = rows.saturating_mul(width.max(1) as u128).saturating_mul(std::mem::size_of::<Jinja>() as u128);
    if bytes > (budget::limit() * budget::HELD_FACTOR) as u128 {
        return Err(budget::exceeded());
    }
    Ok(())
}

/// Python's `itertools.zip_longest(*lists, fillvalue=None)`.
fn zip_longest(first: Jinja, others: Rest<Jinja>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let fill = kwargs.get::<Option<Jinja>>("fillvalue")?.unwrap_or(Jinja::from(()));
    kwargs.assert_all_used()?;
    let mut lists = vec![items(&first)?];
    for other in others.iter() {
        lists.push(items(other)?);
    }
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    fits(len as u128, lists.len())?;
    let mut rows = Vec::with_capacity(len);
    for i in 0..len {
        budget::check()?;
        rows.push(Jinja::from(lists.iter().map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone())).collect::<Vec<_>>()));
    }
    Ok(Jinja::from(rows))
}

/// Python's `itertools.product(*lists, repeat=1)`, in its order (the last
/// list varies fastest).
fn product(first: Jinja, others: Rest<Jinja>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let repeat = kwargs.get::<Option<usize>>("repeat")?.unwrap_or(1);
    kwargs.assert_all_used()?;
    let mut given = vec![items(&first)?];
    for other in others.iter() {
        given.push(items(other)?);
    }
    let pools: Vec<&Vec<Jinja>> = (0..repeat).flat_map(|_| given.iter()).collect();
    let rows = pools.iter().try_fold(1u128, |n, p| n.checked_mul(p.len() as u128)).unwrap_or(u128::MAX);
    fits(rows, pools.len())?;
    let mut out: Vec<Vec<Jinja>> = vec![Vec::new()];
    for pool in pools {
        let mut next = Vec::with_capacity(out.len() * pool.len());
        for row in &out {
            budget::check()?;
            for item in pool {
                let mut longer = row.clone();
                longer.push(item.clone());
                next.push(longer);
            }
        }
        out = next;
    }
    Ok(Jinja::from(out.into_iter().map(Jinja::from).collect::<Vec<_>>()))
}

/// n choose r, saturating.
fn choose(n: usize, r: usize) -> u128 {
    (0..r as u128).fold(1u128, |acc, i| acc.saturating_mul(n as u128 - i) / (i + 1))
}

/// Python's `itertools.combinations(list, r)`: index tuples in
/// lexicographic order.
fn combinations(pool: &[Jinja], r: usize) -> Result<Jinja, Error> {
    let n = pool.len();
    if r > n {
        return Ok(Jinja::from(Vec::<Jinja>::new()));
    }
    fits(choose(n, r), r)?;
    let mut indices: Vec<usize> = (0..r).collect();
    let mut out = Vec::new();
    loop {
        budget::check()?;
        out.push(Jinja::from(indices.iter().map(|&i| pool[i].clone()).collect::<Vec<_>>()));
        // The rightmost index that can still move right.
        let Some(i) = (0..r).rev().find(|&i| indices[i] != i + n - r) else {
            break;
        };
        indices[i] += 1;
        for j in i + 1..r {
            indices[j] = indices[j - 1] + 1;
        }
    }
    Ok(Jinja::from(out))
}

/// Python's `itertools.permutations(list, r=len(list))`, in its order.
fn permutations(pool: &[Jinja], r: usize) -> Result<Jinja, Error> {
    let n = pool.len();
    if r > n {
        return Ok(Jinja::from(Vec::<Jinja>::new()));
    }
    let count = (0..r as u128).fold(1u128, |acc, i| acc.saturating_mul(n as u128 - i));
    fits(count, r)?;
    let mut out = Vec::new();
    let mut chosen = Vec::with_capacity(r);
    let mut used = vec![false; n];
    permute(pool, r, &mut chosen, &mut used, &mut out)?;
    Ok(Jinja::from(out))
}

/// Depth-first over unused positions in index order: the same order as
/// Python's.
fn permute(pool: &[Jinja], r: usize, chosen: &mut Vec<usize>, used: &mut [bool], out: &mut Vec<Jinja>) -> Result<(), Error> {
    if chosen.len() == r {
        budget::check()?;
        out.push(Jinja::from(chosen.iter().map(|&i| pool[i].clone()).collect::<Vec<_>>()));
        return Ok(());
    }
    for i in 0..pool.len() {
        if !used[i] {
            used[i] = true;
            chosen.push(i);
            permute(pool, r, chosen, used, out)?;
            chosen.pop();
            used[i] = false;
        }
    }
    Ok(())
}

/// `key | extract(container, morekeys=None)`: `container[key]`, then each
/// of `morekeys`; a missing key gives an undefined value, as Jinja's
/// `getitem`.
fn extract(key: Jinja, container: Jinja, morekeys: Option<Jinja>) -> Result<Jinja, Error> {
    let mut keys = vec![key];
    match morekeys {
        None => {}
        Some(m) if m.kind() == ValueKind::Seq => keys.extend(m.try_iter()?),
        Some(m) => keys.push(m),
    }
    let mut value = container;
    for key in keys {
        value = value.get_item(&key)?;
    }
    Ok(value)
}

/// `subelements(obj, 'a.b', skip_missing=False)`: each element paired with
/// each item of its list at that path.
fn subelements(obj: Jinja, path: Jinja, skip_missing: Option<bool>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let skip_missing = skip_missing.or(kwargs.get::<Option<bool>>("skip_missing")?).unwrap_or(false);
    kwargs.assert_all_used()?;
    let elements: Vec<Jinja> = match obj.kind() {
        ValueKind::Map => obj.try_iter()?.map(|k| obj.get_item(&k)).collect::<Result<_, _>>()?,
        ValueKind::Seq => obj.try_iter()?.collect(),
        _ => return Err(fail("obj must be a list of dicts or a nested dict")),
    };
    let keys: Vec<Jinja> = match (path.as_str(), path.kind()) {
        (Some(s), _) => s.split('.').map(Jinja::from).collect(),
        (None, ValueKind::Seq) => path.try_iter()?.collect(),
        _ => return Err(fail("subelements must be a list or a string")),
    };
    let repr = |v: &Jinja| super::py::repr(&to_json(v));
    let mut out = Vec::new();
    for element in elements {
        let mut values = element.clone();
        for key in &keys {
            if values.kind() != ValueKind::Map {
                return Err(fail(format!("the key {} should point to a dictionary, got '{}'", py_str(key), py_str(&values))));
            }
            match values.get_item(key)? {
                v if v.is_undefined() && skip_missing => {
                    values = Jinja::from(Vec::<Jinja>::new());
                    break;
                }
                v if v.is_undefined() => return Err(fail(format!("could not find {} key in iterated item {}", repr(key), repr(&values)))),
                v => values = v,
            }
        }
        if values.kind() != ValueKind::Seq {
            return Err(fail(format!("the key {} should point to a list, got {}", keys.last().map(repr).unwrap_or_default(), repr(&values))));
        }
        for value in values.try_iter()? {
            budget::check()?;
            out.push(Jinja::from(vec![element.clone(), value]));
        }
    }
    Ok(Jinja::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String, String> {
        let mut env = Environment::new();
        register(&mut env);
        let ctx = minijinja::context! { users => super::super::from_json(&serde_json::json!([
            {"name": "alice", "groups": ["wheel", "adm"], "o": {"keys": ["k1"]}},
            {"name": "bob", "groups": [], "o": {}}
        ])) };
        env.render_str(source, ctx).map_err(|e| e.detail().unwrap_or_default().to_string())
    }

    #[test]
    fn itertools_orders() {
        assert_eq!(render("{{ [1, 2] | product('ab') | list }}").unwrap(), "[[1, 'a'], [1, 'b'], [2, 'a'], [2, 'b']]");
        assert_eq!(render("{{ [0, 1] | product(repeat=2) }}").unwrap(), "[[0, 0], [0, 1], [1, 0], [1, 1]]");
        assert_eq!(render("{{ [1, 2, 3, 4] | combinations(2) }}").unwrap(), "[[1, 2], [1, 3], [1, 4], [2, 3], [2, 4], [3, 4]]");
        assert_eq!(render("{{ [1, 2] | combinations(3) }} {{ [1, 2] | combinations(0) }}").unwrap(), "[] [[]]");
        assert_eq!(render("{{ [1, 2, 3] | permutations }}").unwrap(), "[[1, 2, 3], [1, 3, 2], [2, 1, 3], [2, 3, 1], [3, 1, 2], [3, 2, 1]]");
        assert_eq!(render("{{ 'abc' | permutations(2) | length }}").unwrap(), "6");
        assert_eq!(render("{{ [1, 2, 3] | zip_longest(['a'], fillvalue='-') }}").unwrap(), "[[1, 'a'], [2, '-'], [3, '-']]");
        assert_eq!(render("{{ [1] | zip_longest([2, 3]) }}").unwrap(), "[[1, 2], [None, 3]]");
    }

    #[test]
    fn unique_refuses_what_ansible_cannot_fall_back_for() {
        assert_eq!(render("{{ [{'a': 1}, {'a': 1}] | unique }}").unwrap(), "[{'a': 1}]");
        assert!(render("{{ [{'a': 1}] | unique(case_sensitive=False) }}").unwrap_err().contains("cannot fall back"));
        assert_eq!(render("{{ true | unique }}").unwrap_err(), "'bool' object is not iterable");
        assert_eq!(render("{{ ['a', 'A'] | unique }} {{ ['a', 'A'] | unique(case_sensitive=True) }}").unwrap(), "['a'] ['a', 'A']");
    }

    #[test]
    fn huge_results_fail_before_they_are_built() {
        let err = render("{{ range(100) | product(range(100), range(100), range(100), range(100)) | length }}").unwrap_err();
        assert!(err.starts_with("template output exceeds"), "{err}");
        assert!(render("{{ range(60) | list | permutations | length }}").unwrap_err().starts_with("template output exceeds"));
        assert!(render("{{ range(100) | list | combinations(50) | length }}").unwrap_err().starts_with("template output exceeds"));
    }

    #[test]
    fn extract_and_subelements() {
        assert_eq!(render("{{ 1 | extract(['a', 'b']) }} {{ 0 | extract(users, 'name') }} {{ 0 | extract(users, ['o', 'keys', 0]) }}").unwrap(), "b alice k1");
        assert_eq!(render("{{ users | subelements('groups') | map(attribute='1') | list }}").unwrap(), "['wheel', 'adm']");
        assert_eq!(render("{{ users | subelements('o.keys', skip_missing=true) | length }}").unwrap(), "1");
        assert_eq!(render("{{ users | subelements('o.keys') }}").unwrap_err(), "could not find 'keys' key in iterated item {}");
        assert_eq!(render("{{ users | subelements('name') }}").unwrap_err(), "the key 'name' should point to a list, got 'alice'");
        assert_eq!(render("{{ users | subelements('name.x') }}").unwrap_err(), "the key x should point to a dictionary, got 'alice'");
        assert_eq!(render("{{ 'x' | subelements('a') }}").unwrap_err(), "obj must be a list of dicts or a nested dict");
        assert_eq!(render("{{ users | subelements(1) }}").unwrap_err(), "subelements must be a list or a string");
    }
}
