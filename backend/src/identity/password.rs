//! Password hashing: argon2id (the crate's defaults: m=19 MiB, t=2, p=1), run on the blocking
//! pool so a login never stalls the async runtime.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::platform::error::{Error, Result};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

/// Checks a new password against the policy; the message says what to fix.
pub fn validate_new(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(Error::invalid(format!("The password must be at least {MIN_LEN} characters long.")));
    }
    if chars > MAX_LEN {
        return Err(Error::invalid(format!("The password must be at most {MAX_LEN} characters long.")));
    }
    if password.trim().is_empty() {
        return Err(Error::invalid("The password cannot be only spaces."));
    }
    Ok(())
}

pub async fn hash(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
}

/// Verifies `password` against a stored PHC string. A malformed hash verifies as false.
pub async fn verify(password: &str, phc: &str) -> Result<bool> {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await
    .map_err(|e| Error::Internal(format!("password verification task failed: {e}")))
}

/// A valid hash of a password nobody knows: verifying against it when the account does not
/// exist keeps the response time the same, so timing does not reveal which emails are registered.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(crate::platform::crypto::random_token().as_bytes(), &salt)
            .expect("hashing a random token cannot fail")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let h1 = hash("correct horse battery").await.unwrap();
        let h2 = hash("correct horse battery").await.unwrap();
        assert!(h1.starts_with("$argon2id$v=19$"), "{h1}");
        assert_ne!(h1, h2, "salts differ");
        assert!(verify("correct horse battery", &h1).await.unwrap());
        assert!(!verify("correct horse batterY", &h1).await.unwrap());
        assert!(!verify("anything", "not-a-phc-string").await.unwrap());
    }

    #[test]
    fn policy_messages_say_what_to_fix() {
        assert!(validate_new("short").unwrap_err().to_string().contains("at least 10"));
        assert!(validate_new(&"x".repeat(257)).unwrap_err().to_string().contains("at most 256"));
        assert!(validate_new("          ").is_err());
        assert!(validate_new("ten chars!").is_ok());
    }
}
