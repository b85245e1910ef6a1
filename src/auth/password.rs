//! Passwords: argon2id hashes in PHC string format (OWASP's parameters: 19 MiB,
//! 2 passes), checked on a blocking thread so a sign-in never stalls the server.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (hashing is deliberately slow; unbounded input is not).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Why a password or username cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

/// Checks a new password's length.
pub fn check_new_password(password: &str) -> Result<(), Rejected> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(Rejected(format!(
            "the password is too short: use at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Rejected(format!(
            "the password is too long: at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    Ok(())
}

/// Usernames: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_username(username: &str) -> Result<(), Rejected> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if username.is_empty() || username.len() > 64 || !username.chars().all(ok_char) {
        return Err(Rejected(format!(
            "`{}` is not a valid username: use 1 to 64 letters, digits, `.`, `_`, `-` or `@`",
            username.escape_debug()
        )));
    }
    Ok(())
}

/// The argon2id hash of `password` with a fresh random salt.
pub async fn hash(password: &str) -> String {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .expect("password hashing does not panic")
}

fn hash_now(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password and salt")
        .to_string()
}

/// Whether `password` matches `phc_hash`. With no stored hash (unknown username) a
/// dummy hash is checked anyway, so the answer takes as long either way.
pub async fn verify(password: &str, phc_hash: Option<String>) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let known = phc_hash.is_some();
        let stored = phc_hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let matches = PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && matches
    })
    .await
    .unwrap_or(false)
}

static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_now("not a password anybody has"));

/// A random password of 20 letters and digits (about 119 bits), for generated accounts.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let a = hash("correct horse").await;
        let b = hash("correct horse").await;
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse", Some(a.clone())).await);
        assert!(!verify("correct horse!", Some(a)).await);
        assert!(!verify("not a password anybody has", None).await);
        assert!(!verify("x", Some("not a phc string".into())).await);
    }

    #[test]
    fn passwords_and_usernames_are_checked() {
        assert!(check_new_password("1234567").is_err());
        assert!(check_new_password("12345678").is_ok());
        assert!(check_new_password(&"x".repeat(1025)).is_err());
        assert!(check_username("ops.admin@acme").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username(&"a".repeat(65)).is_err());
        assert_eq!(generate().len(), 20);
        assert_ne!(generate(), generate());
    }
}
