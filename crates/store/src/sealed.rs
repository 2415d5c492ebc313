//! Secrets at rest: AES-256-GCM under the master key (`HANDOFF_MASTER_KEY`).
//!
//! Each value is sealed with a fresh random 96-bit nonce and bound to what it is (the
//! associated data, e.g. `token:hubspot-main`), so a ciphertext copied onto another
//! row or connection fails to open instead of being used as the wrong secret.

use base64::Engine;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

use handoff_config::MasterKey;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("HANDOFF_MASTER_KEY is not set; it is needed to store CRM credentials encrypted (generate one with: openssl rand -base64 32)")]
    NoKey,
    #[error("cannot encrypt: {0}")]
    Seal(&'static str),
    #[error("a stored secret cannot be decrypted: it was sealed under another master key, for another use, or altered")]
    Open,
}

pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([REDACTED])")
    }
}

impl Sealer {
    pub fn new(key: Option<&MasterKey>) -> Result<Self, SealError> {
        let key = key.ok_or(SealError::NoKey)?;
        let unbound = UnboundKey::new(&AES_256_GCM, key.bytes()).map_err(|_| SealError::Seal("bad key length"))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// base64(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, purpose: &str, secret: &SecretString) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Seal("no randomness"))?;
        let mut data = secret.expose_secret().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(purpose.as_bytes()), &mut data)
            .map_err(|_| SealError::Seal("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    pub fn open(&self, purpose: &str, sealed: &str) -> Result<SecretString, SealError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| SealError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data)
            .map_err(|_| SealError::Open)?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| SealError::Open)?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_config::Config;

    fn sealer(key_b64: &str) -> Sealer {
        let env = [("HANDOFF_MASTER_KEY".to_owned(), key_b64.to_owned())];
        let config = Config::load(None, env).unwrap().config;
        Sealer::new(config.secrets.master_key.as_ref()).unwrap()
    }
    const KEY_A: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const KEY_B: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    #[test]
    fn a_sealed_secret_opens_for_the_same_purpose_only() {
        let s = sealer(KEY_A);
        let sealed = s.seal("token:hubspot-main", &SecretString::from("refresh-123")).unwrap();
        assert!(!sealed.contains("refresh-123"));
        assert_eq!(s.open("token:hubspot-main", &sealed).unwrap().expose_secret(), "refresh-123");
        assert!(matches!(s.open("token:other", &sealed), Err(SealError::Open)));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let s = sealer(KEY_A);
        let secret = SecretString::from("same");
        assert_ne!(s.seal("p", &secret).unwrap(), s.seal("p", &secret).unwrap());
    }

    #[test]
    fn another_key_or_a_tampered_value_does_not_open() {
        let sealed = sealer(KEY_A).seal("p", &SecretString::from("x")).unwrap();
        assert!(sealer(KEY_B).open("p", &sealed).is_err());
        let mut tampered = base64::engine::general_purpose::STANDARD.decode(&sealed).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(tampered);
        assert!(sealer(KEY_A).open("p", &tampered).is_err());
        assert!(sealer(KEY_A).open("p", "not base64!").is_err());
    }

    #[test]
    fn without_a_master_key_sealing_is_refused_with_advice() {
        let err = Sealer::new(None).unwrap_err().to_string();
        assert!(err.contains("HANDOFF_MASTER_KEY") && err.contains("openssl rand"), "{err}");
    }
}
