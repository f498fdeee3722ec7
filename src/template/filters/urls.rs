//! URL filters: `urlsplit` (Python's `urllib.parse.urlsplit` as a dict),
//! `urldecode` (`unquote_plus`) and Jinja2's `urlencode` (minijinja's own
//! quotes `~` and takes no list of pairs); the `uri`/`url`/`urn` tests read
//! URLs with the same splitter.

use super::fail;
use minijinja::value::{Value as Jinja, ValueKind};
use minijinja::{Environment, Error};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("urlsplit", urlsplit);
    env.add_filter("urldecode", |s: String| unquote_plus(&s));
    env.add_filter("urlencode", urlencode);
}

/// Jinja2's `urlencode`: a string (or any other single value) quoted with
/// `/` kept; a dict or a list of pairs as a query string (`+` for spaces).
fn urlencode(v: Jinja) -> Result<String, Error> {
    let pairs: Vec<(Jinja, Jinja)> = match v.kind() {
        _ if v.is_none() || v.is_undefined() => return Ok(String::new()),
        ValueKind::Map => v.try_iter()?.map(|k| v.get_item(&k).map(|x| (k, x))).collect::<Result<_, _>>()?,
        ValueKind::Seq | ValueKind::Iterable => {
            let mut pairs = Vec::new();
            for item in v.try_iter()? {
                let pair: Vec<Jinja> = if item.kind() == ValueKind::Seq { item.try_iter()?.collect() } else { Vec::new() };
                let [key, value] = <[Jinja; 2]>::try_from(pair).map_err(|_| fail("urlencode: a list must hold (key, value) pairs"))?;
                pairs.push((key, value));
            }
            pairs
        }
        _ => return Ok(quote(&super::py_str(&v), "/")),
    };
    let field = |x: &Jinja| quote(&super::py_str(x), "").replace("%20", "+");
    Ok(pairs.iter().map(|(k, x)| format!("{}={}", field(k), field(x))).collect::<Vec<_>>().join("&"))
}

/// Python's `urllib.parse.quote`: letters, digits, `_.-~` and `safe` kept.
fn quote(text: &str, safe: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The five parts of `urllib.parse.urlsplit`.
#[derive(Debug, PartialEq)]
pub struct Split<'a> {
    pub scheme: String,
    pub netloc: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub fragment: &'a str,
}

/// Python's `urlsplit` (3.11): a scheme only when it is made of scheme
/// characters and starts with a letter; `//` starts a network location.
pub fn split(url: &str) -> Split<'_> {
    let url = url.trim_start_matches(|c: char| c <= ' ');
    let mut scheme = String::new();
    let mut rest = url;
    if let Some(i) = url.find(':') {
        let name = &url[..i];
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if valid {
            scheme = name.to_ascii_lowercase();
            rest = &url[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
        rest = &after[end..];
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Split { scheme, netloc, path, query, fragment }
}

/// `urlsplit(query='')`: every attribute of Python's result (in `dir()`
/// order), or the one named.
fn urlsplit(url: String, query: Option<String>) -> Result<Jinja, Error> {
    let s = split(&url);
    let (userinfo, hostinfo) = match s.netloc.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, s.netloc),
    };
    let username = userinfo.map(|u| u.split_once(':').map_or(u, |(name, _)| name));
    let password = userinfo.and_then(|u| u.split_once(':').map(|(_, pw)| pw));
    let (hostname, port) = match hostinfo.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
            (host, after.strip_prefix(':'))
        }
        None => match hostinfo.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostinfo, None),
        },
    };
    let port = match port.filter(|p| !p.is_empty()) {
        None => Jinja::from(()),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u32>() {
            Ok(n) if n <= 65535 => Jinja::from(n),
            _ => return Err(fail("Port out of range 0-65535")),
        },
        Some(p) => return Err(fail(format!("Port could not be cast to integer value as {}", super::py::repr(&serde_json::Value::String(p.into()))))),
    };
    let text_or_none = |v: Option<&str>| v.map_or(Jinja::from(()), Jinja::from);
    let fields = [
        ("fragment", Jinja::from(s.fragment)),
        ("hostname", if hostname.is_empty() { Jinja::from(()) } else { Jinja::from(hostname.to_lowercase()) }),
        ("netloc", Jinja::from(s.netloc)),
        ("password", text_or_none(password)),
        ("path", Jinja::from(s.path)),
        ("port", port),
        ("query", Jinja::from(s.query)),
        ("scheme", Jinja::from(s.scheme.as_str())),
        ("username", text_or_none(username)),
    ];
    match query.filter(|q| !q.is_empty()) {
        None => Ok(super::dict(fields.into_iter().map(|(k, v)| (Jinja::from(k), v)).collect())),
        Some(q) => fields.into_iter().find(|(name, _)| *name == q).map(|(_, v)| v).ok_or_else(|| fail(format!("urlsplit: unknown URL component: {q}"))),
    }
}

/// Python's `unquote_plus`: `+` is a space, `%XX` a byte; bytes that are
/// not UTF-8 become U+FFFD.
pub fn unquote_plus(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |i: usize| bytes.get(i).and_then(|b| (*b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'+', ..) => out.push(b' '),
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            (b, ..) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_urllib() {
        let s = split("HTTP://u:p@Host:80/a/b?x=1#f");
        assert_eq!(s, Split { scheme: "http".into(), netloc: "u:p@Host:80", path: "/a/b", query: "x=1", fragment: "f" });
        assert_eq!(split("urn:isbn:0451").path, "isbn:0451");
        assert_eq!(split("/just/a/path").scheme, "");
        assert_eq!(split("1a:b").scheme, "", "a scheme starts with a letter");
        assert_eq!(split("file:///etc").netloc, "");
    }

    #[test]
    fn urlsplit_fields() {
        let all = urlsplit("http://user:pw@www.Ex.com:9000/dir/index.html?query=term#frag".into(), None).unwrap();
        assert_eq!(
            all.to_string(),
            "{'fragment': 'frag', 'hostname': 'www.ex.com', 'netloc': 'user:pw@www.Ex.com:9000', 'password': 'pw', 'path': '/dir/index.html', 'port': 9000, 'query': 'query=term', 'scheme': 'http', 'username': 'user'}"
        );
        assert!(urlsplit("http://x/y".into(), Some("port".into())).unwrap().is_none());
        assert_eq!(urlsplit("http://[::1]:8/".into(), Some("hostname".into())).unwrap().to_string(), "::1");
        assert_eq!(urlsplit("http://x/".into(), Some("nope".into())).unwrap_err().detail(), Some("urlsplit: unknown URL component: nope"));
        assert_eq!(urlsplit("http://x:99999/".into(), None).unwrap_err().detail(), Some("Port out of range 0-65535"));
    }

    #[test]
    fn urlencode_like_jinja() {
        let enc = |v: serde_json::Value| urlencode(super::super::from_json(&v)).unwrap();
        assert_eq!(enc(serde_json::json!("a b/c~é&")), "a%20b/c~%C3%A9%26");
        assert_eq!(enc(serde_json::json!({"foo": "bar", "baz": "b z/"})), "foo=bar&baz=b+z%2F");
        assert_eq!(enc(serde_json::json!([["k", 1], ["x", null]])), "k=1&x=None");
        assert_eq!(enc(serde_json::json!([])), "");
        assert_eq!(enc(serde_json::json!(42)), "42");
        assert!(urlencode(super::super::from_json(&serde_json::json!([1]))).is_err());
    }

    #[test]
    fn unquote_plus_decodes() {
        assert_eq!(unquote_plus("a%20b+c%2Fd"), "a b c/d");
        assert_eq!(unquote_plus("%C3%A9%zz%"), "é%zz%");
        assert_eq!(unquote_plus("%FF"), "\u{FFFD}");
    }
}
