//! Jinja2's built-in filters that minijinja does not have: `center`,
//! `filesizeformat`, `forceescape`, `striptags`, `truncate`, `wordcount`,
//! `wordwrap`, `xmlattr`, `urlize`, with Jinja2's (3.1) semantics and
//! defaults (Ansible's: `urlize` links get `rel="noopener"`).

use super::{fail, py_str};
use crate::template::budget;
use minijinja::value::{Kwargs, Rest, Value as Jinja, ValueKind};
use minijinja::{Environment, Error};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("center", |v: Jinja, width: Option<usize>| center(&py_str(&v), width.unwrap_or(80)));
    env.add_filter("filesizeformat", filesizeformat);
    env.add_filter("forceescape", |v: Jinja| escape(&py_str(&v)));
    env.add_filter("striptags", |v: Jinja| striptags(&py_str(&v)));
    env.add_filter("truncate", truncate);
    env.add_filter("wordcount", |v: Jinja| py_str(&v).split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).count());
    env.add_filter("wordwrap", wordwrap);
    env.add_filter("xmlattr", xmlattr);
    env.add_filter("urlize", urlize);
}

/// Python's `str.center`: the odd space goes left when the width is odd.
fn center(s: &str, width: usize) -> String {
    let len = s.chars().count();
    if width <= len {
        return s.to_string();
    }
    let pad = width - len;
    let left = pad / 2 + (pad & width & 1);
    format!("{}{s}{}", " ".repeat(left), " ".repeat(pad - left))
}

/// `filesizeformat(binary=False)`: `"1 Byte"`, `"12 Bytes"`, `"1.5 kB"` or
/// `"1.5 KiB"`.
fn filesizeformat(v: Jinja, binary: Option<bool>, kwargs: Kwargs) -> Result<String, Error> {
    let binary = binary.or(kwargs.get::<Option<bool>>("binary")?).unwrap_or(false);
    kwargs.assert_all_used()?;
    let bytes = match v.kind() {
        ValueKind::Number => f64::try_from(v.clone())?,
        ValueKind::Bool => f64::from(u8::from(v.is_true())),
        _ => super::types::py_float(&py_str(&v)).ok_or_else(|| fail(format!("could not convert string to float: {}", super::py::repr(&super::to_json(&v)))))?,
    };
    let (base, prefixes) = if binary { (1024.0, ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]) } else { (1000.0, ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]) };
    if bytes == 1.0 {
        return Ok("1 Byte".into());
    }
    if bytes < base {
        return Ok(format!("{} Bytes", bytes.trunc() as i64));
    }
    let mut unit = base;
    for prefix in prefixes {
        unit *= base;
        if bytes < unit || prefix.starts_with('Y') {
            return Ok(format!("{:.1} {prefix}", base * bytes / unit));
        }
    }
    unreachable!("the last prefix always returns")
}

/// MarkupSafe's `escape`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markup's `striptags`: comments and tags dropped, runs of whitespace made
/// one space, then the common entities unescaped.
fn striptags(s: &str) -> String {
    static COMMENTS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static TAGS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let comments = COMMENTS.get_or_init(|| regex::Regex::new(r"(?s)<!--.*?-->").expect("static pattern"));
    let tags = TAGS.get_or_init(|| regex::Regex::new(r"(?s)<.*?>").expect("static pattern"));
    let text = tags.replace_all(&comments.replace_all(s, ""), "").into_owned();
    unescape(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `html.unescape` for the named entities MarkupSafe writes and numeric
/// ones.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => match name.strip_prefix('#') {
                    Some(n) => match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    }
                    .and_then(char::from_u32),
                    None => None,
                },
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Argument `i` of a filter, given by position or by `name`.
fn given(args: &[Jinja], i: usize, kwargs: &Kwargs, name: &str) -> Result<Option<Jinja>, Error> {
    match args.get(i) {
        Some(v) => Ok(Some(v.clone())),
        None => kwargs.get::<Option<Jinja>>(name),
    }
}

fn number(args: &[Jinja], i: usize, kwargs: &Kwargs, name: &str) -> Result<Option<usize>, Error> {
    given(args, i, kwargs, name)?.map(|v| usize::try_from(v).map_err(|_| fail(format!("{name} must be a non-negative integer")))).transpose()
}

fn flag(args: &[Jinja], i: usize, kwargs: &Kwargs, name: &str) -> Result<Option<bool>, Error> {
    Ok(given(args, i, kwargs, name)?.map(|v| v.is_true()))
}

fn text(args: &[Jinja], i: usize, kwargs: &Kwargs, name: &str) -> Result<Option<String>, Error> {
    Ok(given(args, i, kwargs, name)?.filter(|v| !v.is_none()).map(|v| py_str(&v)))
}

/// `truncate(length=255, killwords=False, end='...', leeway=5)`: text
/// within `length + leeway` is kept; otherwise cut at `length - len(end)`,
/// back to the last space unless `killwords`.
fn truncate(v: Jinja, args: Rest<Jinja>, kwargs: Kwargs) -> Result<String, Error> {
    let length = number(&args, 0, &kwargs, "length")?.unwrap_or(255);
    let killwords = flag(&args, 1, &kwargs, "killwords")?.unwrap_or(false);
    let end = text(&args, 2, &kwargs, "end")?.unwrap_or_else(|| "...".into());
    let leeway = number(&args, 3, &kwargs, "leeway")?.unwrap_or(5);
    kwargs.assert_all_used()?;
    let s = py_str(&v);
    let chars: Vec<char> = s.chars().collect();
    let end_len = end.chars().count();
    if length < end_len {
        return Err(fail(format!("expected length >= {end_len}, got {length}")));
    }
    if chars.len() <= length + leeway {
        return Ok(s);
    }
    let head: String = chars[..length - end_len].iter().collect();
    if killwords {
        return Ok(head + &end);
    }
    let kept = head.rsplit_once(' ').map_or(head.as_str(), |(before, _)| before);
    Ok(format!("{kept}{end}"))
}

/// `wordwrap(width=79, break_long_words=True, wrapstring='\n',
/// break_on_hyphens=True)`: each line wrapped as Python's `textwrap.wrap`
/// (tabs and spaces kept inside lines, dropped at their ends).
fn wordwrap(v: Jinja, args: Rest<Jinja>, kwargs: Kwargs) -> Result<String, Error> {
    let width = number(&args, 0, &kwargs, "width")?.unwrap_or(79);
    let break_long = flag(&args, 1, &kwargs, "break_long_words")?.unwrap_or(true);
    let wrapstring = text(&args, 2, &kwargs, "wrapstring")?.unwrap_or_else(|| "\n".into());
    let hyphens = flag(&args, 3, &kwargs, "break_on_hyphens")?.unwrap_or(true);
    kwargs.assert_all_used()?;
    if width == 0 {
        return Err(fail(format!("invalid width {width} (must be > 0)")));
    }
    let text = py_str(&v);
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push_str(&wrapstring);
        }
        for (j, piece) in wrap(line, width, break_long, hyphens).iter().enumerate() {
            if j > 0 {
                out.push_str(&wrapstring);
            }
            out.push_str(piece);
            // A long wrapstring multiplies the text: stop past the budget.
            if out.len() > budget::limit() {
                return Err(budget::exceeded());
            }
            budget::check()?;
        }
    }
    Ok(out)
}

/// The chunks `textwrap` fills lines with: runs of whitespace, and words
/// (cut after their hyphens when `hyphens`).
fn chunks(line: &str, hyphens: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in line.chars() {
        let space = c.is_whitespace();
        match out.last_mut() {
            Some(last) if last.chars().next().is_some_and(|f| f.is_whitespace()) == space => {
                // A hyphen between letters ends a word chunk.
                let after_hyphen = hyphens && !space && last.ends_with('-') && last.chars().rev().nth(1).is_some_and(char::is_alphanumeric) && c.is_alphanumeric();
                if after_hyphen {
                    out.push(c.to_string());
                } else {
                    last.push(c);
                }
            }
            _ => out.push(c.to_string()),
        }
    }
    out
}

/// `textwrap.wrap(line, width)` with `drop_whitespace`.
fn wrap(line: &str, width: usize, break_long: bool, hyphens: bool) -> Vec<String> {
    let mut pending: Vec<String> = chunks(line, hyphens);
    pending.reverse();
    let mut lines = Vec::new();
    while !pending.is_empty() {
        let mut current: Vec<String> = Vec::new();
        let mut len = 0;
        // Whitespace that would start a line is dropped (not on the first).
        if !lines.is_empty() && pending.last().is_some_and(|c| c.trim().is_empty()) {
            pending.pop();
        }
        while let Some(chunk) = pending.last() {
            let n = chunk.chars().count();
            if len + n <= width {
                len += n;
                current.push(pending.pop().expect("peeked"));
            } else {
                break;
            }
        }
        if let Some(chunk) = pending.last() {
            if chunk.chars().count() > width {
                let room = if width > len { width - len } else { 1 };
                if break_long {
                    let chunk = pending.pop().expect("peeked");
                    let head: String = chunk.chars().take(room).collect();
                    let tail: String = chunk.chars().skip(room).collect();
                    current.push(head);
                    if !tail.is_empty() {
                        pending.push(tail);
                    }
                } else if current.is_empty() {
                    current.push(pending.pop().expect("peeked"));
                }
            }
        }
        if current.last().is_some_and(|c| c.trim().is_empty()) {
            current.pop();
        }
        if !current.is_empty() {
            lines.push(current.concat());
        }
    }
    lines
}

/// `xmlattr(autospace=True)`: ` key="value"` pairs, escaped; none and
/// undefined values are left out.
fn xmlattr(v: Jinja, autospace: Option<bool>, kwargs: Kwargs) -> Result<String, Error> {
    let autospace = autospace.or(kwargs.get::<Option<bool>>("autospace")?).unwrap_or(true);
    kwargs.assert_all_used()?;
    if v.kind() != ValueKind::Map {
        return Err(fail(format!("xmlattr expects a dict, got {}", super::py::type_name(&super::to_json(&v)))));
    }
    let mut items = Vec::new();
    for key in v.try_iter()? {
        let value = v.get_item(&key)?;
        if value.is_none() || value.is_undefined() {
            continue;
        }
        let name = py_str(&key);
        if name.is_empty() || name.contains([' ', '\t', '\n', '\r', '\x0c', '/', '>', '=']) {
            return Err(fail(format!("Invalid character in attribute name: {}", super::py::repr(&super::to_json(&key)))));
        }
        items.push(format!("{}=\"{}\"", escape(&name), escape(&py_str(&value))));
    }
    let joined = items.join(" ");
    Ok(if autospace && !joined.is_empty() { format!(" {joined}") } else { joined })
}

/// `urlize(trim_url_limit=None, nofollow=False, target=None, rel=None,
/// extra_schemes=None)`: the text escaped, its URLs and e-mail addresses
/// made links.
fn urlize(v: Jinja, args: Rest<Jinja>, kwargs: Kwargs) -> Result<String, Error> {
    let limit = number(&args, 0, &kwargs, "trim_url_limit")?;
    let nofollow = flag(&args, 1, &kwargs, "nofollow")?.unwrap_or(false);
    let target = text(&args, 2, &kwargs, "target")?.filter(|t| !t.is_empty());
    let rel = text(&args, 3, &kwargs, "rel")?;
    let extra_schemes: Vec<String> = match given(&args, 4, &kwargs, "extra_schemes")?.filter(|v| !v.is_none()) {
        Some(list) => list.try_iter()?.map(|s| py_str(&s)).collect(),
        None => Vec::new(),
    };
    kwargs.assert_all_used()?;
    // Jinja2's policy adds "noopener" to every link's rel, sorted with the rest.
    let mut rels: Vec<String> = rel.unwrap_or_default().split_whitespace().map(str::to_string).collect();
    if nofollow {
        rels.push("nofollow".into());
    }
    rels.push("noopener".into());
    rels.sort();
    rels.dedup();
    let attrs = format!(" rel=\"{}\"{}", escape(&rels.join(" ")), target.map(|t| format!(" target=\"{}\"", escape(&t))).unwrap_or_default());
    let trim = |url: &str| match limit {
        Some(n) if url.chars().count() > n => format!("{}...", url.chars().take(n).collect::<String>()),
        _ => url.to_string(),
    };
    let escaped = escape(&py_str(&v));
    let mut out = String::new();
    let mut last = 0;
    for space in url_re(r"\s+").find_iter(&escaped) {
        out.push_str(&urlize_word(&escaped[last..space.start()], &attrs, &trim, &extra_schemes));
        out.push_str(space.as_str());
        last = space.end();
    }
    out.push_str(&urlize_word(&escaped[last..], &attrs, &trim, &extra_schemes));
    Ok(out)
}

fn url_re(pattern: &'static str) -> regex::Regex {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<&'static str, regex::Regex>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    cache.entry(pattern).or_insert_with(|| regex::Regex::new(pattern).expect("static pattern")).clone()
}

/// One word of `urlize`: leading `(`/`<` and trailing `).,>` kept out of
/// the link unless they balance one inside it.
fn urlize_word(word: &str, attrs: &str, trim: &dyn Fn(&str) -> String, extra_schemes: &[String]) -> String {
    let mut middle = word.to_string();
    let head = url_re(r"^(?:[(<]|&lt;)+").find(&middle).map(|m| m.as_str().to_string()).unwrap_or_default();
    middle = middle[head.len()..].to_string();
    let mut tail = String::new();
    if let Some(m) = url_re(r"(?:[)>.,\n]|&gt;)+$").find(&middle) {
        tail = m.as_str().to_string();
        middle.truncate(m.start());
    }
    for (open, close) in [("(", ")"), ("<", ">"), ("&lt;", "&gt;")] {
        let opens = middle.matches(open).count();
        if opens <= middle.matches(close).count() {
            continue;
        }
        for _ in 0..opens.min(tail.matches(close).count()) {
            let end = tail.find(close).map(|i| i + close.len()).unwrap_or(0);
            middle.push_str(&tail[..end]);
            tail = tail[end..].to_string();
        }
    }
    let http = url_re(r"(?i)^((https?://|www\.)(([\w%-]+\.)+)?([a-z]{2,63}|[\d.]+|\[[0-9a-f:.]+\])|([\w%-]+\.)+([a-z]{2,63}))(:[\d]{1,5})?(?:[/?#]\S*)?$");
    let email = url_re(r"^\S+@\w[\w.-]*\.\w+$");
    let linked = if http.is_match(&middle) {
        let href = if middle.starts_with("https://") || middle.starts_with("http://") { middle.clone() } else { format!("https://{middle}") };
        format!("<a href=\"{href}\"{attrs}>{}</a>", trim(&middle))
    } else if middle.strip_prefix("mailto:").is_some_and(|m| email.is_match(m)) {
        format!("<a href=\"{middle}\">{}</a>", &middle[7..])
    } else if middle.contains('@') && !middle.starts_with("www.") && !middle.contains(':') && email.is_match(&middle) {
        format!("<a href=\"mailto:{middle}\">{middle}</a>")
    } else if extra_schemes.iter().any(|scheme| middle.starts_with(scheme.as_str()) && middle != *scheme) {
        format!("<a href=\"{middle}\"{attrs}>{middle}</a>")
    } else {
        middle
    };
    format!("{head}{linked}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String, String> {
        let mut env = Environment::new();
        register(&mut env);
        env.render_str(source, ()).map_err(|e| e.detail().unwrap_or_default().to_string())
    }

    #[test]
    fn center_and_sizes() {
        assert_eq!(render("[{{ 'ab' | center(5) }}][{{ 'abc' | center(6) }}][{{ 'x' | center(0) }}]").unwrap(), "[  ab ][ abc  ][x]");
        assert_eq!(render("{{ 1 | filesizeformat }}|{{ 999 | filesizeformat }}|{{ 1500 | filesizeformat }}|{{ 1536 | filesizeformat(true) }}").unwrap(), "1 Byte|999 Bytes|1.5 kB|1.5 KiB");
        assert_eq!(render("{{ '2000000' | filesizeformat }}|{{ 1e30 | filesizeformat }}").unwrap(), "2.0 MB|1000000.0 YB");
        assert!(render("{{ 'x' | filesizeformat }}").is_err());
    }

    #[test]
    fn escapes_and_tags() {
        assert_eq!(render(r#"{{ '<a href="x">&\'' | forceescape }}"#).unwrap(), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;");
        assert_eq!(render("{{ '<p>a  <!-- c -->\n<b>b</b> &amp; &#65;&lt;</p>' | striptags }}").unwrap(), "a b & A<");
    }

    #[test]
    fn truncate_like_jinja() {
        let long = "foo bar baz qux quux corge";
        assert_eq!(render(&format!("{{{{ '{long}' | truncate(9) }}}}")).unwrap(), "foo...");
        assert_eq!(render(&format!("{{{{ '{long}' | truncate(9, true) }}}}")).unwrap(), "foo ba...");
        assert_eq!(render(&format!("{{{{ '{long}' | truncate(24) }}}}")).unwrap(), long, "within the leeway");
        assert_eq!(render(&format!("{{{{ '{long}' | truncate(10, end='!', leeway=0) }}}}")).unwrap(), "foo bar!");
        assert_eq!(render("{{ 'abcdef' | truncate(2, leeway=0) }}").unwrap_err(), "expected length >= 3, got 2");
    }

    #[test]
    fn words_and_wrapping() {
        assert_eq!(render("{{ 'one, two-three  four_5' | wordcount }}").unwrap(), "4");
        assert_eq!(render("{{ 'aaa bbb ccc ddd' | wordwrap(7) }}").unwrap(), "aaa bbb\nccc ddd");
        assert_eq!(render("{{ 'abcdefghij' | wordwrap(4) }}").unwrap(), "abcd\nefgh\nij");
        assert_eq!(render("{{ 'abcdefghij x' | wordwrap(4, false) }}").unwrap(), "abcdefghij\nx");
        assert_eq!(render("{{ 'well-known words' | wordwrap(6, wrapstring='|') }}").unwrap(), "well-|known|words");
        assert_eq!(render("{{ 'well-known' | wordwrap(6, break_on_hyphens=false) }}").unwrap(), "well-k\nnown");
        assert_eq!(render("{{ 'a b\n\nc' | wordwrap(1) }}").unwrap(), "a\nb\n\nc");
    }

    #[test]
    fn urlize_like_jinja() {
        assert_eq!(
            render("{{ 'see www.example.com, (http://x.org/a_(b)) or me@ex.com <b>' | urlize }}").unwrap(),
            "see <a href=\"https://www.example.com\" rel=\"noopener\">www.example.com</a>, (<a href=\"http://x.org/a_(b)\" rel=\"noopener\">http://x.org/a_(b)</a>) or <a href=\"mailto:me@ex.com\">me@ex.com</a> &lt;b&gt;"
        );
        assert_eq!(
            render("{{ 'http://example.com/long/path' | urlize(10, true, target='_blank') }}").unwrap(),
            "<a href=\"http://example.com/long/path\" rel=\"nofollow noopener\" target=\"_blank\">http://exa...</a>"
        );
        assert_eq!(render("{{ 'ftp://x plain' | urlize(extra_schemes=['ftp://']) }}").unwrap(), "<a href=\"ftp://x\" rel=\"noopener\">ftp://x</a> plain");
    }

    #[test]
    fn xmlattr_like_jinja() {
        assert_eq!(render("<a{{ {'class': 'x<', 'id': 1, 'n': none} | xmlattr }}>").unwrap(), "<a class=\"x&lt;\" id=\"1\">");
        assert_eq!(render("{{ {'a': 'b'} | xmlattr(false) }}").unwrap(), "a=\"b\"");
        assert_eq!(render("{{ {'a b': 'c'} | xmlattr }}").unwrap_err(), "Invalid character in attribute name: 'a b'");
    }
}
