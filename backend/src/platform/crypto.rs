//! Secrets at rest (integration API keys) and random tokens.
//!
//! Secrets are sealed with XChaCha20-Poly1305 under a key derived from `MAVERICK_SECRET_KEY`;
//! the 24-byte random nonce is stored in front of the ciphertext. Tokens (session cookies) are
//! 256 random bits; only their SHA-256 is stored, so a database leak hands out no live session.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::platform::error::{Error, Result};

const NONCE_LEN: usize = 24;

/// Seals and opens secrets stored in the database.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// Minimum length of `MAVERICK_SECRET_KEY`, so that it carries at least 128 bits even as hex.
    pub const MIN_KEY_CHARS: usize = 32;

    pub fn from_passphrase(secret: &str) -> Result<Self> {
        if secret.trim().len() < Self::MIN_KEY_CHARS {
            return Err(Error::invalid(format!(
                "MAVERICK_SECRET_KEY must be at least {} characters (generate one with `openssl rand -hex 32`)",
                Self::MIN_KEY_CHARS
            )));
        }
        let key = Sha256::new().chain_update(b"maverick secret box v1\0").chain_update(secret.trim()).finalize();
        Ok(SecretBox { cipher: XChaCha20Poly1305::new(&key) })
    }

    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Internal("sealed secret is truncated".into()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| {
            Error::Internal("a stored secret cannot be decrypted: was MAVERICK_SECRET_KEY changed?".into())
        })
    }
}

/// A fresh URL-safe random token with 256 bits of entropy.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_nonces_differ() {
        let b = SecretBox::from_passphrase("0123456789abcdef0123456789abcdef").unwrap();
        let a1 = b.seal(b"bison-api-key");
        let a2 = b.seal(b"bison-api-key");
        assert_ne!(a1, a2, "each seal uses a fresh nonce");
        assert!(!a1.windows(13).any(|w| w == b"bison-api-key"), "plaintext must not appear");
        assert_eq!(b.open(&a1).unwrap(), b"bison-api-key");
    }

    #[test]
    fn wrong_key_or_tampering_is_refused() {
        let b = SecretBox::from_passphrase("0123456789abcdef0123456789abcdef").unwrap();
        let other = SecretBox::from_passphrase("fedcba9876543210fedcba9876543210").unwrap();
        let mut sealed = b.seal(b"secret");
        assert!(other.open(&sealed).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(b.open(&sealed).is_err());
        assert!(b.open(&[1, 2, 3]).is_err());
    }

    #[test]
    fn short_keys_are_rejected_with_a_hint() {
        let err = SecretBox::from_passphrase("short").unwrap_err().to_string();
        assert!(err.contains("openssl rand -hex 32"), "{err}");
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let t1 = random_token();
        assert_eq!(t1.len(), 43);
        assert_ne!(t1, random_token());
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
