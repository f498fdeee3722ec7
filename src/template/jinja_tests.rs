//! Ansible's Jinja tests (`x is failed`, `path is file`, `v is version(...)`,
//! `x is url`, `r is finished`) beside minijinja's own (`defined`, `none`,
//! `in`, ...). File tests look at the controller's filesystem, as Ansible's
//! do.

use super::filters::{contains, fail, lists, regex, types, urls};
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
    for name in ["subset", "issubset"] {
        env.add_test(name, |a: Jinja, b: Jinja| is_subset(&a, &b));
    }
    for name in ["superset", "issuperset"] {
        env.add_test(name, |a: Jinja, b: Jinja| is_subset(&b, &a));
    }
    for name in ["nan", "isnan"] {
        // Python's math.isnan; anything but a number is not NaN.
        env.add_test(name, |v: Jinja| v.kind() == ValueKind::Number && f64::try_from(v).is_ok_and(f64::is_nan));
    }
    env.add_test("callable", |v: Jinja| is_callable(&v));
    env.add_test("uri", |v: Jinja, schemes: Option<Vec<String>>| is_uri(&v, schemes.as_deref()));
    env.add_test("url", |v: Jinja, schemes: Option<Vec<String>>| {
        is_uri(&v, schemes.as_deref())
            && v.as_str().is_some_and(|s| {
                let split = urls::split(s);
                !split.netloc.is_empty() || split.scheme == "file"
            })
    });
    env.add_test("urn", |v: Jinja| is_uri(&v, Some(&["urn".to_string()])));
    env.add_test("timedout", |v: Jinja| -> Result<bool, Error> {
        async_result(&v, "timedout")?;
        Ok(v.get_attr("timedout")?.get_attr("period").is_ok_and(|p| p.is_true()))
    });
    // A result without the flag is not an async one: Ansible then answers
    // true (with a warning stockman does not give).
    env.add_test("finished", |v: Jinja| async_flag(&v, "finished"));
    env.add_test("started", |v: Jinja| async_flag(&v, "started"));
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
    for name in ["same_file", "is_same_file"] {
        env.add_test(name, |a: String, b: String| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        });
    }
    for name in ["mount", "is_mount"] {
        env.add_test(name, |p: String| is_mount(Path::new(&p)));
    }
}

/// Python's `os.path.ismount`: not a link, and on another device than its
/// parent, or the same inode as it (the root).
fn is_mount(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = path.symlink_metadata() else { return false };
    if meta.file_type().is_symlink() {
        return false;
    }
    let Ok(parent) = path.join("..").symlink_metadata() else { return false };
    meta.dev() != parent.dev() || meta.ino() == parent.ino()
}

/// Python's `set(a) <= set(b)`: a string's characters, a dict's keys.
fn is_subset(a: &Jinja, b: &Jinja) -> Result<bool, Error> {
    let b = lists::items(b)?;
    Ok(lists::items(a)?.iter().all(|x| b.contains(x)))
}

/// Python's `callable()`: functions (`lookup`, `now`) and macros are; plain
/// data is not.
fn is_callable(v: &Jinja) -> bool {
    use minijinja::value::ObjectRepr;
    v.as_object().is_some_and(|o| matches!(o.repr(), ObjectRepr::Plain)) && v.as_str().is_none() && !super::filters::is_data_object(v)
}

/// Ansible's `uri` test: `urlparse` takes any string (so any string is a
/// URI), and the scheme must be one of `schemes` when given.
fn is_uri(v: &Jinja, schemes: Option<&[String]>) -> bool {
    let Some(text) = v.as_str() else { return false };
    let scheme = urls::split(text).scheme;
    schemes.is_none_or(|list| list.is_empty() || list.contains(&scheme))
}

/// Ansible's refusal of a non-dict, in its words.
fn async_result(v: &Jinja, test: &str) -> Result<(), Error> {
    if v.kind() != ValueKind::Map {
        return Err(fail(format!("The '{test}' test expects a dictionary")));
    }
    Ok(())
}

/// `finished` / `started` of an async result.
fn async_flag(v: &Jinja, key: &str) -> Result<bool, Error> {
    async_result(v, key)?;
    let flag = v.get_attr(key)?;
    Ok(flag.is_undefined() || flag.is_true())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String, String> {
        let mut env = Environment::new();
        register(&mut env);
        env.add_function("f", || 1);
        let ctx = minijinja::context! {
            done => minijinja::context! { finished => 1, started => 1 },
            running => minijinja::context! { finished => 0, started => 1 },
            plain => minijinja::context! { changed => false },
            late => minijinja::context! { timedout => minijinja::context! { period => 5 } },
        };
        env.render_str(source, ctx).map_err(|e| e.detail().unwrap_or_default().to_string())
    }

    #[test]
    fn set_tests_use_sets() {
        assert_eq!(render("{{ [1, 2] is issubset([2, 1, 3]) }} {{ [1, 4] is subset([1, 2]) }} {{ 'ab' is issubset('bca') }}").unwrap(), "True False True");
        assert_eq!(render("{{ [1, 2, 3] is issuperset([3, 1]) }} {{ [1] is superset([1, 2]) }} {{ {'a': 1} is issuperset(['a']) }}").unwrap(), "True False True");
    }

    #[test]
    fn nan_and_callable() {
        assert_eq!(render("{{ (1e308 * 10 - 1e308 * 10) is nan }} {{ 1.5 is isnan }} {{ 'nan' is nan }} {{ none is nan }}").unwrap(), "True False False False");
        assert_eq!(render("{{ f is callable }} {{ 'f' is callable }} {{ [f] is callable }} {{ done is callable }}").unwrap(), "True False False False");
    }

    #[test]
    fn uri_url_urn() {
        assert_eq!(render("{{ 'http://x/y' is uri }} {{ 'no scheme' is uri }} {{ 42 is uri }} {{ 'ftp://x' is uri(['http']) }}").unwrap(), "True True False False");
        assert_eq!(render("{{ 'http://x/y' is url }} {{ 'file:///etc' is url }} {{ 'mailto:a@b' is url }} {{ 'https://x' is url(['https']) }}").unwrap(), "True True False True");
        assert_eq!(render("{{ 'urn:isbn:0451450523' is urn }} {{ 'http://x' is urn }}").unwrap(), "True False");
    }

    #[test]
    fn async_results() {
        assert_eq!(render("{{ done is finished }} {{ running is finished }} {{ running is started }} {{ plain is finished }}").unwrap(), "True False True True");
        assert_eq!(render("{{ late is timedout }} {{ plain is timedout }}").unwrap(), "True False");
        assert!(render("{{ 'x' is finished }}").unwrap_err().contains("expects a dictionary"));
    }

    #[test]
    fn mounts_and_same_files() {
        assert_eq!(render("{{ '/' is mount }} {{ '/proc' is is_mount }} {{ '/etc' is mount }} {{ '/nonexistent' is mount }}").unwrap(), "True True False False");
        assert_eq!(render("{{ '/etc/../etc/hosts' is is_same_file('/etc/hosts') }} {{ '/etc' is same_file('/tmp') }}").unwrap(), "True False");
    }
}
