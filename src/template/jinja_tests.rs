//! Ansible's Jinja tests (`x is failed`, `path is file`, `v is version(...)`)
//! beside minijinja's own (`defined`, `none`, `in`, ...). File tests look at
//! the controller's filesystem, as Ansible's do.

use super::filters::{contains, fail, regex, types};
use minijinja::value::{Kwargs, Value as Jinja, ValueKind};
use minijinja::{Environment, Error};
use std::path::Path;

pub fn register(env: &mut Environment<'static>) {
    for name in ["failed", "failure"] {
        env.add_test(name, |v: Jinja| result_flag(&v, "failed"));
    }
    for name in ["succeeded", "success", "successful"] {
        env.add_test(name, |v: Jinja| result_flag(&v, "failed").map(|f| !f));
    }
    for name in ["changed", "change"] {
        env.add_test(name, changed);
    }
    for name in ["skipped", "skip"] {
        env.add_test(name, |v: Jinja| result_flag(&v, "skipped"));
    }
    env.add_test("unreachable", |v: Jinja| result_flag(&v, "unreachable"));
    env.add_test("reachable", |v: Jinja| result_flag(&v, "unreachable").map(|f| !f));
    env.add_test("match", |v: Jinja, pattern: String, kwargs: Kwargs| regex_test(v, pattern, kwargs, "match"));
    env.add_test("search", |v: Jinja, pattern: String, kwargs: Kwargs| regex_test(v, pattern, kwargs, "search"));
    env.add_test("regex", |v: Jinja, pattern: String, kwargs: Kwargs| {
        let match_type = kwargs.get::<Option<String>>("match_type")?.unwrap_or_else(|| "search".into());
        regex_test(v, pattern, kwargs, &match_type)
    });
    env.add_test("truthy", |v: Jinja, kwargs: Kwargs| truthy(&v, &kwargs));
    env.add_test("falsy", |v: Jinja, kwargs: Kwargs| truthy(&v, &kwargs).map(|t| !t));
    env.add_test("contains", |seq: Jinja, item: Jinja| contains(&seq, &item));
    env.add_test("any", |v: Jinja| -> Result<bool, Error> { Ok(v.try_iter()?.any(|x| x.is_true())) });
    env.add_test("all", |v: Jinja| -> Result<bool, Error> { Ok(v.try_iter()?.all(|x| x.is_true())) });
    env.add_test("subset", |a: Jinja, b: Jinja| -> Result<bool, Error> { Ok(a.try_iter()?.all(|x| contains(&b, &x))) });
    env.add_test("superset", |a: Jinja, b: Jinja| -> Result<bool, Error> { Ok(b.try_iter()?.all(|x| contains(&a, &x))) });
    add_path_tests(env);
}

fn add_path_tests(env: &mut Environment<'static>) {
    type PathTest = (&'static str, fn(&Path) -> bool);
    let tests: [PathTest; 5] = [
        ("file", |p| p.is_file()),
        ("directory", |p| p.is_dir()),
        ("exists", |p| p.exists()),
        ("link", |p| p.is_symlink()),
        ("abs", |p| p.is_absolute()),
    ];
    for (name, check) in tests {
        env.add_test(name, move |p: String| check(Path::new(&p)));
        env.add_test(format!("is_{name}").replace("is_directory", "is_dir"), move |p: String| check(Path::new(&p)));
    }
    env.add_test("link_exists", |p: String| Path::new(&p).symlink_metadata().is_ok());
    env.add_test("same_file", |a: String, b: String| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    });
}

/// A registered result's boolean field; Ansible refuses a non-dict.
fn result_flag(v: &Jinja, key: &str) -> Result<bool, Error> {
    if v.kind() != ValueKind::Map {
        return Err(fail(format!("The '{key}' test expects a dictionary (a registered result), got {}", v.kind())));
    }
    Ok(v.get_attr(key).map(|f| f.is_true()).unwrap_or(false))
}

/// `changed`: the result's flag, or any changed item of a loop's `results`.
fn changed(v: Jinja) -> Result<bool, Error> {
    if v.kind() != ValueKind::Map {
        return Err(fail(format!("The 'changed' test expects a dictionary (a registered result), got {}", v.kind())));
    }
    let flag = v.get_attr("changed")?;
    if !flag.is_undefined() {
        return Ok(flag.is_true());
    }
    let results = v.get_attr("results")?;
    if results.kind() != ValueKind::Seq {
        return Ok(false);
    }
    Ok(results.try_iter()?.any(|r| r.get_attr("changed").map(|c| c.is_true()).unwrap_or(false)))
}

fn regex_test(v: Jinja, pattern: String, kwargs: Kwargs, match_type: &str) -> Result<bool, Error> {
    let ignorecase = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let multiline = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    regex::test(&super::filters::py_str(&v), &pattern, ignorecase, multiline, match_type)
}

/// `truthy(convert_bool=False)`: Python truthiness, optionally reading
/// boolean-like strings (`'no'`, `'off'`) first.
fn truthy(v: &Jinja, kwargs: &Kwargs) -> Result<bool, Error> {
    let convert = kwargs.get::<Option<bool>>("convert_bool")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    if convert {
        if let Some(b) = types::is_bool_like(v) {
            return Ok(b);
        }
    }
    Ok(v.is_true())
}

