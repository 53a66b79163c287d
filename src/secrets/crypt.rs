//! age encryption and decryption of one secret, ASCII-armored, X25519 only.
//!
//! Owns the conversion between plaintext (always in zeroizing buffers) and the armored age
//! file format that the `age` CLI reads and writes, and the classification of decryption
//! failures into "wrong key" and "damaged file": a header that does not parse, a header MAC
//! that fails, a truncated payload, and a header without any well-formed X25519 recipient
//! stanza (toolctl writes one for every recipient) are "damaged". A well-formed X25519
//! stanza that no identity opens is "wrong key": a bit flip inside its share or wrapped key
//! looks exactly the same, and age cannot tell them apart, so the message says so.

use std::io::{Read, Write};

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::x25519;
use zeroize::Zeroizing;

/// Plaintext secret content; wiped from memory when dropped.
pub type Plaintext = Zeroizing<Vec<u8>>;

/// Encrypts `plaintext` to every recipient, armored.
pub fn encrypt(plaintext: &[u8], recipients: &[x25519::Recipient]) -> std::io::Result<Vec<u8>> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(std::io::Error::other)?;
    let armored = ArmoredWriter::wrap_output(Vec::new(), Format::AsciiArmor)?;
    let mut writer = encryptor.wrap_output(armored)?;
    writer.write_all(plaintext)?;
    writer.finish()?.finish()
}

/// Why a file did not decrypt.
#[derive(Debug)]
pub enum DecryptFailure {
    /// The file is intact but was encrypted for other recipients.
    WrongKey,
    /// The file is not a complete age file (truncated, edited, not age at all).
    Damaged(String),
}

/// Decrypts an age file, armored or binary.
pub fn decrypt<'a>(
    ciphertext: &[u8],
    identities: impl Iterator<Item = &'a dyn age::Identity>,
) -> Result<Plaintext, DecryptFailure> {
    let decryptor =
        age::Decryptor::new_buffered(ArmoredReader::new(ciphertext)).map_err(classify)?;
    let mut reader = decryptor
        .decrypt(identities)
        .map_err(|e| match classify(e) {
            DecryptFailure::WrongKey if !has_x25519_stanza(ciphertext) => DecryptFailure::Damaged(
                "its header holds no well-formed X25519 recipient stanza (damaged, or encrypted \
             to a passphrase or an SSH key rather than an age key)"
                    .into(),
            ),
            other => other,
        })?;
    let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    reader
        .read_to_end(&mut out)
        .map_err(|e| DecryptFailure::Damaged(e.to_string()))?;
    Ok(out)
}

/// Whether the header lists at least one well-formed X25519 stanza: tag `X25519`, one
/// argument of 43 base64 characters (a 32-byte share), a body of one 43-character line (the
/// 32-byte wrapped file key), as the age spec requires.
fn has_x25519_stanza(ciphertext: &[u8]) -> bool {
    // The header is at the start of the de-armored stream; 64 KiB holds any sane header.
    let mut head = Vec::new();
    if (&mut ArmoredReader::new(ciphertext))
        .take(64 * 1024)
        .read_to_end(&mut head)
        .is_err()
    {
        return false;
    }
    let b64 = |s: &[u8]| {
        s.len() == 43
            && s.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
    };
    let mut lines = head.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if line.starts_with(b"---") {
            break;
        }
        let Some(stanza) = line.strip_prefix(b"-> ") else {
            continue;
        };
        let args: Vec<&[u8]> = stanza.split(|b| *b == b' ').collect();
        if let [b"X25519", share] = args.as_slice() {
            if b64(share) && lines.peek().is_some_and(|body| b64(body)) {
                return true;
            }
        }
    }
    false
}

fn classify(e: age::DecryptError) -> DecryptFailure {
    match e {
        age::DecryptError::NoMatchingKeys => DecryptFailure::WrongKey,
        other => DecryptFailure::Damaged(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let id = x25519::Identity::generate();
        let other = x25519::Identity::generate();
        let ct = encrypt(b"password: 'x'\n", &[id.to_public()]).unwrap();
        assert!(ct.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
        let pt = decrypt(&ct, std::iter::once(&id as &dyn age::Identity)).unwrap();
        assert_eq!(&pt[..], b"password: 'x'\n");
        assert!(matches!(
            decrypt(&ct, std::iter::once(&other as &dyn age::Identity)),
            Err(DecryptFailure::WrongKey)
        ));
        assert!(matches!(
            decrypt(
                &ct[..ct.len() / 2],
                std::iter::once(&id as &dyn age::Identity)
            ),
            Err(DecryptFailure::Damaged(_))
        ));
    }
}
