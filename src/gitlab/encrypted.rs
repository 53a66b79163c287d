//! GitLab's encrypted settings (`smtp.yaml.enc` and friends), as Rails'
//! `ActiveSupport::EncryptedConfiguration` reads and writes them.
//!
//! - key: PBKDF2-HMAC-SHA1 of `encrypted_settings_key_base` (UTF-8), salt
//!   `GitLabEncryptedConfigSalt`, 65536 iterations, 32 bytes (`KeyGenerator#generate_key`);
//! - file: `base64(ciphertext)--base64(iv)--base64(auth_tag)`, AES-256-GCM, 12-byte IV,
//!   16-byte tag, no associated data (`MessageEncryptor` with `aes-256-gcm`);
//! - plaintext: `Marshal.dump` of the YAML string.
//!
//! This module owns the bytes only: no file system, no settings. Decrypted content is
//! returned in zeroizing buffers and never appears in an error.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use zeroize::Zeroizing;

/// GitLab's salt (`Gitlab::EncryptedConfiguration`).
pub const SALT: &[u8] = b"GitLabEncryptedConfigSalt";
/// ActiveSupport's default for `KeyGenerator` (2**16).
pub const ITERATIONS: u32 = 65536;

/// A derived AES-256 key.
pub struct DerivedKey(Zeroizing<[u8; 32]>);

/// Derives the file key from a key base, as `ActiveSupport::KeyGenerator` does with SHA1.
pub fn derive_key(key_base: &str) -> DerivedKey {
    let mut out = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(key_base.as_bytes(), SALT, ITERATIONS, &mut out[..]);
    DerivedKey(out)
}

/// Why a file did not decrypt. No variant carries content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("it is not in GitLab's `data--iv--tag` format (base64 parts joined by `--`)")]
    Format,
    #[error("it does not decrypt with this key base (wrong key base, or the file was altered)")]
    Auth,
    #[error("its decrypted content is not a Ruby Marshal string")]
    Marshal,
    #[error("its decrypted content is not UTF-8 text")]
    NotUtf8,
}

fn b64() -> &'static base64::engine::GeneralPurpose {
    &base64::engine::general_purpose::STANDARD
}

/// Encrypts `yaml` into GitLab's file format with a fresh random IV.
pub fn encrypt(key: &DerivedKey, yaml: &str) -> std::io::Result<String> {
    let mut iv = [0u8; 12];
    crate::sys::rand::fill(&mut iv)?;
    Ok(encrypt_with_iv(key, yaml, &iv))
}

/// [`encrypt`] with a given IV (tests).
pub fn encrypt_with_iv(key: &DerivedKey, yaml: &str, iv: &[u8; 12]) -> String {
    let cipher = Aes256Gcm::new_from_slice(&key.0[..]).expect("a 32-byte key");
    let plain = marshal_dump(yaml);
    let mut sealed = cipher
        .encrypt(
            Nonce::from_slice(iv),
            Payload {
                msg: &plain,
                aad: b"",
            },
        )
        .expect("AES-GCM encryption of a bounded buffer cannot fail");
    // aes-gcm appends the 16-byte tag; Rails keeps it as the third part.
    let tag = sealed.split_off(sealed.len() - 16);
    let out = format!(
        "{}--{}--{}",
        b64().encode(&sealed),
        b64().encode(iv),
        b64().encode(&tag)
    );
    zeroize::Zeroize::zeroize(&mut sealed);
    out
}

/// Decrypts a file's bytes into the YAML text.
pub fn decrypt(key: &DerivedKey, file: &[u8]) -> Result<Zeroizing<String>, Failure> {
    let text = std::str::from_utf8(file).map_err(|_| Failure::Format)?;
    // Rails writes no newline, but an editor or `echo` may add one.
    let text = text.trim_end_matches(['\n', '\r']);
    let parts: Vec<&str> = text.split("--").collect();
    let [data, iv, tag] = parts[..] else {
        return Err(Failure::Format);
    };
    let decode = |s: &str| b64().decode(s).map_err(|_| Failure::Format);
    let (mut data, iv, tag) = (decode(data)?, decode(iv)?, decode(tag)?);
    if iv.len() != 12 || tag.len() != 16 {
        return Err(Failure::Format);
    }
    data.extend_from_slice(&tag);
    let cipher = Aes256Gcm::new_from_slice(&key.0[..]).expect("a 32-byte key");
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(&iv),
                Payload {
                    msg: &data,
                    aad: b"",
                },
            )
            .map_err(|_| Failure::Auth)?,
    );
    marshal_load(&plain)
}

/// Which key base of a list opened a file: the first (current) one, or a rotated one.
pub fn decrypt_any(
    keys: &[DerivedKey],
    file: &[u8],
) -> Result<(Zeroizing<String>, usize), Failure> {
    let mut last = Failure::Auth;
    for (i, k) in keys.iter().enumerate() {
        match decrypt(k, file) {
            Ok(text) => return Ok((text, i)),
            // A format error does not depend on the key: no other key can help.
            Err(Failure::Format) => return Err(Failure::Format),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// `Marshal.dump(str)` of a UTF-8 string: `\x04\x08 I " <len> <bytes> \x06 :\x06E T`.
pub fn marshal_dump(s: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(s.len() + 16));
    out.extend_from_slice(&[4, 8, b'I', b'"']);
    marshal_int(&mut out, s.len() as i64);
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(&[6, b':', 6, b'E', b'T']);
    out
}

/// Marshal's integer encoding (`w_long`).
fn marshal_int(out: &mut Vec<u8>, n: i64) {
    if n == 0 {
        out.push(0);
    } else if 0 < n && n < 123 {
        out.push((n + 5) as u8);
    } else if -124 < n && n < 0 {
        out.push(((n - 5) & 0xff) as u8);
    } else {
        let mut bytes = Vec::new();
        let mut x = n;
        for _ in 0..8 {
            bytes.push((x & 0xff) as u8);
            x >>= 8;
            if (n >= 0 && x == 0) || (n < 0 && x == -1) {
                break;
            }
        }
        let count = bytes.len() as i8;
        out.push(if n >= 0 { count as u8 } else { (-count) as u8 });
        out.extend_from_slice(&bytes);
    }
}

/// Reads Marshal's integer at `pos`; returns it and the next position.
fn read_int(b: &[u8], pos: usize) -> Option<(i64, usize)> {
    let c = *b.get(pos)? as i8;
    match c {
        0 => Some((0, pos + 1)),
        5..=127 => Some((c as i64 - 5, pos + 1)),
        -128..=-5 => Some((c as i64 + 5, pos + 1)),
        1..=4 => {
            let n = c as usize;
            let bytes = b.get(pos + 1..pos + 1 + n)?;
            let v = bytes
                .iter()
                .rev()
                .fold(0i64, |acc, &x| (acc << 8) | x as i64);
            Some((v, pos + 1 + n))
        }
        -4..=-1 => {
            let n = (-c) as usize;
            let bytes = b.get(pos + 1..pos + 1 + n)?;
            let mut v: i64 = -1;
            for &x in bytes.iter().rev() {
                v = (v << 8) | x as i64;
            }
            Some((v, pos + 1 + n))
        }
    }
}

/// `Marshal.load` of a string: UTF-8 (`E T`), US-ASCII (`E F`) or binary (no ivar).
pub fn marshal_load(b: &[u8]) -> Result<Zeroizing<String>, Failure> {
    let m = Failure::Marshal;
    if b.get(..2) != Some(&[4, 8]) {
        return Err(m);
    }
    let ivar = b.get(2) == Some(&b'I');
    let start = if ivar { 3 } else { 2 };
    if b.get(start) != Some(&b'"') {
        return Err(m);
    }
    let (len, pos) = read_int(b, start + 1).ok_or(m)?;
    let len = usize::try_from(len).map_err(|_| m)?;
    let end = pos.checked_add(len).ok_or(m)?;
    let bytes = b.get(pos..end).ok_or(m)?;
    let rest = &b[end..];
    let rest_ok = if ivar {
        // One instance variable, `:E` (a symbol, or a symbol link `;\0`), true or false.
        rest == [6, b':', 6, b'E', b'T']
            || rest == [6, b':', 6, b'E', b'F']
            || rest == [6, b';', 0, b'T']
            || rest == [6, b';', 0, b'F']
    } else {
        rest.is_empty()
    };
    if !rest_ok {
        return Err(m);
    }
    let s = std::str::from_utf8(bytes).map_err(|_| Failure::NotUtf8)?;
    Ok(Zeroizing::new(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marshal_round_trips_short_and_long_strings() {
        for s in [
            "",
            "a",
            &"x".repeat(122),
            &"y".repeat(123),
            &"z".repeat(70000),
        ] {
            let d = marshal_dump(s);
            assert_eq!(marshal_load(&d).unwrap().as_str(), s);
        }
        // Ruby: Marshal.dump("abc") == "\x04\bI\"\babc\x06:\x06ET"
        assert_eq!(&marshal_dump("abc")[..], b"\x04\x08I\"\x08abc\x06:\x06ET");
        // 300 bytes: a 2-byte little-endian length.
        assert_eq!(&marshal_dump(&"a".repeat(300))[4..7], &[2, 0x2c, 0x01]);
        // Binary (no ivar) and US-ASCII variants.
        assert_eq!(marshal_load(b"\x04\x08\"\x08abc").unwrap().as_str(), "abc");
        assert_eq!(
            marshal_load(b"\x04\x08I\"\x08abc\x06:\x06EF")
                .unwrap()
                .as_str(),
            "abc"
        );
        assert_eq!(marshal_load(b"\x04\x08i\x06"), Err(Failure::Marshal));
    }

    #[test]
    fn encrypt_then_decrypt_and_a_flipped_tag_fails() {
        let k = derive_key("abc123");
        let f = encrypt_with_iv(&k, "user_name: u\npassword: p\n", &[7; 12]);
        assert_eq!(
            decrypt(&k, f.as_bytes()).unwrap().as_str(),
            "user_name: u\npassword: p\n"
        );
        assert_eq!(
            decrypt(&derive_key("other"), f.as_bytes()).unwrap_err(),
            Failure::Auth
        );
        assert_eq!(decrypt(&k, b"garbage").unwrap_err(), Failure::Format);
        let keys = [derive_key("new"), derive_key("abc123")];
        assert_eq!(decrypt_any(&keys, f.as_bytes()).unwrap().1, 1);
    }
}
