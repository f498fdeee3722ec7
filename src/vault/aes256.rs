//! The AES256 vault cipher, byte for byte as Ansible's `VaultAES256`:
//!
//! - PBKDF2-HMAC-SHA256, 10000 rounds, over the password and a 32-byte random
//!   salt, gives 80 bytes: the AES-256 key, the HMAC-SHA256 key, the 16-byte
//!   initial counter (a 128-bit big-endian counter, as `cryptography`'s CTR).
//! - The plaintext is PKCS#7-padded to 16 bytes (needless for CTR, but part of
//!   the format), encrypted, and the ciphertext authenticated with the HMAC.
//! - The payload is `hex(hex(salt) \n hex(hmac) \n hex(ciphertext))`.

use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{KeyInit, Mac};
use zeroize::Zeroizing;

use super::envelope::{hex_decode, hex_encode};
use super::VaultError;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const ROUNDS: u32 = 10_000;
const KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const SALT_LEN: usize = 32;
const BLOCK: usize = 16;

/// Why a payload did not decrypt.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Wrong password (or tampered data): the HMAC does not match.
    Mac,
    /// The payload is not `salt \n hmac \n ciphertext`, or the padding is broken.
    Format(String),
}

struct Keys {
    cipher: Zeroizing<[u8; KEY_LEN]>,
    mac: Zeroizing<[u8; KEY_LEN]>,
    iv: [u8; IV_LEN],
}

fn derive(password: &[u8], salt: &[u8]) -> Keys {
    let mut out = Zeroizing::new([0u8; 2 * KEY_LEN + IV_LEN]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, ROUNDS, out.as_mut());
    let mut keys = Keys { cipher: Zeroizing::new([0; KEY_LEN]), mac: Zeroizing::new([0; KEY_LEN]), iv: [0; IV_LEN] };
    keys.cipher.copy_from_slice(&out[..KEY_LEN]);
    keys.mac.copy_from_slice(&out[KEY_LEN..2 * KEY_LEN]);
    keys.iv.copy_from_slice(&out[2 * KEY_LEN..]);
    keys
}

fn mac(keys: &Keys) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(keys.mac.as_ref()).expect("HMAC takes keys of any length")
}

fn keystream(keys: &Keys, data: &mut [u8]) {
    let key: &[u8; KEY_LEN] = &keys.cipher;
    Aes256Ctr::new(key.into(), (&keys.iv).into()).apply_keystream(data);
}

/// A fresh random salt.
pub fn random_salt() -> Result<Vec<u8>, VaultError> {
    let mut salt = vec![0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| VaultError::Io(format!("no system randomness for the salt: {e}")))?;
    Ok(salt)
}

/// Encrypts `plaintext` into the hex payload that follows the header.
pub fn encrypt(plaintext: &[u8], password: &[u8], salt: &[u8]) -> Vec<u8> {
    let keys = derive(password, salt);
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut data = Vec::with_capacity(plaintext.len() + pad);
    data.extend_from_slice(plaintext);
    data.extend(std::iter::repeat_n(pad as u8, pad));
    keystream(&keys, &mut data);
    let mut hmac = mac(&keys);
    hmac.update(&data);
    let tag = hmac.finalize().into_bytes();
    let inner = [hex_encode(salt), hex_encode(&tag), hex_encode(&data)].join(&b'\n');
    hex_encode(&inner)
}

/// Decrypts a hex payload; the HMAC is checked (in constant time) before
/// anything is decrypted.
pub fn decrypt(payload: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let format = |e: VaultError| Failure::Format(e.to_string());
    let inner = hex_decode(payload).map_err(format)?;
    let mut parts = inner.splitn(3, |b| *b == b'\n');
    let (Some(salt), Some(tag), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Failure::Format("the payload is not salt, HMAC and ciphertext".into()));
    };
    let (salt, tag, mut data) = (hex_decode(salt).map_err(format)?, hex_decode(tag).map_err(format)?, hex_decode(data).map_err(format)?);
    let keys = derive(password, &salt);
    let mut hmac = mac(&keys);
    hmac.update(&data);
    hmac.verify_slice(&tag).map_err(|_| Failure::Mac)?;
    keystream(&keys, &mut data);
    let data = Zeroizing::new(data);
    unpad(&data).map(|plain| Zeroizing::new(plain.to_vec()))
}

fn unpad(data: &[u8]) -> Result<&[u8], Failure> {
    let bad = || Failure::Format("invalid PKCS#7 padding".into());
    let pad = usize::from(*data.last().ok_or_else(bad)?);
    if pad == 0 || pad > BLOCK || pad > data.len() || data.len() % BLOCK != 0 {
        return Err(bad());
    }
    let (plain, padding) = data.split_at(data.len() - pad);
    if padding.iter().any(|b| usize::from(*b) != pad) {
        return Err(bad());
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_padding_length() {
        let salt = random_salt().unwrap();
        for len in [0, 1, 15, 16, 17, 31, 32, 33] {
            let plain: Vec<u8> = (0..len as u8).collect();
            let payload = encrypt(&plain, b"pw", &salt);
            assert_eq!(&*decrypt(&payload, b"pw").unwrap(), &plain);
        }
    }

    #[test]
    fn wrong_password_and_tampering_fail_the_mac() {
        let payload = encrypt(b"secret", b"right", &random_salt().unwrap());
        assert_eq!(decrypt(&payload, b"wrong").unwrap_err(), Failure::Mac);
        let mut inner = hex_decode(&payload).unwrap();
        let last = inner.len() - 1;
        inner[last] = if inner[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(decrypt(&hex_encode(&inner), b"right").unwrap_err(), Failure::Mac);
    }

    /// Ansible's fixed-salt vector: `ansible-vault encrypt_string` with
    /// VAULT_ENCRYPT_SALT=0123456789abcdef0123456789abcdef and password `pw`.
    #[test]
    fn matches_ansible_with_a_fixed_salt() {
        let payload = encrypt(b"hello", b"pw", b"0123456789abcdef0123456789abcdef");
        let text = super::super::envelope::format(&payload, None);
        assert_eq!(text, ANSIBLE_FIXED_SALT);
    }

    const ANSIBLE_FIXED_SALT: &str = include_str!("testdata/fixed_salt_hello.vault");
}
