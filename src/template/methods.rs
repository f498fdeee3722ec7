//! Python methods on values that minijinja-contrib's pycompat lacks
//! (`list.index`, `str.index`, `str.rsplit`, `str.zfill`, the padding and
//! `partition` methods), which Ansible's targets and public roles call;
//! anything else goes on to pycompat.

use minijinja::value::{from_args, Value as Jinja, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// The environment's unknown-method callback.
pub fn call(state: &mut State, value: &Jinja, method: &str, args: &[Jinja]) -> Result<Jinja, Error> {
    let ours = match value.kind() {
        ValueKind::Seq => seq_method(value, method, args),
        ValueKind::String => value.as_str().map_or(Ok(None), |s| str_method(s, method, args)),
        _ => Ok(None),
    };
    match ours? {
        Some(result) => Ok(result),
        None => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
    }
}

fn value_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("ValueError: {}", message.into()))
}

fn seq_method(value: &Jinja, method: &str, args: &[Jinja]) -> Result<Option<Jinja>, Error> {
    if method != "index" {
        return Ok(None);
    }
    let (wanted, start, stop): (Jinja, Option<i64>, Option<i64>) = from_args(args)?;
    let items: Vec<Jinja> = value.try_iter()?.collect();
    let (start, stop) = (clamp(start, 0, items.len()), clamp(stop, items.len() as i64, items.len()));
    let found = (start..stop.max(start)).find(|&i| items[i] == wanted);
    match found {
        Some(i) => Ok(Some(Jinja::from(i))),
        None => Err(value_error(format!("{} is not in list", super::py::repr(&serde_json::to_value(&wanted).unwrap_or_default())))),
    }
}

/// A Python slice bound: negative counts from the end; out of range is clamped.
fn clamp(bound: Option<i64>, default: i64, len: usize) -> usize {
    let b = bound.unwrap_or(default);
    let b = if b < 0 { b + len as i64 } else { b };
    b.clamp(0, len as i64) as usize
}

fn str_method(s: &str, method: &str, args: &[Jinja]) -> Result<Option<Jinja>, Error> {
    let result = match method {
        "index" | "rindex" => {
            let (sub,): (&str,) = from_args(args)?;
            let at = if method == "index" { s.find(sub) } else { s.rfind(sub) };
            let at = at.ok_or_else(|| value_error("substring not found"))?;
            Jinja::from(s[..at].chars().count())
        }
        "rsplit" => rsplit(s, args)?,
        "zfill" => {
            let (width,): (usize,) = from_args(args)?;
            Jinja::from(zfill(s, width))
        }
        "ljust" | "rjust" | "center" => {
            let (width, fill): (usize, Option<&str>) = from_args(args)?;
            let fill = single_char(fill.unwrap_or(" "))?;
            Jinja::from(pad(s, method, width, fill))
        }
        "partition" | "rpartition" => {
            let (sep,): (&str,) = from_args(args)?;
            if sep.is_empty() {
                return Err(value_error("empty separator"));
            }
            let at = if method == "partition" { s.find(sep) } else { s.rfind(sep) };
            let parts = match (at, method) {
                (Some(i), _) => [&s[..i], sep, &s[i + sep.len()..]],
                (None, "partition") => [s, "", ""],
                (None, _) => ["", "", s],
            };
            Jinja::from(parts.iter().map(|p| Jinja::from(*p)).collect::<Vec<_>>())
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

fn single_char(fill: &str) -> Result<char, Error> {
    let mut chars = fill.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(Error::new(ErrorKind::InvalidOperation, "TypeError: The fill character must be exactly one character long")),
    }
}

fn pad(s: &str, how: &str, width: usize, fill: char) -> String {
    let missing = width.saturating_sub(s.chars().count());
    // Python's center puts the odd extra fill on the left when the text's length is odd.
    let left = match how {
        "ljust" => 0,
        "rjust" => missing,
        _ => missing / 2 + (missing & width & 1),
    };
    let fill_n = |n: usize| std::iter::repeat(fill).take(n).collect::<String>();
    format!("{}{s}{}", fill_n(left), fill_n(missing - left))
}

fn zfill(s: &str, width: usize) -> String {
    let missing = width.saturating_sub(s.chars().count());
    let (sign, digits) = match s.chars().next() {
        Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
        _ => (String::new(), s),
    };
    format!("{sign}{}{digits}", "0".repeat(missing))
}

/// `rsplit(sep=None, maxsplit=-1)`: splits from the right; without `sep`,
/// on runs of whitespace.
fn rsplit(s: &str, args: &[Jinja]) -> Result<Jinja, Error> {
    let (sep, maxsplit): (Option<&str>, Option<i64>) = from_args(args)?;
    let limit = maxsplit.filter(|m| *m >= 0).map(|m| m as usize);
    let mut parts: Vec<String> = match sep {
        Some("") => return Err(value_error("empty separator")),
        Some(sep) => match limit {
            Some(m) => s.rsplitn(m + 1, sep).map(String::from).collect(),
            None => s.rsplit(sep).map(String::from).collect(),
        },
        None => rsplit_whitespace(s, limit),
    };
    parts.reverse();
    Ok(Jinja::from(parts.into_iter().map(Jinja::from).collect::<Vec<_>>()))
}

/// Whitespace split from the right, the rest kept whole (trailing space of it stripped, as Python does).
fn rsplit_whitespace(s: &str, limit: Option<usize>) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = s.trim_end();
    while !rest.is_empty() {
        if limit.is_some_and(|m| parts.len() == m) {
            parts.push(rest.to_string());
            break;
        }
        let cut = rest.rfind(char::is_whitespace).map_or(0, |i| i + rest[i..].chars().next().map_or(1, char::len_utf8));
        parts.push(rest[cut..].to_string());
        rest = rest[..cut].trim_end();
    }
    parts
}

#[cfg(test)]
mod tests {
    use minijinja::Environment;

    fn render(source: &str) -> Result<String, String> {
        let mut env = Environment::new();
        env.set_unknown_method_callback(super::call);
        env.render_str(source, minijinja::context! { l => vec!["a", "b", "c", "b"] }).map_err(|e| e.to_string())
    }

    #[test]
    fn list_index_finds_the_first_match_within_the_slice() {
        assert_eq!(render("{{ l.index('b') }} {{ l.index('b', 2) }} {{ l.index('a', -4, 1) }}").unwrap(), "1 3 0");
        let missing = render("{{ l.index('z') }}").unwrap_err();
        assert!(missing.contains("ValueError: 'z' is not in list"), "{missing}");
        assert!(render("{{ l.index('a', 1) }}").is_err());
    }

    #[test]
    fn string_methods_follow_python() {
        assert_eq!(
            render("{{ 'a.b.c'.rsplit('.', 1) }}|{{ '  x  y z '.rsplit(None, 1) }}|{{ 'x y'.rsplit() }}").unwrap(),
            "['a.b', 'c']|['  x  y', 'z']|['x', 'y']"
        );
        assert_eq!(render("{{ '42'.zfill(5) }} {{ '-7'.zfill(4) }} {{ 'abc'.zfill(2) }}").unwrap(), "00042 -007 abc");
        assert_eq!(
            render("[{{ 'ab'.ljust(4, '*') }}][{{ 'ab'.rjust(4) }}][{{ 'abc'.center(6, '-') }}][{{ 'ab'.center(5) }}]").unwrap(),
            "[ab**][  ab][-abc--][  ab ]"
        );
        assert_eq!(
            render("{{ 'k=v=w'.partition('=') }} {{ 'k=v=w'.rpartition('=') }} {{ 'kv'.partition('=') }}").unwrap(),
            "['k', '=', 'v=w'] ['k=v', '=', 'w'] ['kv', '', '']"
        );
        assert_eq!(render("{{ 'hello'.index('l') }} {{ 'hello'.rindex('l') }}").unwrap(), "2 3");
        assert!(render("{{ 'hello'.index('z') }}").unwrap_err().contains("substring not found"));
        assert!(render("{{ 'ab'.ljust(4, '**') }}").unwrap_err().contains("exactly one character"));
    }

    #[test]
    fn other_methods_still_reach_pycompat() {
        assert_eq!(render("{{ 'a,b'.split(',') }} {{ l.count('b') }}").unwrap(), "['a', 'b'] 2");
    }
}
