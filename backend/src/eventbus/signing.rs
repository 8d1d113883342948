//! Standard Webhooks signatures (standard-webhooks `spec/standard-webhooks.md`): the signed
//! content is `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 keyed by the secret's bytes
//! (the base64 after `whsec_`), sent as `v1,<base64>`; several signatures are space-separated,
//! which is how a secret rotates without a gap.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::platform::error::{Error, Result};

pub const SECRET_PREFIX: &str = "whsec_";

/// A new endpoint secret: 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

fn key(secret: &str) -> Result<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(encoded).map_err(|_| Error::Internal("an endpoint secret is not base64".into()))
}

/// One `v1,<signature>` for a message.
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)?).map_err(|e| Error::Internal(e.to_string()))?;
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per live secret (two during a rotation).
pub fn signature_header(secrets: &[String], message_id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let signatures = secrets.iter().map(|s| sign(s, message_id, timestamp, body)).collect::<Result<Vec<_>>>()?;
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_test_vector_signs_as_published() {
        let sig = sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn a_rotation_sends_both_signatures_and_secrets_are_fresh() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && key(&a).unwrap().len() == 32);
        let header = signature_header(&[a.clone(), b.clone()], "msg_1", 10, b"{}").unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts, vec![sign(&a, "msg_1", 10, b"{}").unwrap(), sign(&b, "msg_1", 10, b"{}").unwrap()]);
    }
}
