//! Version comparison: the `version` test (alias `version_compare`, also a
//! filter for old playbooks), with loose, strict and semver ordering.

use super::{fail, py_str};
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::{Environment, Error};
use std::cmp::Ordering;

pub fn register(env: &mut Environment<'static>) {
    env.add_test("version", version_test);
    env.add_test("version_compare", version_test);
    env.add_filter("version_compare", version_test);
}

/// `value is version(other, operator='eq', strict=None, version_type=None)`.
/// `strict` may be given by position too (`version('1.0', '==', true)`).
fn version_test(value: Jinja, other: Jinja, operator: Option<String>, strict: Option<bool>, kwargs: Kwargs) -> Result<bool, Error> {
    let operator = match operator {
        Some(op) => op,
        None => kwargs.get::<Option<String>>("operator")?.unwrap_or_else(|| "eq".into()),
    };
    let strict = strict.or(kwargs.get::<Option<bool>>("strict")?);
    let version_type = kwargs.get::<Option<String>>("version_type")?;
    kwargs.assert_all_used()?;
    if strict.is_some() && version_type.is_some() {
        return Err(fail("Cannot specify both 'strict' and 'version_type'"));
    }
    let (a, b) = (py_str(&value), py_str(&other));
    if a.is_empty() {
        return Err(fail("Input version value cannot be empty"));
    }
    if b.is_empty() {
        return Err(fail("Version parameter to compare against cannot be empty"));
    }
    let kind = match (strict, version_type.as_deref()) {
        (Some(true), _) => "strict",
        (_, Some(t)) => t,
        _ => "loose",
    };
    // Ansible checks the type, then the operator, before comparing.
    if !KINDS.contains(&kind) {
        return Err(fail(format!("Invalid version type ({kind}). Must be one of 'loose', 'strict', 'semver', 'semantic', 'pep440'")));
    }
    let wanted: &[Ordering] = match operator.as_str() {
        "==" | "=" | "eq" => &[Ordering::Equal],
        "<" | "lt" => &[Ordering::Less],
        "<=" | "le" => &[Ordering::Less, Ordering::Equal],
        ">" | "gt" => &[Ordering::Greater],
        ">=" | "ge" => &[Ordering::Greater, Ordering::Equal],
        "!=" | "<>" | "ne" => &[Ordering::Less, Ordering::Greater],
        other => return Err(fail(format!("Invalid operator type ({other}). Must be one of '==', '=', 'eq', '<', 'lt', '<=', 'le', '>', 'gt', '>=', 'ge', '!=', '<>', 'ne'"))),
    };
    let ordering = compare(&a, &b, kind).map_err(|e| fail(format!("Version comparison failed: {e}")))?;
    Ok(wanted.contains(&ordering))
}

const KINDS: [&str; 5] = ["loose", "strict", "semver", "semantic", "pep440"];

/// Orders two versions of the given kind.
pub fn compare(a: &str, b: &str, kind: &str) -> Result<Ordering, String> {
    match kind {
        "loose" => loose_cmp(&loose(a), &loose(b)),
        "strict" => Ok(strict(a)?.cmp(&strict(b)?)),
        "semver" | "semantic" => semver_cmp(a, b),
        "pep440" => Ok(pep440(a)?.cmp(&pep440(b)?)),
        other => Err(format!("Invalid version type ({other}). Must be one of 'loose', 'strict', 'semver', 'semantic', 'pep440'")),
    }
}

/// A PEP 440 version's sort key, as `packaging.version.Version` orders:
/// epoch, release (trailing zeros ignored), pre-release (a dev release of a
/// final sorts before its pre-releases), post-release, dev release, local.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pep440 {
    epoch: u64,
    release: Vec<u64>,
    pre: (u8, u64),
    post: Option<u64>,
    dev: (bool, u64),
    local: Option<Vec<(bool, u64, String)>>,
}

fn pep440(text: &str) -> Result<Pep440, String> {
    static FORM: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let form = FORM.get_or_init(|| {
        regex::Regex::new(
            r"(?ix)^v?(?:(?P<epoch>[0-9]+)!)?(?P<release>[0-9]+(?:\.[0-9]+)*)
            (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
            (?:-(?P<post_n1>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?)?
            (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
            (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$",
        )
        .expect("static pattern")
    });
    let invalid = || format!("Invalid version: {}", super::py::repr(&serde_json::Value::String(text.into())));
    let caps = form.captures(text.trim()).ok_or_else(invalid)?;
    let num = |name: &str| caps.name(name).map(|m| m.as_str().parse::<u64>().map_err(|_| invalid())).transpose();
    let mut release: Vec<u64> = caps["release"].split('.').map(|n| n.parse().map_err(|_| invalid())).collect::<Result<_, _>>()?;
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let post = match (num("post_n1")?, caps.name("post_l")) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => Some(num("post_n2")?.unwrap_or(0)),
        (None, None) => None,
    };
    let dev = caps.name("dev_l").is_some();
    // Ranks: a dev release of a final (0) < a < b < rc (1..3) < the final (4).
    let pre = match caps.name("pre_l").map(|m| m.as_str().to_lowercase()) {
        Some(l) => (
            match l.as_str() {
                "a" | "alpha" => 1,
                "b" | "beta" => 2,
                _ => 3,
            },
            num("pre_n")?.unwrap_or(0),
        ),
        None if post.is_none() && dev => (0, 0),
        None => (4, 0),
    };
    let local = caps.name("local").map(|m| {
        m.as_str()
            .split(['-', '_', '.'])
            .map(|part| match part.parse::<u64>() {
                // Numeric parts sort after text parts.
                Ok(n) => (true, n, String::new()),
                Err(_) => (false, 0, part.to_lowercase()),
            })
            .collect()
    });
    Ok(Pep440 { epoch: num("epoch")?.unwrap_or(0), release, pre, post, dev: (!dev, num("dev_n")?.unwrap_or(0)), local })
}

/// One component of a LooseVersion: a number or a run of letters/other.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Num(u64),
    Text(String),
}

/// distutils' LooseVersion: `re.split(r'(\d+|[a-z]+|\.)')` keeping digit
/// runs (as numbers), lowercase runs, and the text between; dots dropped.
fn loose(v: &str) -> Vec<Part> {
    let re = regex::Regex::new(r"\d+|[a-z]+|\.").expect("static pattern");
    let mut parts = Vec::new();
    let mut last = 0;
    for m in re.find_iter(v) {
        parts.push(&v[last..m.start()]);
        parts.push(m.as_str());
        last = m.end();
    }
    parts.push(&v[last..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty() && *p != ".")
        .map(|p| p.parse().map(Part::Num).unwrap_or_else(|_| Part::Text(p.to_string())))
        .collect()
}

/// Python's list comparison; an int against a str is a TypeError there.
fn loose_cmp(a: &[Part], b: &[Part]) -> Result<Ordering, String> {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Part::Num(m), Part::Num(n)) => m.cmp(n),
            (Part::Text(s), Part::Text(t)) => s.cmp(t),
            _ => return Err("'<' not supported between instances of 'str' and 'int'".into()),
        };
        if o != Ordering::Equal {
            return Ok(o);
        }
    }
    Ok(a.len().cmp(&b.len()))
}

/// major, minor, patch, and (release?, a|b, pre-release number).
type StrictVersion = (u64, u64, u64, (u8, char, u64));

/// StrictVersion: `N.N[.N][(a|b)N]`; a pre-release sorts before the release.
fn strict(v: &str) -> Result<StrictVersion, String> {
    let re = regex::Regex::new(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$").expect("static pattern");
    let caps = re.captures(v).ok_or_else(|| format!("invalid version number '{v}'"))?;
    let num = |i: usize| caps.get(i).map_or(Ok(0), |m| m.as_str().parse::<u64>()).map_err(|e| e.to_string());
    let pre = match caps.get(4) {
        Some(letter) => (0, letter.as_str().chars().next().unwrap_or('a'), num(5)?),
        None => (1, ' ', 0),
    };
    Ok((num(1)?, num(2)?, num(3)?, pre))
}

/// Semantic versioning 2.0 precedence (build metadata ignored).
fn semver_cmp(a: &str, b: &str) -> Result<Ordering, String> {
    let parse = |v: &str| -> Result<(Vec<u64>, Option<String>), String> {
        let core = v.split('+').next().unwrap_or(v);
        let (nums, pre) = match core.split_once('-') {
            Some((n, p)) => (n, Some(p.to_string())),
            None => (core, None),
        };
        let nums: Result<Vec<u64>, _> = nums.split('.').map(str::parse).collect();
        match nums {
            Ok(n) if n.len() == 3 => Ok((n, pre)),
            _ => Err(format!("invalid semantic version '{v}'")),
        }
    };
    let (an, ap) = parse(a)?;
    let (bn, bp) = parse(b)?;
    Ok(an.cmp(&bn).then_with(|| match (ap, bp) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => prerelease_cmp(&x, &y),
    }))
}

fn prerelease_cmp(a: &str, b: &str) -> Ordering {
    for (x, y) in a.split('.').zip(b.split('.')) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.split('.').count().cmp(&b.split('.').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_orders_as_packaging() {
        let lt = |a: &str, b: &str| assert_eq!(compare(a, b, "pep440"), Ok(Ordering::Less), "{a} < {b}");
        lt("2.14.0rc1", "2.14.0");
        lt("1.0.dev1", "1.0a1");
        lt("1.0a1", "1.0b2");
        lt("1.0b2", "1.0rc1");
        lt("1.0", "1.0.post1");
        lt("1.0.post1", "1.1.dev0");
        lt("1.0", "1.0+local");
        lt("1!0.1", "2!0.0");
        lt("1.0rc1.dev1", "1.0rc1");
        assert_eq!(compare("1.0", "1.0.0", "pep440"), Ok(Ordering::Equal));
        assert_eq!(compare("1.0-1", "1.0.post1", "pep440"), Ok(Ordering::Equal));
        assert_eq!(compare("nope", "1.0", "pep440"), Err("Invalid version: 'nope'".into()));
    }

    #[test]
    fn strict_may_be_given_by_position() {
        let mut env = Environment::new();
        register(&mut env);
        assert_eq!(env.render_str("{{ '1.0' is version('1.0', '==', true) }}", ()).unwrap(), "True");
        let err = env.render_str("{{ '1.0' is version('nope', '==', true) }}", ()).unwrap_err();
        assert!(err.detail().unwrap().starts_with("Version comparison failed"), "{err}");
    }

    #[test]
    fn loose_orders_numerically() {
        assert_eq!(compare("1.10", "1.9", "loose"), Ok(Ordering::Greater));
        assert_eq!(compare("2.0", "2.0.0", "loose"), Ok(Ordering::Less));
        assert!(compare("1.0a", "1.0.1", "loose").is_err());
    }

    #[test]
    fn strict_and_semver_know_prereleases() {
        assert_eq!(compare("1.0a1", "1.0", "strict"), Ok(Ordering::Less));
        assert_eq!(compare("1.0.0-rc.1", "1.0.0", "semver"), Ok(Ordering::Less));
        assert_eq!(compare("1.0.0-alpha.2", "1.0.0-alpha.10", "semver"), Ok(Ordering::Less));
    }
}
