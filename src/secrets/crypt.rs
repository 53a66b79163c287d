//! age encryption and decryption of one secret, ASCII-armored, X25519 only.
//!
//! Owns the conversion between plaintext (always in zeroizing buffers) and the armored age
//! file format that the `age` CLI reads and writes, and the classification of decryption
//! failures into "wrong key" and "damaged file".

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
    let mut reader = decryptor.decrypt(identities).map_err(classify)?;
    let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    reader
        .read_to_end(&mut out)
        .map_err(|e| DecryptFailure::Damaged(e.to_string()))?;
    Ok(out)
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
