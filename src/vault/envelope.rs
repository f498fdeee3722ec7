//! The text around the ciphertext: `$ANSIBLE_VAULT;1.1;AES256[;ID]`, then
//! the hex payload in lines of 80 characters, as ansible-vault writes it.

use super::VaultError;

/// What every vault text starts with.
pub const HEADER: &str = "$ANSIBLE_VAULT";
/// The only cipher Ansible writes (and the only one it still reads).
pub const CIPHER: &str = "AES256";
/// The vault id of secrets and texts that name none.
pub const DEFAULT_ID: &str = "default";

/// A parsed vault text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub version: String,
    pub cipher: String,
    /// The id of a 1.2 header; None for 1.1.
    pub vault_id: Option<String>,
    /// The hex payload with the line breaks removed.
    pub payload: Vec<u8>,
}

/// Whether `text` is vault data (what Ansible's `is_encrypted` checks).
pub fn is_vault(text: &[u8]) -> bool {
    text.starts_with(HEADER.as_bytes())
}

impl Envelope {
    /// Splits a vault text into its header fields and payload.
    pub fn parse(text: &[u8]) -> Result<Envelope, VaultError> {
        let text = std::str::from_utf8(text).map_err(|_| VaultError::Format("the vault text is not ASCII".into()))?;
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default().trim();
        let fields: Vec<&str> = header.split(';').map(str::trim).collect();
        if fields[0] != HEADER || fields.len() < 3 {
            return Err(VaultError::Format(format!("the header `{header}` is not `{HEADER};1.1;AES256`")));
        }
        let payload: String = lines.map(str::trim).collect();
        Ok(Envelope {
            version: fields[1].to_string(),
            cipher: fields[2].to_string(),
            vault_id: fields.get(3).map(|s| s.to_string()),
            payload: payload.into_bytes(),
        })
    }

    /// The vault id to look for first: the header's, or `default`.
    pub fn id(&self) -> &str {
        self.vault_id.as_deref().unwrap_or(DEFAULT_ID)
    }
}

/// Wraps a hex payload in the header and 80-column lines, ending in a newline.
/// A vault id other than `default` makes it format 1.2, as Ansible does.
pub fn format(payload: &[u8], vault_id: Option<&str>) -> String {
    let mut out = match vault_id.filter(|id| *id != DEFAULT_ID) {
        Some(id) => format!("{HEADER};1.2;{CIPHER};{id}\n"),
        None => format!("{HEADER};1.1;{CIPHER}\n"),
    };
    for chunk in payload.chunks(80) {
        // The payload is hex, so any chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

pub fn hex_encode(bytes: &[u8]) -> Vec<u8> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]).collect()
}

pub fn hex_decode(hex: &[u8]) -> Result<Vec<u8>, VaultError> {
    fn digit(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    if hex.len() % 2 != 0 {
        return Err(VaultError::Format("odd-length hex data".into()));
    }
    hex.chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| VaultError::Format("non-hex data in the vault payload".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_both_versions() {
        let payload = vec![b'a'; 170];
        let text = format(&payload, None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "$ANSIBLE_VAULT;1.1;AES256");
        assert_eq!((lines[1].len(), lines[2].len(), lines[3].len()), (80, 80, 10));
        assert!(text.ends_with('\n'));
        let env = Envelope::parse(text.as_bytes()).unwrap();
        assert_eq!((env.version.as_str(), env.vault_id.as_deref(), env.payload.len()), ("1.1", None, 170));

        let text = format(b"abcd", Some("prod"));
        assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"), "{text}");
        assert_eq!(Envelope::parse(text.as_bytes()).unwrap().id(), "prod");
        assert!(format(b"ab", Some("default")).starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(hex_encode(&[0, 0xab, 0xff]), b"00abff");
        assert_eq!(hex_decode(b"00ABff").unwrap(), vec![0, 0xab, 0xff]);
        assert!(hex_decode(b"abc").is_err());
        assert!(hex_decode(b"zz").is_err());
    }

    #[test]
    fn bad_headers_are_format_errors() {
        assert!(Envelope::parse(b"$ANSIBLE_VAULT\n6162\n").is_err());
        assert!(Envelope::parse(b"hello").is_err());
    }
}
