//! `lookup('password', 'PATH length=N chars=... encrypt=... ident=... seed=...')`:
//! ansible.builtin.password. A random password kept in a file on the
//! controller (`PATH`, relative to the playbook's directory): the file's
//! password when it exists, else a new one written there (directories 0700,
//! file 0600). `/dev/null` gives a new password each time and writes nothing.
//! With `encrypt`, the result is the crypt hash and the file also keeps the
//! salt (`PASSWORD salt=SALT`), so the hash is the same on every run.

use super::search::{expand_home, unfrack};
use super::{Call, term_text};
use crate::template::filters::{fail, hash};
use minijinja::value::{Kwargs, Value as Jinja, ValueKind};
use minijinja::{Error, State};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

const NULL: &str = "/dev/null";
const PARAMS: [&str; 5] = ["length", "encrypt", "chars", "ident", "seed"];
/// The longest password generated, and the largest password file read.
const MAX_LENGTH: usize = 65_536;
/// The characters of a salt, as Ansible's `random_salt` draws them.
const SALT_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./";
/// The hash schemes stockman computes, with the salt length Ansible gives each.
const SCHEMES: [(&str, usize); 2] = [("sha512_crypt", 16), ("sha256_crypt", 16)];

/// What one term asks for, keywords and inline `k=v` merged.
#[derive(Debug, Clone, PartialEq)]
struct Request {
    path: String,
    length: usize,
    chars: String,
    encrypt: Option<String>,
    ident: Option<String>,
    seed: Option<String>,
}

/// What the password file holds: `PASSWORD[ salt=SALT[ ident=IDENT]]`.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    password: String,
    salt: Option<String>,
    ident: Option<String>,
}

pub(super) fn password(call: &Call, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let given = keyword_options(kwargs)?;
    let mut out = Vec::new();
    for term in terms {
        let request = parse_term(&term_text(term)?, &given)?;
        let path = resolve(call.state, &request.path);
        let stored = obtain(&path, &request).map_err(fail)?;
        out.push(Jinja::from(match &request.encrypt {
            Some(scheme) => hash::crypt(scheme, &stored.password, stored.salt.as_deref().unwrap_or_default(), None).map_err(fail)?,
            None => stored.password,
        }));
    }
    Ok(out)
}

/// An option's value: text (as inline `k=v` give it), or a keyword's list of character sets.
#[derive(Clone)]
enum Opt {
    Text(String),
    Sets(Vec<String>),
}

/// The options given as keywords.
fn keyword_options(kwargs: &Kwargs) -> Result<Vec<(String, Opt)>, Error> {
    let mut out = Vec::new();
    for name in PARAMS {
        let Some(value) = kwargs.get::<Option<Jinja>>(name)? else { continue };
        let opt = match value.kind() {
            ValueKind::Seq => Opt::Sets(value.try_iter()?.map(|v| v.to_string()).collect()),
            ValueKind::None | ValueKind::Undefined => continue,
            _ => Opt::Text(value.to_string()),
        };
        out.push((name.to_string(), opt));
    }
    Ok(out)
}

/// `PATH k=v...` as Ansible's password lookup splits it; inline options win
/// over keywords.
fn parse_term(term: &str, keywords: &[(String, Opt)]) -> Result<Request, Error> {
    let (mut path, rest) = term.split_once(' ').map_or((term.to_string(), ""), |(p, r)| (p.to_string(), r));
    let mut options: Vec<(String, Opt)> = keywords.to_vec();
    if !rest.is_empty() {
        let mut inline = crate::playbook::parse_kv(rest, true, |_| true).map_err(fail)?;
        if let Some(serde_json::Value::String(raw)) = inline.shift_remove("_raw_params") {
            path = format!("{path} {raw}");
            if !term.starts_with(&path) {
                return Err(fail("Unrecognized value after key=value parameters given to password lookup"));
            }
        }
        let unknown: Vec<&String> = inline.keys().filter(|k| !PARAMS.contains(&k.as_str())).collect();
        if !unknown.is_empty() {
            let names: Vec<&str> = unknown.iter().map(|k| k.as_str()).collect();
            return Err(fail(format!("Unrecognized parameter(s) given to password lookup: {}", names.join(", "))));
        }
        options.extend(inline.into_iter().map(|(k, v)| (k, Opt::Text(stockman_modules::args::value_to_string(&v)))));
    }
    let opt = |name: &str| options.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let last = |name: &str| match opt(name) {
        Some(Opt::Text(text)) => Some(text),
        Some(Opt::Sets(sets)) => Some(sets.join(",")),
        None => None,
    };
    let length = match last("length") {
        None => 20,
        Some(text) => text.trim().parse::<usize>().map_err(|_| fail(format!("the password lookup's length must be an integer, got '{text}'")))?,
    };
    if length > MAX_LENGTH {
        return Err(fail(format!("the password lookup's length {length} is more than the limit of {MAX_LENGTH}")));
    }
    let encrypt = last("encrypt").filter(|e| !e.is_empty());
    if let Some(scheme) = &encrypt {
        if !SCHEMES.iter().any(|(name, _)| name == scheme) {
            let known: Vec<&str> = SCHEMES.iter().map(|(n, _)| *n).collect();
            return Err(fail(format!("the password lookup's encrypt={scheme} is not available in stockman (it computes {})", known.join(", "))));
        }
    }
    let sets = match opt("chars") {
        Some(Opt::Text(spec)) => comma_sets(&spec),
        Some(Opt::Sets(sets)) => sets,
        None => vec!["ascii_letters".into(), "digits".into(), ".,:-_".into()],
    };
    let chars = candidate_chars(&sets);
    if chars.is_empty() && length > 0 {
        return Err(fail("the password lookup's chars give no character to choose from"));
    }
    Ok(Request { path, length, chars, encrypt, ident: last("ident").filter(|i| !i.is_empty()), seed: last("seed") })
}

/// Character sets given as one string: comma-separated, `,,` for a comma
/// (put first, as Ansible does).
fn comma_sets(spec: &str) -> Vec<String> {
    let comma = spec.contains(",,").then(|| ",".to_string());
    comma.into_iter().chain(spec.replace(",,", ",").split(',').filter(|s| !s.is_empty()).map(str::to_string)).collect()
}

/// The characters a password is drawn from: each set that names a Python
/// `string` constant gives its characters, any other itself. Quotes are
/// never used, as in Ansible.
fn candidate_chars(sets: &[String]) -> String {
    let mut out = String::new();
    for set in sets {
        out.push_str(python_string_constant(set).unwrap_or(set));
    }
    out.replace(['"', '\''], "")
}

/// Python's `string.NAME`, for the constants that are character sets.
fn python_string_constant(name: &str) -> Option<&'static str> {
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const PUNCTUATION: &str = r##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##;
    Some(match name {
        "ascii_lowercase" => LOWER,
        "ascii_uppercase" => UPPER,
        "ascii_letters" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "digits" => "0123456789",
        "hexdigits" => "0123456789abcdefABCDEF",
        "octdigits" => "01234567",
        "punctuation" => PUNCTUATION,
        "whitespace" => " \t\n\r\u{b}\u{c}",
        "printable" => "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\u{b}\u{c}",
        _ => return None,
    })
}

/// Ansible's `path_dwim`: absolute or `~` paths as they are, others under
/// the playbook's directory.
fn resolve(state: &State, path: &str) -> PathBuf {
    if path.starts_with('/') || path.starts_with('~') {
        return unfrack(&expand_home(path));
    }
    let base = state.lookup("playbook_dir").and_then(|v| v.as_str().map(PathBuf::from));
    unfrack(&base.unwrap_or_else(|| std::env::current_dir().unwrap_or_default()).join(path))
}

/// The stored password for `request`, created (or given its salt) first
/// when needed. One at a time in this process, so hosts sharing a file get
/// one password; other processes are kept out by creating the file with a
/// hard link, which fails when it exists.
fn obtain(path: &Path, request: &Request) -> Result<Stored, String> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let is_null = path == Path::new(NULL);
    for _ in 0..2 {
        let existing = if is_null { None } else { read(path)? };
        let had_file = existing.is_some();
        let (stored, changed) = complete(existing, request)?;
        if !changed || is_null {
            return Ok(stored);
        }
        match write(path, &format_content(&stored), had_file) {
            Ok(()) => return Ok(stored),
            // Another process created it meanwhile: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write the password file {}: {e}", path.display())),
        }
    }
    Err(format!("the password file {} keeps changing under stockman", path.display()))
}

/// The file's content, or `None` when there is none.
fn read(path: &Path) -> Result<Option<Stored>, String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read the password file {}: {e}", path.display())),
    };
    if meta.len() > MAX_LENGTH as u64 * 4 {
        return Err(format!("the password file {} is larger than {} bytes", path.display(), MAX_LENGTH * 4));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("the password file {} is not UTF-8", path.display()))?;
    Ok(Some(parse_content(text.trim_end())))
}

/// `PASSWORD salt=SALT ident=IDENT`, split at the last ` salt=` and then
/// the last ` ident=` after it.
fn parse_content(content: &str) -> Stored {
    let Some((password, rest)) = content.rsplit_once(" salt=") else {
        return Stored { password: content.to_string(), salt: None, ident: None };
    };
    let (salt, ident) = match rest.rsplit_once(" ident=") {
        Some((salt, ident)) => (salt, Some(ident.to_string())),
        None => (rest, None),
    };
    Stored { password: password.to_string(), salt: Some(salt.to_string()).filter(|s| !s.is_empty()), ident }
}

/// The password `request` gets from what the file held, and whether the
/// file must be (re)written: a new password, or a salt it lacked.
fn complete(existing: Option<Stored>, request: &Request) -> Result<(Stored, bool), String> {
    let (mut stored, mut changed) = match existing {
        Some(stored) => (stored, false),
        None => (Stored { password: generate(request), salt: None, ident: None }, true),
    };
    if let (Some(given), Some(kept)) = (&request.ident, &stored.ident) {
        if given != kept {
            return Err(format!("The ident parameter provided ({kept}) does not match the stored one ({given})."));
        }
    }
    if stored.ident.is_none() {
        stored.ident = request.ident.clone();
    }
    if let Some(scheme) = &request.encrypt {
        if stored.salt.is_none() {
            let size = SCHEMES.iter().find(|(name, _)| name == scheme).map_or(16, |(_, size)| *size);
            stored.salt = Some(draw(&mut Draw::System, SALT_CHARS, size));
            changed = true;
        }
    }
    Ok((stored, changed))
}

/// What is written: the password, and the salt (and ident) once there is one.
fn format_content(stored: &Stored) -> String {
    match (&stored.salt, &stored.ident) {
        (Some(salt), Some(ident)) => format!("{} salt={salt} ident={ident}", stored.password),
        (Some(salt), None) => format!("{} salt={salt}", stored.password),
        _ => stored.password.clone(),
    }
}

/// Writes `content` and a newline: a new file appears whole or not at all
/// (and not over one another process made); `replace` rewrites one.
fn write(path: &Path, content: &str, replace: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.stockman-{}-{}", std::process::id(), draw(&mut Draw::System, "abcdefghij", 8)));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
        file.write_all(format!("{content}\n").as_bytes())?;
        file.sync_all()?;
        if replace { std::fs::rename(&temp, path) } else { std::fs::hard_link(&temp, path) }
    })();
    let _ = std::fs::remove_file(&temp);
    result
}

/// A new password: from the OS's random source, or with `seed` exactly the
/// one Python's `random.Random(seed)` draws, so seeded passwords are Ansible's.
fn generate(request: &Request) -> String {
    let mut source = match &request.seed {
        Some(seed) => Draw::Seeded(python_random(seed)),
        None => Draw::System,
    };
    draw(&mut source, &request.chars, request.length)
}

enum Draw {
    System,
    Seeded(rand_mt::Mt),
}

/// `length` characters of `chars`, each as Python's `Random.choice` picks it.
fn draw(source: &mut Draw, chars: &str, length: usize) -> String {
    let chars: Vec<char> = chars.chars().collect();
    (0..length).map(|_| chars[below(source, chars.len())]).collect()
}

/// A number below `n` (n > 0): Python's `_randbelow_with_getrandbits`,
/// `bit_length(n)` bits at a time until one is below `n`.
fn below(source: &mut Draw, n: usize) -> usize {
    match source {
        Draw::System => {
            use rand::RngExt as _;
            rand::rng().random_range(0..n)
        }
        Draw::Seeded(mt) => {
            let bits = usize::BITS - n.leading_zeros();
            loop {
                let r = (mt.next_u32() >> (32 - bits)) as usize;
                if r < n {
                    return r;
                }
            }
        }
    }
}

/// Python's `random.Random(seed)` for a string: the integer whose big-endian
/// bytes are the seed's UTF-8 and its SHA-512, fed to MT19937's
/// `init_by_array` as 32-bit words, least significant first.
fn python_random(seed: &str) -> rand_mt::Mt {
    use sha2::Digest as _;
    let mut bytes = seed.as_bytes().to_vec();
    bytes.extend_from_slice(&sha2::Sha512::digest(seed.as_bytes()));
    let mut words: Vec<u32> = bytes
        .rchunks(4)
        .map(|chunk| chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
        .collect();
    while words.len() > 1 && words.last() == Some(&0) {
        words.pop();
    }
    rand_mt::Mt::new_with_key(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(spec: &str) -> Request {
        parse_term(spec, &[]).unwrap()
    }

    #[test]
    fn seeded_passwords_are_pythons() {
        // Values printed by CPython 3.11's `random.Random(seed).choice` over Ansible's default characters.
        for (seed, expected) in [("foo", "6JUEsF6-,RiuGZDEWF4r"), ("", "6AXCRaPUg6XNyv-IYdFO"), (&"a".repeat(100), "gZ15Ws2Ejz:rbxXHW:Aq")] {
            let r = Request { seed: Some(seed.to_string()), ..request("/dev/null") };
            assert_eq!(generate(&r), expected, "seed {seed:?}");
        }
        let r = Request { seed: Some("foo".into()), ..request("/dev/null chars=ab length=10") };
        assert_eq!(generate(&r), "bbbaaabbba");
    }

    #[test]
    fn inline_options_and_character_sets() {
        let r = request("/tmp/a b length=8 chars=digits,,,x encrypt=");
        assert_eq!((r.path.as_str(), r.length, r.encrypt), ("/tmp/a b", 8, None));
        assert_eq!(r.chars, ",0123456789x");
        assert!(parse_term("/x bogus=1", &[]).unwrap_err().to_string().contains("Unrecognized parameter(s) given to password lookup: bogus"));
        assert!(parse_term("/x encrypt=bcrypt", &[]).unwrap_err().to_string().contains("not available in stockman"));
        assert!(parse_term("/x length=999999999", &[]).unwrap_err().to_string().contains("limit"));
    }

    #[test]
    fn content_keeps_salt_and_ident() {
        let stored = parse_content("pw with salt=x salt=abc ident=2b");
        assert_eq!(stored, Stored { password: "pw with salt=x".into(), salt: Some("abc".into()), ident: Some("2b".into()) });
        assert_eq!(format_content(&stored), "pw with salt=x salt=abc ident=2b");
        assert_eq!(parse_content("plain").salt, None);
    }
}
