//! OpenSSH known_hosts files: reading, matching a host, and appending a new host.
//!
//! A line is `[@marker] hosts keytype base64 [comment]`. `hosts` is either a
//! comma-separated pattern list (`*` and `?` wildcards, `!` negation,
//! `[host]:port` for ports other than 22) or one hashed name `|1|salt|hmac`
//! (HMAC-SHA1 of the name keyed with the salt). Markers are `@cert-authority`
//! (the key signs host certificates) and `@revoked` (never trust this key).
//! Lines that cannot be read are skipped, as OpenSSH does.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use russh::keys::ssh_encoding::base64::{Base64, Encoding};
use russh::keys::{parse_public_key_base64, PublicKey};

use super::TransportError;

/// What a line says about its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    /// A host's own key.
    Host,
    /// `@cert-authority`: a CA trusted to sign host certificates for these hosts.
    CertAuthority,
    /// `@revoked`: this key must never be accepted.
    Revoked,
}

#[derive(Debug, Clone)]
enum Hosts {
    Patterns(String),
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

/// One usable line of a known_hosts file.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub file: PathBuf,
    /// 1-based line number in `file`.
    pub line: usize,
    pub marker: Marker,
    hosts: Hosts,
    pub key: PublicKey,
}

impl Entry {
    /// `FILE line N`, the way errors name an entry.
    pub fn location(&self) -> String {
        format!("{} line {}", self.file.display(), self.line)
    }

    /// Whether this line's host field covers `name` (a plain or `[host]:port` name).
    /// Revoked keys apply to every host, whatever their host field says.
    pub fn matches(&self, name: &str) -> bool {
        if self.marker == Marker::Revoked {
            return true;
        }
        match &self.hosts {
            Hosts::Patterns(list) => pattern_list_matches(list, name),
            Hosts::Hashed { salt, hash } => hashed_name_matches(salt, hash, name),
        }
    }
}

/// All entries of several files, in the order OpenSSH reads them (user files first).
#[derive(Debug, Clone, Default)]
pub(crate) struct KnownHosts {
    pub entries: Vec<Entry>,
}

impl KnownHosts {
    /// Reads `files`; one that does not exist adds nothing, one that exists
    /// but cannot be read is an error (we would otherwise miss a revocation).
    pub fn load(files: &[PathBuf]) -> Result<KnownHosts, TransportError> {
        let mut entries = Vec::new();
        for file in files {
            match std::fs::read_to_string(file) {
                Ok(text) => entries.extend(parse_file(file, &text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(TransportError::KnownHosts {
                        file: file.display().to_string(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        Ok(KnownHosts { entries })
    }

    /// Entries with `marker` that apply to `name`.
    pub fn for_host<'a>(&'a self, name: &'a str, marker: Marker) -> impl Iterator<Item = &'a Entry> {
        self.entries
            .iter()
            .filter(move |e| e.marker == marker && e.matches(name))
    }
}

/// The name a host is recorded under: `host`, or `[host]:port` unless port 22.
pub(crate) fn host_name(address: &str, port: u16) -> String {
    if port == 22 {
        address.to_string()
    } else {
        format!("[{address}]:{port}")
    }
}

fn parse_file(file: &Path, text: &str) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| parse_line(line).map(|(marker, hosts, key)| Entry {
            file: file.to_path_buf(),
            line: index + 1,
            marker,
            hosts,
            key,
        }))
        .collect()
}

fn parse_line(line: &str) -> Option<(Marker, Hosts, PublicKey)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@cert-authority" => Marker::CertAuthority,
        "@revoked" => Marker::Revoked,
        other if other.starts_with('@') => return None,
        _ => Marker::Host,
    };
    if marker != Marker::Host {
        first = fields.next()?;
    }
    let hosts = parse_hosts(first)?;
    let _key_type = fields.next()?;
    let key = parse_public_key_base64(fields.next()?).ok()?;
    Some((marker, hosts, key))
}

fn parse_hosts(field: &str) -> Option<Hosts> {
    let Some(hashed) = field.strip_prefix("|1|") else {
        return Some(Hosts::Patterns(field.to_string()));
    };
    let (salt, hash) = hashed.split_once('|')?;
    Some(Hosts::Hashed {
        salt: Base64::decode_vec(salt).ok()?,
        hash: Base64::decode_vec(hash).ok()?,
    })
}

fn hashed_name_matches(salt: &[u8], hash: &[u8], name: &str) -> bool {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, salt);
    ring::hmac::verify(&key, name.as_bytes(), hash).is_ok()
}

/// OpenSSH's `match_hostname` rule: a negated pattern that matches vetoes the
/// whole list; otherwise any positive match wins. Case-insensitive.
pub(crate) fn pattern_list_matches(list: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let mut positive = false;
    for pattern in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_prefix('!') {
            Some(negated) if wildcard_match(negated, &name) => return false,
            Some(_) => {}
            None => positive |= wildcard_match(&pattern, &name),
        }
    }
    positive
}

/// `*` matches any run of characters, `?` exactly one; everything else literally.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_p, star_t)) = star {
            pi = star_p + 1;
            ti = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Serializes appends within this process (hosts connect in parallel).
static APPEND: Mutex<()> = Mutex::new(());

/// Appends `name key` to `file` atomically: the new content is written to a
/// temporary file beside it and renamed over it, so a reader never sees half a line.
pub(crate) fn append(file: &Path, name: &str, key: &PublicKey) -> Result<(), TransportError> {
    let failed = |reason: String| TransportError::KnownHosts {
        file: file.display().to_string(),
        reason,
    };
    let _guard = APPEND.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let line = PublicKey::new(key.key_data().clone(), "")
        .to_openssh()
        .map_err(|e| failed(e.to_string()))?;
    let mut content = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(failed(e.to_string())),
    };
    if !content.is_empty() && !content.ends_with(b"\n") {
        content.push(b'\n');
    }
    content.extend_from_slice(format!("{name} {}\n", line.trim()).as_bytes());
    write_atomically(file, &content).map_err(|e| failed(e.to_string()))
}

pub(crate) fn write_atomically(file: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let mode = std::fs::metadata(file).map_or(0o644, |m| m.permissions().mode());
    let temp = dir.join(format!(
        ".{}.stockman-{}",
        file.file_name().and_then(|n| n.to_str()).unwrap_or("known_hosts"),
        std::process::id()
    ));
    let written = (|| {
        let mut out = std::fs::File::create(&temp)?;
        out.set_permissions(std::fs::Permissions::from_mode(mode))?;
        out.write_all(content)?;
        out.sync_all()?;
        std::fs::rename(&temp, file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAICmQYM7jet/zXzu9zyq7DxvFVeZ1a3/a7Cfzv7BeW6UW";

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.example.com", "web.example.com"));
        assert!(wildcard_match("web?", "web1"));
        assert!(!wildcard_match("web?", "web12"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
        assert!(wildcard_match("[10.0.0.*]:2222", "[10.0.0.7]:2222"));
    }

    #[test]
    fn negation_vetoes_the_list() {
        assert!(pattern_list_matches("*.example.com,!bad.example.com", "good.example.com"));
        assert!(!pattern_list_matches("*.example.com,!bad.example.com", "bad.example.com"));
        assert!(!pattern_list_matches("!bad", "good"));
        assert!(pattern_list_matches("Web1", "web1"));
    }

    #[test]
    fn lines_with_markers_comments_and_garbage() {
        let text = format!(
            "# comment\n\nh1,h2 ssh-ed25519 {ED_A} c\n@cert-authority *.x ssh-ed25519 {ED_A}\n\
             @revoked * ssh-ed25519 {ED_A}\nbroken line\n@bogus h ssh-ed25519 {ED_A}\n"
        );
        let entries = parse_file(Path::new("kh"), &text);
        let summary: Vec<(usize, Marker)> = entries.iter().map(|e| (e.line, e.marker)).collect();
        assert_eq!(
            summary,
            vec![(3, Marker::Host), (4, Marker::CertAuthority), (5, Marker::Revoked)]
        );
        assert!(entries[0].matches("h2"));
        assert!(!entries[0].matches("h3"));
        assert!(entries[2].matches("anything"));
    }

    #[test]
    fn hashed_names_match_only_their_host() {
        // `ssh-keygen -H` of "[127.0.0.1]:2222" with a fixed salt, computed here.
        let salt = b"0123456789abcdefghij".to_vec();
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
        let hash = ring::hmac::sign(&key, b"[127.0.0.1]:2222").as_ref().to_vec();
        let field = format!("|1|{}|{}", Base64::encode_string(&salt), Base64::encode_string(&hash));
        let line = format!("{field} ssh-ed25519 {ED_A}");
        let entry = &parse_file(Path::new("kh"), &line)[0];
        assert!(entry.matches("[127.0.0.1]:2222"));
        assert!(!entry.matches("[127.0.0.1]:2223"));
    }

    #[test]
    fn append_adds_a_line_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/known_hosts");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "old ssh-ed25519 X").unwrap();
        append(&file, "[h]:2", &parse_public_key_base64(ED_A).unwrap()).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text, format!("old ssh-ed25519 X\n[h]:2 ssh-ed25519 {ED_A}\n"));
    }

    #[test]
    fn host_names_bracket_other_ports() {
        assert_eq!(host_name("h", 22), "h");
        assert_eq!(host_name("h", 2222), "[h]:2222");
    }
}
