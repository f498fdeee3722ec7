//! A small HTTP/1.1 server on 127.0.0.1 for the URL modules' tier-1 tests:
//! the test sshd's "remote" host is this machine, so curl there reaches it.
//! Routes are set by the test; every request is recorded (method, path,
//! headers, body) so a test can assert what the module sent.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What one path answers.
#[derive(Debug, Clone)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Answer 304 to a request with If-Modified-Since.
    pub conditional: bool,
    /// `user:password` the request must carry as basic auth (else 401).
    pub basic_auth: Option<String>,
    /// Announce 5 bytes more than the body, then close: a cut transfer.
    pub truncated: bool,
}

impl Route {
    pub fn ok(body: &[u8]) -> Route {
        Route { status: 200, headers: Vec::new(), body: body.to_vec(), conditional: false, basic_auth: None, truncated: false }
    }
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    seen: Vec<Seen>,
}

pub struct Httpd {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Httpd {
    pub fn start() -> Httpd {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Httpd { port, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn route(&self, path: &str, route: Route) {
        self.state.lock().unwrap().routes.insert(path.to_string(), route);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim_end().is_empty() {
                break;
            }
            if let Some((n, v)) = h.trim_end().split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let length: usize = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = target.split('?').next().unwrap_or_default().to_string();
        let seen = Seen { method: method.clone(), path: path.clone(), headers, body };
        let response = answer(state, &seen);
        state.lock().unwrap().seen.push(seen);
        let head_only = method == "HEAD";
        if writer.write_all(&response.head).is_err() || (!head_only && writer.write_all(&response.body).is_err()) || response.close {
            return;
        }
    }
}

struct Answer {
    head: Vec<u8>,
    body: Vec<u8>,
    close: bool,
}

fn answer(state: &Mutex<State>, seen: &Seen) -> Answer {
    let route = state.lock().unwrap().routes.get(&seen.path).cloned();
    let truncated = route.as_ref().is_some_and(|r| r.truncated);
    let (status, reason, headers, body) = match route {
        None => (404, "NOT FOUND", Vec::new(), b"not found\n".to_vec()),
        Some(r) if r.basic_auth.as_ref().is_some_and(|cred| !authorized(seen, cred)) => {
            (401, "UNAUTHORIZED", vec![("WWW-Authenticate".to_string(), "Basic realm=\"t\"".to_string())], Vec::new())
        }
        Some(r) if r.conditional && seen.header("if-modified-since").is_some() => (304, "NOT MODIFIED", Vec::new(), Vec::new()),
        Some(r) => (r.status, reason_of(r.status), r.headers, r.body),
    };
    let announced = body.len() + if truncated { 5 } else { 0 };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nContent-Length: {announced}\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    Answer { head: head.into_bytes(), body, close: truncated }
}

fn reason_of(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "CREATED",
        204 => "NO CONTENT",
        302 => "FOUND",
        404 => "NOT FOUND",
        500 => "INTERNAL SERVER ERROR",
        _ => "OTHER",
    }
}

fn authorized(seen: &Seen, cred: &str) -> bool {
    use base64::Engine as _;
    let want = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(cred));
    seen.header("authorization") == Some(want.as_str())
}
