//! List filters: `unique`, `flatten`, the set operations and `zip`.
//!
//! Ansible's set operations go through Python sets, whose order is an
//! accident of hashing; ours keep the order of first appearance.

use super::fail;
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
fn unique(v: Jinja, kwargs: Kwargs) -> Result<Jinja, Error> {
    let case_sensitive = kwargs.get::<Option<bool>>("case_sensitive")?.unwrap_or(false);
    let attribute = kwargs.get::<Option<String>>("attribute")?;
    kwargs.assert_all_used()?;
    let mut seen: Vec<Jinja> = Vec::new();
    let mut out = Vec::new();
    for item in items(&v)? {
        let mut key = match &attribute {
            Some(a) => super::attr_path(&item, a)?,
            None => item.clone(),
        };
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
