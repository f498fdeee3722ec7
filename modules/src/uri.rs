//! `uri`: one HTTP request made on the host with curl, as Ansible's module
//! does with Python. The request (URL, method, headers, credentials and the
//! body) goes to curl as a config file on stdin ([`crate::http`]), never on a
//! command line; one command checks `creates`/`removes`, makes the request
//! and prints the response (status, final URL, headers, body base64-encoded).
//!
//! `dest` gets the body in a temp file beside it, renamed onto it only when
//! the bytes differ (atomic, as get_url); `src` sends a file as the body: a
//! controller file is staged on the host first (as Ansible's action plugin
//! transfers it), a `remote_src` one is read there. Not yet native:
//! `body_format: form-multipart`, refused with a clear message.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::args::value_to_string;
use crate::http::{self, Connection, Method, Response};
use crate::remote_file::{self, Fields, FileKind, Follow, WantedAttrs};
use crate::shell::Cmd;
use crate::spec::{alias, p, req, Param, Rules};
use crate::upload::{self, Content, LocalFile};
use crate::{Args, Controller, ModuleError, ModuleResult, RunMode, Target};

pub const PARAMS: &[Param] = &[
    req("url").str(),
    p("method").str().default("GET"),
    p("body"),
    p("body_format").choices(&["form-urlencoded", "json", "raw", "form-multipart"]).default("raw"),
    p("headers").dict(),
    p("status_code").list(),
    p("return_content").bool(),
    p("dest").path(),
    p("creates").path(),
    p("removes").path(),
    alias("url_username", &["user"], false).str(),
    alias("url_password", &["password"], false).str().no_log(),
    p("force_basic_auth").bool(),
    p("follow_redirects").choices(&["all", "no", "none", "safe", "urllib2", "yes"]).default("safe"),
    p("validate_certs").bool(),
    p("timeout").int(),
    p("src").path(),
    p("remote_src").bool(),
    p("force").bool(),
    p("http_agent").str(),
    p("use_proxy").bool(),
    p("client_cert").path(),
    p("client_key").path(),
    p("ca_path").path(),
    p("use_gssapi").bool(),
    p("unredirected_headers").list(),
    p("decompress").bool(),
    p("ciphers").list(),
    p("use_netrc").bool(),
    p("unix_socket").path(),
    p("mode"),
    p("owner").str(),
    p("group").str(),
];

/// As Ansible's uri: a body is sent from the task or from a file, not both.
pub const RULES: Rules = Rules { mutually_exclusive: &[&["body", "src"]], ..Rules::NONE };

/// The largest response body read back (curl's `--max-filesize`): beyond it the task fails.
pub const MAX_BODY: u64 = 64 * 1024 * 1024;

/// `$1` creates, `$2` removes (either may be empty), `$3` the body limit,
/// `$4` dest (may be empty), `$5` force (0/1: no If-Modified-Since from
/// dest), `$6` whether the body is wanted back with a dest (return_content).
/// Stdin: the curl config. Prints NUL-terminated fields: `creates`,
/// `removes`, `nocurl`, or `done` then curl's exit status, its write-out
/// (status code, final URL, content type), stderr, the header dump, the temp
/// file beside dest and its sha1 (empty without dest), and the body in
/// base64 (without dest, or when wanted back or JSON; at most `$3` bytes).
const REQUEST_SCRIPT: &str = r#"creates=$1 removes=$2 max=$3 dest=$4 force=$5 back=$6
if [ -n "$creates" ] && [ -e "$creates" ]; then printf 'creates\0'; exit 0; fi
if [ -n "$removes" ] && [ ! -e "$removes" ]; then printf 'removes\0'; exit 0; fi
if ! command -v curl >/dev/null 2>&1; then printf 'nocurl\0'; exit 0; fi
d=$(mktemp -d) || exit 1
trap 'rm -rf -- "$d"' EXIT
body=$d/body tmp=
set -- --config - -D "$d/hdr" -w '%{http_code}\n%{url_effective}\n%{content_type}'
if [ -n "$dest" ]; then
  if [ -d "$dest" ]; then dir=$dest; else dir=$(dirname -- "$dest"); fi
  if [ -d "$dir" ]; then tmp=$(mktemp -- "$dir/.stockman.XXXXXXXX") || exit 1; body=$tmp; fi
  if [ -f "$dest" ] && [ "$force" = 0 ]; then set -- "$@" -z "$dest"; fi
else
  set -- "$@" --max-filesize "$max"
fi
: > "$body"
out=$(curl "$@" -o "$body" 2>"$d/err"); rc=$?
if [ "$rc" != 0 ] && [ -n "$tmp" ]; then rm -f -- "$tmp"; tmp=; fi
printf 'done\0%s\0%s\0%s\0' "$rc" "$out" "$(cat "$d/err")"
cat "$d/hdr" 2>/dev/null; printf '\0%s\0' "$tmp"
if [ -n "$tmp" ]; then s=$(sha1sum < "$tmp"); printf '%s' "${s%% *}"; fi; printf '\0'
case ${out##*
} in *json*|*javascript*) back=1 ;; esac
if [ -z "$dest" ] || { [ "$back" = 1 ] && [ "$(wc -c < "$body")" -le "$max" ]; }; then base64 < "$body" | tr -d '\n'; fi
printf '\0'"#;

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
    /// Where the body is written, with the file's wanted attributes.
    pub dest: Option<String>,
    pub force: bool,
    pub attrs: WantedAttrs,
    pub src: Option<Src>,
}

/// `src`: the file sent as the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Src {
    /// On the controller (looked up in files/), staged on the host first.
    Controller(String),
    /// Already on the host (`remote_src`), or staged there.
    Remote(String),
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    http::refuse_unsupported(args)?;
    // `body` with `src` is refused by the spec's RULES.
    let src = match args.str("src") {
        Some(src) if args.bool("remote_src", false)? => Some(Src::Remote(src)),
        Some(src) => Some(Src::Controller(src)),
        None => None,
    };
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
        dest: args.str("dest").filter(|d| !d.is_empty()),
        force: args.bool("force", false)?,
        attrs: WantedAttrs::from_args(args)?,
        src,
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
        (v, BodyFormat::Json) => Ok(crate::pyjson::dumps(v, crate::pyjson::JsonStyle::default())),
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
    let has_body = req.body.is_some() || req.src.is_some();
    let method = match (req.method.as_str(), has_body) {
        ("HEAD", _) => Method::Head,
        ("GET", false) => Method::Get,
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
    if let Some(Src::Remote(path)) = &req.src {
        config.push_str(&format!("data-binary = {}\n", http::config_value(&format!("@{path}"))));
    }
    config
}

pub fn request_cmd(req: &Request) -> Cmd {
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(REQUEST_SCRIPT)
        .arg("sh")
        .arg(&req.creates)
        .arg(&req.removes)
        .arg(MAX_BODY.to_string())
        .arg(req.dest.as_deref().unwrap_or(""))
        .arg(if req.force { "1" } else { "0" })
        .arg(if req.return_content { "1" } else { "0" })
}

pub async fn run<T: Target>(args: &Args, target: &T, controller: &dyn Controller, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let mut req = request(args)?;
    if mode.check {
        // Ansible's uri does not support check mode: the task is skipped.
        let mut r = ModuleResult::ok();
        r.skipped = true;
        r.msg = Some("remote module (uri) does not support check mode".into());
        return Ok(r);
    }
    let staged = match &req.src {
        Some(Src::Controller(src)) => match stage_src(target, controller, src).await? {
            Ok(tmp) => Some(tmp),
            Err(msg) => return Ok(ModuleResult::failed(msg)),
        },
        _ => None,
    };
    if let Some(tmp) = &staged {
        req.src = Some(Src::Remote(tmp.clone()));
    }
    let result = send(&req, target).await;
    if let Some(tmp) = &staged {
        target.exec(Cmd::new("rm").flag("-f").flag("--").arg(tmp).as_str(), None).await?;
    }
    let result = result?;
    Ok(match req.conn.credentials.as_ref().map(|(_, pw)| pw.as_str()) {
        Some(secret) => http::mask_secret(result, secret),
        None => result,
    })
}

/// The request made, and the body put in place when there is a dest.
async fn send<T: Target>(req: &Request, target: &T) -> Result<ModuleResult, ModuleError> {
    let started = std::time::Instant::now();
    let out = target.exec(request_cmd(req).as_str(), Some(config(req).as_bytes())).await?;
    let (result, written) = outcome(req, &out.stdout, started.elapsed().as_secs()).ok_or_else(|| {
        ModuleError::BadArgs(format!("uri: unexpected output from the host: {}", out.stderr_str().trim()))
    })?;
    match written {
        Some(written) if written.keep => write_dest(req, target, result, written).await,
        Some(written) => {
            target.exec(Cmd::new("rm").flag("-f").flag("--").arg(&written.tmp).as_str(), None).await?;
            Ok(result.with("path", req.dest.clone().unwrap_or_default()))
        }
        None => Ok(result),
    }
}

/// A controller `src` copied to a temp file on the host, verified there.
async fn stage_src<T: Target>(target: &T, controller: &dyn Controller, src: &str) -> Result<Result<String, String>, ModuleError> {
    let content = match controller.locate_src(src) {
        Some(Ok(path)) => match LocalFile::hash(&path) {
            Ok(file) => Content::Local(file),
            Err(msg) => return Ok(Err(msg)),
        },
        Some(Err(msg)) => return Ok(Err(msg)),
        None => match controller.read_src(src) {
            Ok(bytes) => return stage_bytes(target, bytes).await,
            Err(msg) => return Ok(Err(msg)),
        },
    };
    upload::stage(target, &content, "/tmp", false).await
}

async fn stage_bytes<T: Target>(target: &T, bytes: Vec<u8>) -> Result<Result<String, String>, ModuleError> {
    const SAVE: &str = r#"t=$(mktemp /tmp/.stockman.XXXXXXXX) && cat > "$t" && printf '%s' "$t""#;
    let out = target.exec(Cmd::new("/bin/sh").flag("-c").arg(SAVE).as_str(), Some(&bytes)).await?;
    Ok(if out.rc == 0 { Ok(out.stdout_str().trim().to_string()) } else { Err(format!("cannot stage src: {}", out.stderr_str().trim())) })
}

/// A body downloaded next to dest: its temp file and sha1, and the name
/// the response gives it when dest is a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Written {
    tmp: String,
    sha1: String,
    filename: String,
    /// The status is one expected and not 304: the body goes to dest.
    keep: bool,
}

/// Ansible's uri writes the body when the status is expected (and not 304)
/// and then reports a change even when the bytes were already there.
async fn write_dest<T: Target>(req: &Request, target: &T, result: ModuleResult, written: Written) -> Result<ModuleResult, ModuleError> {
    let dest = req.dest.clone().unwrap_or_default();
    let probe = remote_file::probe(target, &[&dest], Follow::Yes, true).await?;
    let (dest, probe) = if probe.files[0].kind == FileKind::Directory {
        let named = format!("{}/{}", dest.trim_end_matches('/'), written.filename);
        let p = remote_file::probe(target, &[&named], Follow::Yes, true).await?;
        (named, p)
    } else {
        (dest, probe)
    };
    let result = result.with("path", dest.clone());
    let placed = remote_file::place_staged(target, &written.tmp, &written.sha1, &dest, &probe.files[0], probe.umask, &req.attrs, false).await?;
    Ok(match placed {
        Ok(_) => ModuleResult { changed: true, ..result },
        Err(msg) => ModuleResult { failed: true, msg: Some(msg), ..result },
    })
}

/// The result of the request command's output, and the body's temp file
/// beside dest when there is one.
fn outcome(req: &Request, stdout: &[u8], elapsed: u64) -> Option<(ModuleResult, Option<Written>)> {
    let mut fields = Fields::new(stdout);
    let skipped = |msg: String| Some((ModuleResult::ok().with("stdout", msg), None));
    match fields.next_field()?.as_str() {
        "creates" => return skipped(format!("skipped, since '{}' exists", req.creates)),
        "removes" => return skipped(format!("skipped, since '{}' does not exist", req.removes)),
        "nocurl" => return Some((ModuleResult::failed("uri needs curl on the host (stockman runs it natively, without Python); install curl"), None)),
        "done" => {}
        _ => return None,
    }
    let rc: i32 = fields.next_field()?.parse().ok()?;
    let write_out = fields.next_field()?;
    let curl_error = fields.next_field()?;
    let dump = fields.next_field()?;
    let tmp = fields.next_field()?;
    let sha1 = fields.next_field()?;
    let body = base64::engine::general_purpose::STANDARD.decode(fields.next_field()?.trim()).ok()?;
    let final_url = write_out.split('\n').nth(1).unwrap_or_default().to_string();
    let masked = http::mask_url(&req.conn.url);
    let written = |status: i64| {
        let keep = req.status_code.contains(&status) && status != 304;
        (!tmp.is_empty()).then(|| Written { tmp: tmp.clone(), sha1: sha1.clone(), filename: response_filename(&dump, &final_url), keep })
    };
    // A body cut short after the headers: Ansible's http.client error while reading it.
    if rc == 18 && Response::parse_dump(&dump).is_some() {
        let msg = format!("HTTP Error while fetching {masked}: {}", curl_error.trim().trim_start_matches("curl: "));
        return Some((ModuleResult::failed(msg), written(-1)));
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
    let text = String::from_utf8_lossy(&body).into_owned();
    if is_json(&content_type) {
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
    Some((r, written(status)))
}

/// uri's name for a body saved into a directory: Content-Disposition's
/// filename, else the last part of the final URL's path, else index.html.
fn response_filename(dump: &str, final_url: &str) -> String {
    let from_header = Response::parse_dump(dump).and_then(|r| r.header("content-disposition").and_then(http::disposition_filename));
    from_header.unwrap_or_else(|| {
        let path = final_url.split(['?', '#']).next().unwrap_or_default();
        http::url_filename(path.trim_end_matches('/'))
    })
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
