//! `uri`: one HTTP request made on the host with curl, as Ansible's module
//! does with Python. The request (URL, method, headers, credentials and the
//! body) goes to curl as a config file on stdin ([`crate::http`]), never on a
//! command line; one command checks `creates`/`removes`, makes the request
//! and prints the response (status, final URL, headers, body base64-encoded).
//!
//! Not yet native: `dest` and `src` (writing the response to a file, sending
//! a file) and `body_format: form-multipart` are refused with a clear message.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::args::value_to_string;
use crate::http::{self, Connection, Method, Response};
use crate::remote_file::Fields;
use crate::shell::Cmd;
use crate::spec::{alias, p, req, Param};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};

pub const PARAMS: &[Param] = &[
    req("url"),
    p("method"),
    p("body"),
    p("body_format"),
    p("headers"),
    p("status_code"),
    p("return_content"),
    p("dest"),
    p("creates"),
    p("removes"),
    alias("url_username", &["user", "username"], false),
    alias("url_password", &["password"], false).no_log(),
    p("force_basic_auth"),
    p("follow_redirects"),
    p("validate_certs"),
    p("timeout"),
    p("src"),
    p("remote_src"),
    p("force"),
    p("http_agent"),
    p("use_proxy"),
    p("client_cert"),
    p("client_key"),
    p("ca_path"),
    p("use_gssapi"),
    p("unredirected_headers"),
    p("decompress"),
    p("ciphers"),
    p("use_netrc"),
    p("unix_socket"),
    p("mode"),
    p("owner"),
    p("group"),
];

/// The largest response body read back (curl's `--max-filesize`): beyond it the task fails.
pub const MAX_BODY: u64 = 64 * 1024 * 1024;

/// `$1` creates, `$2` removes (either may be empty), `$3` the body limit.
/// Stdin: the curl config. Prints NUL-terminated fields: `creates`,
/// `removes`, `nocurl`, or `done` then curl's exit status, its write-out
/// (status code, final URL), stderr, the header dump and the body in base64.
const REQUEST_SCRIPT: &str = r#"creates=$1 removes=$2 max=$3
if [ -n "$creates" ] && [ -e "$creates" ]; then printf 'creates\0'; exit 0; fi
if [ -n "$removes" ] && [ ! -e "$removes" ]; then printf 'removes\0'; exit 0; fi
if ! command -v curl >/dev/null 2>&1; then printf 'nocurl\0'; exit 0; fi
d=$(mktemp -d) || exit 1
trap 'rm -rf -- "$d"' EXIT
: > "$d/body"
out=$(curl --config - -o "$d/body" -D "$d/hdr" --max-filesize "$max" -w '%{http_code}\n%{url_effective}' 2>"$d/err"); rc=$?
printf 'done\0%s\0%s\0%s\0' "$rc" "$out" "$(cat "$d/err")"
cat "$d/hdr" 2>/dev/null; printf '\0'
base64 < "$d/body" | tr -d '\n'; printf '\0'"#;

/// `body_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Raw,
    Json,
    Form,
}

/// The validated request.
#[derive(Debug, Clone)]
pub struct Request {
    pub conn: Connection,
    pub method: String,
    pub body: Option<String>,
    pub status_code: Vec<i64>,
    pub return_content: bool,
    pub creates: String,
    pub removes: String,
    /// `unix_socket` and `ca_path`: curl's `unix-socket` and `cacert`.
    pub unix_socket: Option<String>,
    pub ca_path: Option<String>,
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    http::refuse_unsupported(args)?;
    for name in ["dest", "src"] {
        if args.get(name).is_some() {
            return Err(ModuleError::BadArgs(format!("uri's `{name}` is not native in stockman yet; use get_url to download to a file")));
        }
    }
    let mut conn = Connection::from_args(args, 30)?;
    let method = args.str("method").unwrap_or_else(|| "GET".into()).to_uppercase();
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(ModuleError::BadArgs("Parameter 'method' needs to be a single word in uppercase, like GET or POST.".into()));
    }
    let format = match args.str("body_format").unwrap_or_else(|| "raw".into()).to_lowercase().as_str() {
        "raw" => BodyFormat::Raw,
        "json" => BodyFormat::Json,
        "form-urlencoded" => BodyFormat::Form,
        "form-multipart" => return Err(ModuleError::BadArgs("body_format form-multipart is not native in stockman yet".into())),
        other => return Err(ModuleError::BadArgs(format!("value of body_format must be one of: form-urlencoded, json, raw, form-multipart, got: {other}"))),
    };
    let body = args.get("body").filter(|v| !v.is_null()).map(|v| encode_body(v, format)).transpose()?;
    if let Some(content_type) = default_content_type(format) {
        if !conn.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
            conn.headers.push(("Content-Type".into(), content_type.into()));
        }
    }
    let status_code = match crate::listarg::list(args, "status_code")? {
        codes if codes.is_empty() => vec![200],
        codes => codes
            .iter()
            .map(|c| c.parse().map_err(|_| ModuleError::BadArgs(format!("status_code: `{c}` is not a number"))))
            .collect::<Result<_, _>>()?,
    };
    Ok(Request {
        conn,
        method,
        body,
        status_code,
        return_content: args.bool("return_content", false)?,
        creates: args.str("creates").unwrap_or_default(),
        removes: args.str("removes").unwrap_or_default(),
        unix_socket: args.str("unix_socket"),
        ca_path: args.str("ca_path"),
    })
}

fn default_content_type(format: BodyFormat) -> Option<&'static str> {
    match format {
        BodyFormat::Raw => None,
        BodyFormat::Json => Some("application/json"),
        BodyFormat::Form => Some("application/x-www-form-urlencoded"),
    }
}

/// The body as sent: a string as is; JSON dumped as Python's `json.dumps`
/// separators; a form dict or list of pairs URL-encoded.
fn encode_body(body: &Value, format: BodyFormat) -> Result<String, ModuleError> {
    match (body, format) {
        (Value::String(s), _) => Ok(s.clone()),
        (v, BodyFormat::Json) => Ok(python_json(v)),
        (Value::Object(map), BodyFormat::Form) => Ok(form_encode(map.iter().map(|(k, v)| (k.clone(), value_to_string(v))))),
        (Value::Array(items), BodyFormat::Form) => {
            let pairs = items.iter().map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => Ok((value_to_string(&pair[0]), value_to_string(&pair[1]))),
                _ => Err(ModuleError::BadArgs("failed to parse body as form_urlencoded: expected pairs".into())),
            });
            Ok(form_encode(pairs.collect::<Result<Vec<_>, _>>()?))
        }
        (v, _) => Ok(value_to_string(v)),
    }
}

/// `json.dumps` output: `", "` and `": "` separators, non-ASCII escaped.
fn python_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let items: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", python_json(&Value::String(k.clone())), python_json(v))).collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(python_json).collect::<Vec<_>>().join(", ")),
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in serde_json::to_string(s).unwrap_or_default().trim_matches('"').chars() {
                if c.is_ascii() {
                    out.push(c);
                } else {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
            }
            out.push('"');
            out
        }
        other => other.to_string(),
    }
}

/// `urllib.parse.urlencode`: `quote_plus` on names and values.
fn form_encode(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    fn quote_plus(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => (b as char).to_string(),
                b' ' => "+".to_string(),
                b => format!("%{b:02X}"),
            })
            .collect()
    }
    pairs.into_iter().map(|(k, v)| format!("{}={}", quote_plus(&k), quote_plus(&v))).collect::<Vec<_>>().join("&")
}

/// The curl config: the connection, the method, and the body (`data-raw`:
/// a leading `@` is data, never a file to read).
pub fn config(req: &Request) -> String {
    let method = match (req.method.as_str(), &req.body) {
        ("HEAD", _) => Method::Head,
        ("GET", None) => Method::Get,
        (m, _) => Method::Other(m),
    };
    let mut config = http::curl_config(&req.conn, &req.conn.url, method);
    for (option, value) in [("unix-socket", &req.unix_socket), ("cacert", &req.ca_path)] {
        if let Some(value) = value {
            config.push_str(&format!("{option} = {}\n", http::config_value(value)));
        }
    }
    if let Some(body) = &req.body {
        config.push_str(&format!("data-raw = {}\n", http::config_value(body)));
    }
    config
}

pub fn request_cmd(req: &Request) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(REQUEST_SCRIPT).arg("sh").arg(&req.creates).arg(&req.removes).arg(MAX_BODY.to_string())
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    if mode.check {
        // Ansible's uri does not support check mode: the task is skipped.
        let mut r = ModuleResult::ok();
        r.skipped = true;
        r.msg = Some("remote module (uri) does not support check mode".into());
        return Ok(r);
    }
    let started = std::time::Instant::now();
    let out = target.exec(request_cmd(&req).as_str(), Some(config(&req).as_bytes())).await?;
    let result = outcome(&req, &out.stdout, started.elapsed().as_secs()).ok_or_else(|| {
        ModuleError::BadArgs(format!("uri: unexpected output from the host: {}", out.stderr_str().trim()))
    })?;
    Ok(match req.conn.credentials.as_ref().map(|(_, pw)| pw.as_str()) {
        Some(secret) => http::mask_secret(result, secret),
        None => result,
    })
}

/// The result of the request command's output.
fn outcome(req: &Request, stdout: &[u8], elapsed: u64) -> Option<ModuleResult> {
    let mut fields = Fields::new(stdout);
    let skipped = |msg: String| Some(ModuleResult::ok().with("stdout", msg));
    match fields.next_field()?.as_str() {
        "creates" => return skipped(format!("skipped, since '{}' exists", req.creates)),
        "removes" => return skipped(format!("skipped, since '{}' does not exist", req.removes)),
        "nocurl" => return Some(ModuleResult::failed("uri needs curl on the host (stockman runs it natively, without Python); install curl")),
        "done" => {}
        _ => return None,
    }
    let rc: i32 = fields.next_field()?.parse().ok()?;
    let write_out = fields.next_field()?;
    let curl_error = fields.next_field()?;
    let dump = fields.next_field()?;
    let body = base64::engine::general_purpose::STANDARD.decode(fields.next_field()?.trim()).ok()?;
    let final_url = write_out.split_once('\n').map(|(_, u)| u.to_string()).unwrap_or_default();
    let masked = http::mask_url(&req.conn.url);
    // A body cut short after the headers: Ansible's http.client error while reading it.
    if rc == 18 && Response::parse_dump(&dump).is_some() {
        return Some(ModuleResult::failed(format!("HTTP Error while fetching {masked}: {}", curl_error.trim().trim_start_matches("curl: "))));
    }
    let mut r = ModuleResult::ok().with("redirected", http::mask_url(&final_url) != masked).with("url", http::mask_url(&final_url));
    let (status, msg) = match Response::parse_dump(&dump).filter(|_| rc == 0) {
        Some(response) => {
            r = with_headers(r, &response, &masked);
            (response.status, response.message())
        }
        None => {
            r = r.with("url", masked.clone()).with("redirected", false);
            (-1, http::curl_failure(rc, &curl_error))
        }
    };
    r = r.with("status", status).with("elapsed", elapsed);
    // urllib raises on any status outside 2xx: Ansible then reports no cookies.
    if (200..300).contains(&status) {
        let (jar, jar_string) = (cookies(&r), cookies_string(&r));
        r = r.with("cookies", jar).with("cookies_string", jar_string);
    }
    let content_type = r.data.get("content_type").map(value_to_string).unwrap_or_default();
    let maybe_json = is_json(&content_type);
    let text = String::from_utf8_lossy(&body).into_owned();
    if maybe_json {
        if let Ok(js) = serde_json::from_str::<Value>(&text) {
            r = r.with("json", js);
        }
    }
    if req.return_content {
        r = r.with("content", text);
    }
    if !req.status_code.contains(&status) {
        let wanted = format!("[{}]", req.status_code.iter().map(i64::to_string).collect::<Vec<_>>().join(", "));
        r.failed = true;
        r.msg = Some(format!("Status code was {status} and not {wanted}: {msg}"));
    } else {
        r.msg = Some(msg);
    }
    Some(r)
}

/// Response headers as keys, lower-cased with `-` as `_` (as Ansible);
/// repeated headers joined with `, `; `location` made absolute.
fn with_headers(mut r: ModuleResult, response: &Response, url: &str) -> ModuleResult {
    for (name, value) in &response.headers {
        let key = name.replace('-', "_");
        let joined = match r.data.get(&key) {
            Some(Value::String(prev)) if name != "set-cookie" || !prev.is_empty() => format!("{prev}, {value}"),
            _ => value.clone(),
        };
        r = r.with(&key, joined);
    }
    if let Some(Value::String(location)) = r.data.get("location").cloned() {
        r = r.with("location", absolute(url, &location));
    }
    r
}

fn absolute(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let Some((scheme, rest)) = base.split_once("://") else { return location.to_string() };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if location.starts_with('/') {
        format!("{scheme}://{host}{location}")
    } else {
        let dir = base.rsplit_once('/').map_or(base, |(d, _)| d);
        format!("{dir}/{location}")
    }
}

/// The cookies the response set, by name.
fn cookies(r: &ModuleResult) -> Value {
    let mut map = Map::new();
    if let Some(Value::String(all)) = r.data.get("set_cookie") {
        for cookie in all.split(", ") {
            if let Some((name, rest)) = cookie.split_once('=') {
                map.insert(name.trim().to_string(), Value::from(rest.split(';').next().unwrap_or_default().to_string()));
            }
        }
    }
    Value::Object(map)
}

fn cookies_string(r: &ModuleResult) -> String {
    match cookies(r) {
        Value::Object(map) => map.iter().map(|(k, v)| format!("{k}={}", value_to_string(v))).collect::<Vec<_>>().join("; "),
        _ => String::new(),
    }
}

/// Ansible's JSON candidates: a `json` or `javascript` subtype, or a `+json` suffix.
fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let sub = mime.split_once('/').map_or("", |(_, s)| s);
    let sub = sub.rsplit_once('+').map_or(sub, |(_, suffix)| suffix);
    matches!(sub, "json" | "javascript")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_encode_as_ansible() {
        let v: Value = serde_json::json!({"a": "é", "b": [1, true]});
        assert_eq!(encode_body(&v, BodyFormat::Json).unwrap(), r#"{"a": "\u00e9", "b": [1, true]}"#);
        let form: Value = serde_json::json!({"name": "a b&c", "x": "1"});
        assert_eq!(encode_body(&form, BodyFormat::Form).unwrap(), "name=a+b%26c&x=1");
    }

    #[test]
    fn the_command_line_holds_no_url_or_body() {
        let serde_json::Value::Object(map) = serde_json::json!({"url": "http://h/x", "body": "SECRET", "method": "POST", "creates": "/t/$(id)"}) else { unreachable!() };
        let args = Args(map);
        let r = request(&args).unwrap();
        let line = request_cmd(&r).into_string();
        assert!(!line.contains("SECRET") && !line.contains("://"), "{line}");
        assert!(line.contains("'/t/$(id)'"), "{line}");
        assert!(config(&r).contains("data-raw = \"SECRET\""));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/html"));
    }
}
