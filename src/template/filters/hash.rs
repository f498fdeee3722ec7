//! Digests: `hash`, `checksum`, `md5`, `sha1`, `to_uuid` (a name-based
//! UUID, version 5) and `password_hash` (sha512 and sha256 crypt, as
//! glibc's crypt(3) and passlib write them).

use super::{fail, py_str};
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::{Environment, Error};
use sha2::Digest as _;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("hash", |v: Jinja, kind: Option<String>| digest(&py_str(&v), kind.as_deref().unwrap_or("sha1")));
    env.add_filter("checksum", |v: Jinja| sha1_hex(py_str(&v).as_bytes()));
    env.add_filter("sha1", |v: Jinja| sha1_hex(py_str(&v).as_bytes()));
    env.add_filter("md5", |v: Jinja| format!("{:x}", md5::compute(py_str(&v).as_bytes())));
    env.add_filter("password_hash", password_hash);
    env.add_filter("to_uuid", |v: Jinja, namespace: Option<String>, kwargs: Kwargs| -> Result<String, Error> {
        let namespace = namespace.or(kwargs.get::<Option<String>>("namespace")?);
        kwargs.assert_all_used()?;
        let namespace = namespace.as_deref().unwrap_or(ANSIBLE_NAMESPACE);
        let bytes = parse_uuid(namespace).ok_or_else(|| fail(format!("Invalid value '{namespace}' for 'namespace': badly formed hexadecimal UUID string")))?;
        Ok(uuid5(&bytes, &py_str(&v)))
    });
}

/// Ansible's own namespace for `to_uuid`.
const ANSIBLE_NAMESPACE: &str = "361E6D51-FAEC-444A-9079-341386DA8E2E";

/// Python's `uuid.UUID(text)`: 32 hex digits, with any hyphens, braces and
/// `urn:uuid:` prefix dropped.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let text = text.strip_prefix("urn:").unwrap_or(text);
    let text = text.strip_prefix("uuid:").unwrap_or(text);
    let digits: String = text.trim_matches(['{', '}']).chars().filter(|c| *c != '-').collect();
    if digits.len() != 32 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// RFC 4122 version 5: SHA-1 of namespace and name, version and variant
/// bits set.
fn uuid5(namespace: &[u8; 16], name: &str) -> String {
    use sha1::Digest as _;
    let mut hasher = sha1::Sha1::new();
    hasher.update(namespace);
    hasher.update(name.as_bytes());
    let mut b: [u8; 16] = hasher.finalize()[..16].try_into().expect("SHA-1 is 20 bytes");
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest as _;
    hex(&sha1::Sha1::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `hashlib.new(kind)` for the algorithms Ansible users reach for.
fn digest(text: &str, kind: &str) -> Result<String, Error> {
    let data = text.as_bytes();
    Ok(match kind {
        "md5" => format!("{:x}", md5::compute(data)),
        "sha1" => sha1_hex(data),
        "sha224" => hex(&sha2::Sha224::digest(data)),
        "sha256" => hex(&sha2::Sha256::digest(data)),
        "sha384" => hex(&sha2::Sha384::digest(data)),
        "sha512" => hex(&sha2::Sha512::digest(data)),
        other => return Err(fail(format!("unsupported hash type '{other}' (use md5, sha1, sha224, sha256, sha384 or sha512)"))),
    })
}

const SALT_CHARS: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `password_hash(hashtype='sha512', salt=None, rounds=None)`.
fn password_hash(password: String, hashtype: Option<String>, salt: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let hashtype = hashtype.unwrap_or_else(|| "sha512".into());
    let salt = match salt {
        Some(s) => Some(s),
        None => kwargs.get::<Option<String>>("salt")?,
    };
    let rounds = kwargs.get::<Option<u32>>("rounds")?;
    kwargs.assert_all_used()?;
    let salt = salt.unwrap_or_else(random_salt);
    if salt.bytes().any(|b| !SALT_CHARS.contains(&b)) {
        return Err(fail("password_hash: the salt may only hold the characters ./0-9A-Za-z"));
    }
    crypt(&hashtype, &password, &salt, rounds).map_err(|e| fail(format!("password_hash: {e}")))
}

/// `password` hashed with `hashtype` (sha512 or sha256 crypt, by Ansible's
/// or passlib's name) and `salt`, as passlib writes it.
pub(crate) fn crypt(hashtype: &str, password: &str, salt: &str, rounds: Option<u32>) -> Result<String, String> {
    let algorithm = match hashtype {
        "sha512" | "sha512_crypt" => Sha::S512,
        "sha256" | "sha256_crypt" => Sha::S256,
        other => return Err(format!("unsupported hash type '{other}' (use sha512 or sha256)")),
    };
    Ok(sha_crypt(algorithm, password.as_bytes(), salt, rounds))
}

/// 16 salt characters from the OS's random source.
fn random_salt() -> String {
    use rand::RngExt as _;
    let mut rng = rand::rng();
    (0..16).map(|_| SALT_CHARS[rng.random_range(0..SALT_CHARS.len())] as char).collect()
}

#[derive(Clone, Copy)]
enum Sha {
    S256,
    S512,
}

impl Sha {
    fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Sha::S256 => parts.iter().fold(sha2::Sha256::new(), |h, p| h.chain_update(p)).finalize().to_vec(),
            Sha::S512 => parts.iter().fold(sha2::Sha512::new(), |h, p| h.chain_update(p)).finalize().to_vec(),
        }
    }
}

/// Drepper's SHA-crypt (`$6$` / `$5$`), the scheme of /etc/shadow.
/// Without `rounds`, passlib's (and so Ansible's) defaults are used: 656000
/// for sha512 and 535000 for sha256; 5000 is crypt's implicit count.
fn sha_crypt(alg: Sha, key: &[u8], salt: &str, rounds: Option<u32>) -> String {
    let salt = &salt.as_bytes()[..salt.len().min(16)];
    let rounds_n = effective_rounds(alg, rounds);
    let a_len = match alg {
        Sha::S256 => 32,
        Sha::S512 => 64,
    };
    let b = alg.hash(&[key, salt, key]);
    let mut a_parts: Vec<&[u8]> = vec![key, salt];
    let mut n = key.len();
    while n > a_len {
        a_parts.push(&b);
        n -= a_len;
    }
    a_parts.push(&b[..n]);
    let mut bits = key.len();
    while bits > 0 {
        a_parts.push(if bits & 1 == 1 { &b } else { key });
        bits >>= 1;
    }
    let a = alg.hash(&a_parts);
    let dp_hash = alg.hash(&vec![key; key.len()]);
    let p = repeat_to(&dp_hash, key.len());
    let ds_hash = alg.hash(&vec![salt; 16 + a[0] as usize]);
    let s = repeat_to(&ds_hash, salt.len());
    let mut c = a;
    for i in 0..rounds_n {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(4);
        parts.push(if i % 2 == 1 { &p } else { &c });
        if i % 3 != 0 {
            parts.push(&s);
        }
        if i % 7 != 0 {
            parts.push(&p);
        }
        parts.push(if i % 2 == 1 { &c } else { &p });
        c = alg.hash(&parts);
    }
    let (id, encoded) = match alg {
        Sha::S256 => ("5", encode_256(&c)),
        Sha::S512 => ("6", encode_512(&c)),
    };
    let rounds_part = if rounds_n == 5000 { String::new() } else { format!("rounds={rounds_n}$") };
    format!("${id}${rounds_part}{}${encoded}", String::from_utf8_lossy(salt))
}

fn effective_rounds(alg: Sha, rounds: Option<u32>) -> u32 {
    let default_rounds = match alg {
        Sha::S256 => 535_000,
        Sha::S512 => 656_000,
    };
    rounds.unwrap_or(default_rounds).clamp(1000, 999_999_999)
}

fn repeat_to(block: &[u8], len: usize) -> Vec<u8> {
    block.iter().copied().cycle().take(len).collect()
}

/// crypt's base64: 3 bytes to 4 characters, least significant first.
fn b64_triple(out: &mut String, b2: u8, b1: u8, b0: u8, chars: usize) {
    let mut w = ((b2 as u32) << 16) | ((b1 as u32) << 8) | b0 as u32;
    for _ in 0..chars {
        out.push(SALT_CHARS[(w & 0x3f) as usize] as char);
        w >>= 6;
    }
}

fn encode_512(c: &[u8]) -> String {
    let mut out = String::new();
    let (mut i, mut j, mut k) = (0usize, 21usize, 42usize);
    for _ in 0..21 {
        b64_triple(&mut out, c[i], c[j], c[k], 4);
        (i, j, k) = ((j + 1) % 63, (k + 1) % 63, (i + 1) % 63);
    }
    b64_triple(&mut out, 0, 0, c[63], 2);
    out
}

fn encode_256(c: &[u8]) -> String {
    let mut out = String::new();
    let (mut i, mut j, mut k) = (0usize, 10usize, 20usize);
    for _ in 0..10 {
        b64_triple(&mut out, c[i], c[j], c[k], 4);
        (i, j, k) = ((k + 1) % 30, (i + 1) % 30, (j + 1) % 30);
    }
    b64_triple(&mut out, 0, c[31], c[30], 3);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from `openssl passwd -6/-5 -salt saltsalt pw` and
    /// glibc's crypt(3) (Python's `crypt.crypt`).
    #[test]
    fn to_uuid_is_pythons_uuid5() {
        let ns = parse_uuid(ANSIBLE_NAMESPACE).unwrap();
        assert_eq!(uuid5(&ns, "abc"), "27dc713b-d72c-5825-88f3-9f240e739319");
        let dns = parse_uuid("{6ba7b810-9dad-11d1-80b4-00c04fd430c8}").unwrap();
        assert_eq!(uuid5(&dns, "abc"), "6cb8e707-0fc5-5f55-88d4-d4fed43e64a8");
        assert!(parse_uuid("zz").is_none());
    }

    #[test]
    fn sha_crypt_matches_glibc() {
        let glibc = "$6$saltsalt$pauPrmdmG4BTE9h2HPmywiw152IFch6BJCEsaY6D.PLTfpV8sqvXwWdyfsgVgozkYH9B80bAip/08R2BPH2xk/";
        assert_eq!(sha_crypt(Sha::S512, b"pw", "saltsalt", Some(5000)), glibc);
        assert_eq!(sha_crypt(Sha::S256, b"pw", "saltsalt", Some(5000)), "$5$saltsalt$0rl.MZtoLLPP3X0Rdl8riRnphIcAXJY27/aOAyK2hB5");
        let long = b"a much longer password that exceeds sixty four bytes of length for sure, yes";
        let expected = "$6$rounds=1000$0123456789abcdef$a4p/8wYaTSHdxygNIU3h3HeoKgG7TAx0DcVnzEGQlG/XVIvXC4lM1RLioYiJcdfYKePFanzwAJhIFj03nkmdm1";
        assert_eq!(sha_crypt(Sha::S512, long, "0123456789abcdefXX", Some(1000)), expected);
    }

    /// Ansible (passlib) uses 656000 rounds for sha512 when none are given
    /// (`$6$rounds=656000$saltsalt$JEkl...` for "pw"; computing it takes
    /// seconds in a debug build, so only the count is checked here).
    #[test]
    fn default_rounds_are_passlibs() {
        assert_eq!(effective_rounds(Sha::S512, None), 656_000);
        assert_eq!(effective_rounds(Sha::S256, None), 535_000);
        assert_eq!(effective_rounds(Sha::S512, Some(10)), 1000);
    }

    #[test]
    fn digests() {
        assert_eq!(digest("hello", "sha256").unwrap(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert!(digest("hello", "whirlpool").is_err());
    }
}
