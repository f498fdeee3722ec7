//! `regex_replace`, `regex_search`, `regex_findall` and the `match`,
//! `search` and `regex` tests, with Python's `re` conventions: `\1` and
//! `\g<name>` in replacements, `ignorecase=` and `multiline=` flags.
//!
//! Patterns run on fancy-regex, which has Python's look-around and
//! back-references and hands the rest to Rust's linear-time `regex`; a
//! pattern that backtracks past fancy-regex's limit is an error, never a hang.

use super::{fail, py_str};
use fancy_regex::{Regex, RegexBuilder};
use minijinja::value::{Kwargs, Rest, Value as Jinja};
use minijinja::{Environment, Error};

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
        .map_err(|e| fail(format!("invalid regular expression `{pattern}`: {}", python_error(&e))))
}

/// A compile error as Python's `re` words the common ones (Ansible's targets
/// and roles match on them), else fancy-regex's own text.
pub(crate) fn python_error(e: &fancy_regex::Error) -> String {
    let text = e.to_string();
    let nothing_to_repeat = ["repetition operator missing expression", "Target of repeat operator is invalid"];
    match nothing_to_repeat.iter().any(|t| text.contains(t)) {
        true => format!("nothing to repeat ({text})"),
        false => text,
    }
}

/// A match that ran past the backtracking limit, as a template error.
fn ran_out(e: fancy_regex::Error) -> Error {
    fail(format!("regular expression gave up: {e}"))
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
    compile(&anchored, ignorecase, multiline)?.is_match(value).map_err(ran_out)
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
    let found = re.find_iter(&text).collect::<Result<Vec<_>, _>>().map_err(ran_out)?.len();
    let found = if count > 0 { found.min(count) } else { found };
    if mandatory > 0 && mandatory != found {
        return Err(fail(format!("'{pattern}' should match {mandatory} times, but matches {found} times in '{text}'")));
    }
    let template = python_replacement(&replacement.unwrap_or_default());
    Ok(re.try_replacen(&text, count, template.as_str()).map_err(ran_out)?.into_owned())
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
    let Some(caps) = re.captures(&text).map_err(ran_out)? else {
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
    let group_text = |m: Option<fancy_regex::Match>| Jinja::from(m.map(|m| m.as_str()).unwrap_or_default());
    let all = re.captures_iter(&text).collect::<Result<Vec<_>, _>>().map_err(ran_out)?;
    let found = all.iter().map(|caps| match caps.len() {
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
    fn look_around_and_back_references_work_as_in_python() {
        assert!(test("qa_1 qz_1 qz_2", "(?=.*qa_1)(?=.*qz_2)", false, false, "search").unwrap());
        assert!(!test("qa_1 qz_1", "(?=.*qa_1)(?=.*qz_2)", false, false, "search").unwrap());
        assert!(test("abab", r"^(ab)\1$", false, false, "search").unwrap());
        let re = compile(r"(?<=v)\d+", false, false).unwrap();
        assert_eq!(re.try_replacen("v12 w3", 0, "N").unwrap(), "vN w3");
    }

    #[test]
    fn bad_patterns_say_what_python_says() {
        let e = compile("*", false, false).unwrap_err();
        assert!(e.to_string().contains("nothing to repeat"), "{e}");
    }

    #[test]
    fn catastrophic_backtracking_is_an_error_not_a_hang() {
        let long = format!("{}!", "a".repeat(40));
        let e = test(&long, r"^(?:(?=a)a|a)*b", false, false, "search").unwrap_err();
        assert!(e.to_string().contains("gave up"), "{e}");
    }

    #[test]
    fn match_is_anchored_search_is_not() {
        assert!(test("foobar", "bar", false, false, "search").unwrap());
        assert!(!test("foobar", "bar", false, false, "match").unwrap());
        assert!(test("FOO", "foo", true, false, "match").unwrap());
    }
}
