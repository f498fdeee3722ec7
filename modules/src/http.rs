//! What the download modules (`get_url`, later `uri` and `unarchive`) share:
//! requests run by `curl` on the target, described in a curl config sent on
//! stdin, so that URLs, headers and credentials are never on a command line.
//! Also the small URL helpers Ansible's modules use (`mask_url`,
//! `url_filename`) and the parsing of curl's header dump.

use crate::args::value_to_string;
use crate::{Args, ModuleError};

/// urllib's redirect limit (HTTPRedirectHandler.max_redirections).
pub const MAX_REDIRECTS: u32 = 10;

/// The connection arguments every URL module takes (Ansible's `url_argument_spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// `url_username` and `url_password`: secrets, sent on stdin only.
    pub credentials: Option<(String, String)>,
    pub validate_certs: bool,
    /// Seconds to connect and the longest a transfer may stall.
    pub timeout: u64,
    pub http_agent: String,
    pub use_proxy: bool,
    pub follow_redirects: bool,
    /// Ask for gzip and decompress it (`decompress`).
    pub decompress: bool,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    /// Credentials from the login's ~/.netrc when none are given (`use_netrc`).
    pub use_netrc: bool,
}

impl Connection {
    pub fn from_args(args: &Args, default_timeout: u64) -> Result<Self, ModuleError> {
        let url = args.required_str("url")?;
        let timeout = match crate::listarg::int(args, "timeout")? {
            None => default_timeout,
            Some(t) if t > 0 => t as u64,
            Some(t) => return Err(ModuleError::BadArgs(format!("timeout must be a positive number of seconds, not {t}"))),
        };
        let credentials = args.str("url_username").map(|user| (user, args.str("url_password").unwrap_or_default()));
        Ok(Connection {
            url,
            headers: headers(args)?,
            credentials,
            validate_certs: args.bool("validate_certs", true)?,
            timeout,
            http_agent: args.str("http_agent").unwrap_or_else(|| "ansible-httpget".into()),
            use_proxy: args.bool("use_proxy", true)?,
            follow_redirects: !matches!(args.str("follow_redirects").as_deref(), Some("none" | "no" | "false" | "False")),
            decompress: args.bool("decompress", true)?,
            client_cert: args.str("client_cert"),
            client_key: args.str("client_key"),
            use_netrc: args.bool("use_netrc", true)?,
        })
    }
}

/// Arguments of Ansible's URL modules that curl on the host cannot honour:
/// refused clearly rather than ignored.
pub fn refuse_unsupported(args: &Args) -> Result<(), ModuleError> {
    if args.bool("use_gssapi", false)? {
        return Err(ModuleError::BadArgs("use_gssapi (Kerberos) is not supported by stockman's native URL modules; use a token in `headers` instead".into()));
    }
    for name in ["ciphers", "unredirected_headers"] {
        let given = match args.get(name) {
            Some(serde_json::Value::Array(items)) => !items.is_empty(),
            Some(serde_json::Value::String(s)) => !s.is_empty(),
            Some(_) => true,
            None => false,
        };
        if given {
            return Err(ModuleError::BadArgs(format!("argument `{name}` is not supported by stockman's native URL modules (curl on the host); remove it")));
        }
    }
    Ok(())
}

fn headers(args: &Args) -> Result<Vec<(String, String)>, ModuleError> {
    match args.get("headers") {
        None => Ok(Vec::new()),
        Some(serde_json::Value::Object(map)) => Ok(map.iter().map(|(k, v)| (k.clone(), value_to_string(v))).collect()),
        Some(other) => Err(ModuleError::BadArgs(format!("argument 'headers' is of type {} and we were unable to convert to dict", crate::args::value_to_string(other)))),
    }
}

/// One request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method<'a> {
    Get,
    Head,
    Other(&'a str),
}

/// A value in a curl config file: double-quoted, with `\` and `"` escaped and
/// control characters written as curl reads them back.
pub fn config_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The curl config for a request to `url` (stdin of `curl --config -`).
pub fn curl_config(conn: &Connection, url: &str, method: Method<'_>) -> String {
    let mut lines = vec![
        format!("url = {}", config_value(url)),
        format!("user-agent = {}", config_value(&conn.http_agent)),
        // urllib speaks HTTP/1.1 only; the reason phrase of its status line is the message.
        "http1.1".to_string(),
        "silent".to_string(),
        "show-error".to_string(),
        format!("connect-timeout = {}", conn.timeout),
        // Ansible's timeout is a socket timeout: a transfer stalled that long fails.
        "speed-limit = 1".to_string(),
        format!("speed-time = {}", conn.timeout),
    ];
    match method {
        Method::Get => {}
        Method::Head => lines.push("head".into()),
        Method::Other(m) => lines.push(format!("request = {}", config_value(m))),
    }
    if conn.follow_redirects {
        lines.push("location".into());
        lines.push(format!("max-redirs = {MAX_REDIRECTS}"));
    }
    if conn.decompress {
        lines.push("compressed".into());
    }
    if !conn.validate_certs {
        lines.push("insecure".into());
    }
    if !conn.use_proxy {
        lines.push("noproxy = \"*\"".into());
    }
    if let Some((user, password)) = &conn.credentials {
        lines.push(format!("user = {}", config_value(&format!("{user}:{password}"))));
    }
    if conn.use_netrc && conn.credentials.is_none() {
        lines.push("netrc-optional".into());
    }
    if let Some(cert) = &conn.client_cert {
        lines.push(format!("cert = {}", config_value(cert)));
    }
    if let Some(key) = &conn.client_key {
        lines.push(format!("key = {}", config_value(key)));
    }
    for (name, value) in &conn.headers {
        lines.push(format!("header = {}", config_value(&format!("{name}: {value}"))));
    }
    lines.join("\n") + "\n"
}

/// The URL with its password replaced by `********` (Ansible's `mask_url`).
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:********@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The last component of the URL's path, `index.html` when empty (Ansible's `url_filename`).
pub fn url_filename(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = match rest.find('/') {
        Some(i) => &rest[i..],
        None => "",
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => "index.html".to_string(),
    }
}

/// The last response of a header dump (`curl -D`): its status, reason phrase
/// and headers (names lower-cased).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: i64,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Parses the dump of every response of the request (redirects included); the last one counts.
    pub fn parse_dump(dump: &str) -> Option<Response> {
        let block = dump
            .split("\r\n\r\n")
            .flat_map(|b| b.split("\n\n"))
            .filter(|b| b.trim_start().starts_with("HTTP/"))
            .last()?;
        let mut lines = block.lines().map(|l| l.trim_end_matches('\r'));
        let status_line = lines.next()?.trim_start();
        let mut parts = status_line.splitn(3, ' ');
        let _version = parts.next()?;
        let status = parts.next()?.parse().ok()?;
        let reason = parts.next().unwrap_or_default().to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(Response { status, reason, headers })
    }

    /// curl's dump for a `file:` URL: pseudo headers, no status line. A file
    /// read is a 200 for Ansible too (urllib's FileHandler).
    pub fn parse_file_dump(dump: &str) -> Response {
        let headers = dump
            .lines()
            .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Response { status: 200, reason: "OK".into(), headers }
    }

    /// urllib's message for the response: `OK (N bytes)` on success,
    /// `HTTP Error N: REASON` otherwise.
    pub fn message(&self) -> String {
        if (200..300).contains(&self.status) {
            format!("OK ({} bytes)", self.header("content-length").unwrap_or("unknown"))
        } else {
            format!("HTTP Error {}: {}", self.status, self.reason)
        }
    }
}

/// The `filename` parameter of a Content-Disposition header, as a base name
/// (no directory traversal), as Ansible's `extract_filename_from_headers`.
pub fn disposition_filename(value: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|param| {
        let (name, v) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("filename") {
            return None;
        }
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(v);
        let base = v.rsplit('/').next().unwrap_or(v);
        (!base.is_empty()).then(|| base.to_string())
    })
}

/// Ansible's no_log masking of a result: every occurrence of the secret
/// (`url_password`) in its strings becomes `********`, wherever it shows up
/// (a URL path, a message).
pub fn mask_secret(mut result: crate::ModuleResult, secret: &str) -> crate::ModuleResult {
    fn mask(value: &mut serde_json::Value, secret: &str) {
        match value {
            serde_json::Value::String(s) if s.contains(secret) => *s = s.replace(secret, "********"),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| mask(v, secret)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| mask(v, secret)),
            _ => {}
        }
    }
    if secret.is_empty() {
        return result;
    }
    result.data.values_mut().for_each(|v| mask(v, secret));
    result.msg = result.msg.map(|m| m.replace(secret, "********"));
    result
}

/// What curl's exit status means, for a failure message.
pub fn curl_failure(rc: i32, stderr: &str) -> String {
    let detail = stderr.trim().trim_start_matches("curl: ");
    match rc {
        28 => format!("Connection failure: timed out ({detail})"),
        // CURLE_PARTIAL_FILE: fewer bytes than Content-Length (Ansible's wording starts the same).
        18 => format!("Incomplete read: {detail}"),
        60 | 35 | 51 | 58 | 59 | 77 | 83 => format!("Request failed: Failed to validate the SSL certificate ({detail})"),
        _ => format!("Request failed: {detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_cannot_start_another_option() {
        assert_eq!(config_value("a\"b\\c\nurl = \"x\""), r#""a\"b\\c\nurl = \"x\"""#);
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(mask_url("https://u:p%40ss@h/x?y=1"), "https://u:********@h/x?y=1");
        assert_eq!(mask_url("https://u@h/x"), "https://u@h/x");
        assert_eq!(mask_url("https://h/a@b"), "https://h/a@b");
    }

    #[test]
    fn a_cut_transfer_is_an_incomplete_read() {
        assert!(curl_failure(18, "curl: (18) end of response with 5 bytes missing").starts_with("Incomplete read: (18)"));
    }

    #[test]
    fn a_password_is_masked_wherever_it_shows() {
        let r = crate::ModuleResult::failed("no pw here: pw").with("url", "https://h/basic-auth/user/pw");
        let r = mask_secret(r, "pw");
        assert_eq!(r.data["url"], "https://h/basic-auth/user/********");
        assert_eq!(r.msg.as_deref(), Some("no ******** here: ********"));
    }

    #[test]
    fn filenames_come_from_the_path() {
        assert_eq!(url_filename("http://h/a/b.tar.gz?x=1"), "b.tar.gz");
        assert_eq!(url_filename("http://h/"), "index.html");
        assert_eq!(url_filename("http://h"), "index.html");
        assert_eq!(disposition_filename("attachment; filename=\"../x/f.json\""), Some("f.json".into()));
        assert_eq!(disposition_filename("inline"), None);
    }

    #[test]
    fn the_last_response_of_a_redirect_counts() {
        let dump = "HTTP/1.1 302 FOUND\r\nLocation: /get\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let r = Response::parse_dump(dump).unwrap();
        assert_eq!((r.status, r.reason.as_str(), r.header("content-length")), (200, "OK", Some("5")));
        assert_eq!(r.message(), "OK (5 bytes)");
        let file = Response::parse_file_dump("Content-Length: 7\r\nAccept-ranges: bytes\r\n");
        assert_eq!(file.message(), "OK (7 bytes)");
    }
}
