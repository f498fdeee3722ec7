//! `regex_replace`, `regex_search`, `regex_findall` and the `match`,
//! `search` and `regex` tests, with Python's `re` conventions: `\1` and
//! `\g<name>` in replacements, `ignorecase=` and `multiline=` flags.
//!
//! Patterns run on Rust's `regex` engine, which has no look-around or
//! back-references; such a pattern is refused with an error saying so.

use super::{fail, py_str};
use minijinja::value::{Kwargs, Rest, Value as Jinja};
use minijinja::{Environment, Error};
use regex::{Regex, RegexBuilder};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", |s: String| escape(&s));
}

/// Compiles a Python-style pattern with the `ignorecase`/`multiline` flags.
pub(crate) fn compile(pattern: &str, ignorecase: bool, multiline: bool) -> Result<Regex, Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| {
            let hint = if pattern.contains("(?=") || pattern.contains("(?!") || pattern.contains("(?<") {
                " (look-around is not supported; match more and use groups instead)"
            } else {
                ""
            };
            fail(format!("invalid regular expression `{pattern}`{hint}: {e}"))
        })
}

fn flags(kwargs: &Kwargs) -> Result<(bool, bool), Error> {
    let ignorecase = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let multiline = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    Ok((ignorecase, multiline))
}

/// `re.search`/`re.match` as the `regex` test does.
pub(crate) fn test(value: &str, pattern: &str, ignorecase: bool, multiline: bool, match_type: &str) -> Result<bool, Error> {
    let anchored = match match_type {
        "match" => format!(r"\A(?:{pattern})"),
        "fullmatch" => format!(r"\A(?:{pattern})\z"),
        "search" => pattern.to_string(),
        other => return Err(fail(format!("unknown match_type '{other}' (use search, match or fullmatch)"))),
    };
    Ok(compile(&anchored, ignorecase, multiline)?.is_match(value))
}

/// `regex_replace(pattern='', replacement='', ignorecase=False,
/// multiline=False, count=0, mandatory_count=0)`.
fn regex_replace(value: Jinja, pattern: Option<String>, replacement: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    let count = kwargs.get::<Option<usize>>("count")?.unwrap_or(0);
    let mandatory = kwargs.get::<Option<usize>>("mandatory_count")?.unwrap_or(0);
    kwargs.assert_all_used()?;
    let pattern = pattern.unwrap_or_default();
    let re = compile(&pattern, ignorecase, multiline)?;
    let text = py_str(&value);
    let found = re.find_iter(&text).count();
    let found = if count > 0 { found.min(count) } else { found };
    if mandatory > 0 && mandatory != found {
        return Err(fail(format!("'{pattern}' should match {mandatory} times, but matches {found} times in '{text}'")));
    }
    let template = python_replacement(&replacement.unwrap_or_default());
    Ok(re.replacen(&text, count, template.as_str()).into_owned())
}

/// Rewrites a Python replacement template (`\1`, `\g<name>`, `\n`) into
/// the `regex` crate's (`${1}`, `${name}`), escaping literal `$`.
fn python_replacement(repl: &str) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = d.to_string();
                    if let Some(e) = chars.peek().filter(|e| e.is_ascii_digit()) {
                        num.push(*e);
                        chars.next();
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('g') if chars.peek() == Some(&'<') => {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                    out.push_str(&format!("${{{name}}}"));
                }
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

/// `regex_search(regex, '\\1', '\\g<name>', ignorecase=, multiline=)`:
/// the match, or the listed groups, or none.
fn regex_search(value: Jinja, pattern: String, groups: Rest<String>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile(&pattern, ignorecase, multiline)?;
    let text = py_str(&value);
    let Some(caps) = re.captures(&text) else {
        return Ok(Jinja::from(()));
    };
    if groups.is_empty() {
        return Ok(Jinja::from(caps.get(0).map(|m| m.as_str()).unwrap_or_default()));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = if let Some(name) = g.strip_prefix("\\g<").and_then(|n| n.strip_suffix('>')) {
            match name.parse::<usize>() {
                Ok(i) => caps.get(i),
                Err(_) => caps.name(name),
            }
        } else if let Some(Ok(i)) = g.strip_prefix('\\').map(str::parse::<usize>) {
            caps.get(i)
        } else {
            return Err(fail(format!("regex_search: unknown argument '{g}' (use '\\\\1' or '\\\\g<name>')")));
        };
        out.push(m.map(|m| Jinja::from(m.as_str())).unwrap_or(Jinja::from(())));
    }
    Ok(Jinja::from(out))
}

/// `re.findall`: the matches, or group 1 of each, or lists of all groups.
fn regex_findall(value: Jinja, pattern: String, kwargs: Kwargs) -> Result<Jinja, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile(&pattern, ignorecase, multiline)?;
    let text = py_str(&value);
    let group_text = |m: Option<regex::Match>| Jinja::from(m.map(|m| m.as_str()).unwrap_or_default());
    let found = re.captures_iter(&text).map(|caps| match caps.len() {
        1 => group_text(caps.get(0)),
        2 => group_text(caps.get(1)),
        n => Jinja::from((1..n).map(|i| group_text(caps.get(i))).collect::<Vec<_>>()),
    });
    Ok(Jinja::from(found.collect::<Vec<_>>()))
}

/// Python's `re.escape`: every character but letters, digits and `_` that
/// has a meaning in a pattern gets a backslash.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_replacements_become_regex_ones() {
        assert_eq!(python_replacement(r"\1-\g<name>$"), "${1}-${name}$$");
        let re = compile(r"(\w+)@(\w+)", false, false).unwrap();
        assert_eq!(re.replace_all("me@host", python_replacement(r"\2 at \1").as_str()), "host at me");
    }

    #[test]
    fn match_is_anchored_search_is_not() {
        assert!(test("foobar", "bar", false, false, "search").unwrap());
        assert!(!test("foobar", "bar", false, false, "match").unwrap());
        assert!(test("FOO", "foo", true, false, "match").unwrap());
    }
}
