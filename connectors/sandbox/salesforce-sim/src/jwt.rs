//! JWT bearer assertions (Salesforce Help: "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration"): RS256 verified with ring against a PEM public key
//! (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`, parsed here), claims checked as Salesforce does.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the assertion is not a JWT")]
    Malformed,
    #[error("only RS256 is supported")]
    Algorithm,
    #[error("the signature does not verify")]
    Signature,
    #[error("the assertion has expired")]
    Expired,
    #[error("the audience is not accepted")]
    Audience,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub aud: Audience,
    pub exp: i64,
}

/// `aud` may be one string or a list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn matches(&self, accepted: &[String]) -> bool {
        let ok = |a: &str| accepted.iter().any(|x| x.trim_end_matches('/') == a.trim_end_matches('/'));
        match self {
            Audience::None => false,
            Audience::One(a) => ok(a),
            Audience::Many(v) => v.iter().any(|a| ok(a)),
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Verifies assertions against one RSA public key.
#[derive(Debug, Clone)]
pub struct Verifier {
    pkcs1: Vec<u8>,
}

impl Verifier {
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let (label, der) = pem_decode(pem)?;
        let pkcs1 = match label.as_str() {
            "RSA PUBLIC KEY" => der,
            "PUBLIC KEY" => spki_to_pkcs1(&der).ok_or("not an RSA SubjectPublicKeyInfo")?,
            other => return Err(format!("unsupported PEM block {other:?}")),
        };
        Ok(Self { pkcs1 })
    }

    /// Checks signature, `exp` (against `now_secs`) and `aud`; the caller checks `iss` and `sub`.
    pub fn verify(&self, assertion: &str, now_secs: i64, audiences: &[String]) -> Result<Claims, JwtError> {
        let mut parts = assertion.trim().split('.');
        let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(JwtError::Malformed);
        };
        let header: Header = decode_json(h)?;
        if header.alg != "RS256" {
            return Err(JwtError::Algorithm);
        }
        let sig = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|_| JwtError::Malformed)?;
        let signed = &assertion.trim()[..h.len() + 1 + c.len()];
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.pkcs1)
            .verify(signed.as_bytes(), &sig)
            .map_err(|_| JwtError::Signature)?;
        let claims: Claims = decode_json(c)?;
        if claims.exp <= now_secs {
            return Err(JwtError::Expired);
        }
        if !claims.aud.matches(audiences) {
            return Err(JwtError::Audience);
        }
        Ok(claims)
    }
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// The label and DER content of the first PEM block.
fn pem_decode(pem: &str) -> Result<(String, Vec<u8>), String> {
    let mut label = None;
    let mut body = String::new();
    for line in pem.lines().map(str::trim) {
        if let Some(l) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) {
            label = Some(l.to_string());
        } else if line.starts_with("-----END ") {
            break;
        } else if label.is_some() {
            body.push_str(line);
        }
    }
    let label = label.ok_or("no PEM block")?;
    let der = STANDARD.decode(body).map_err(|e| format!("bad base64 in PEM: {e}"))?;
    Ok((label, der))
}

/// One DER element: (tag, content, rest).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }.
fn spki_to_pkcs1(der: &[u8]) -> Option<Vec<u8>> {
    const RSA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let (0x30, spki, _) = tlv(der)? else { return None };
    let (0x30, alg, rest) = tlv(spki)? else { return None };
    let (0x06, oid, _) = tlv(alg)? else { return None };
    if oid != RSA_OID {
        return None;
    }
    let (0x03, bits, _) = tlv(rest)? else { return None };
    let (&0, key) = bits.split_first()? else { return None };
    Some(key.to_vec())
}

/// Signs an RS256 assertion with a PKCS#8 PEM private key: for tests and demos against the
/// sandbox (the shipped key is `TEST_JWT_PRIVATE_KEY_PEM`).
pub fn sign_assertion(private_pkcs8_pem: &str, iss: &str, sub: &str, aud: &str, exp: i64) -> Result<String, String> {
    let (label, der) = pem_decode(private_pkcs8_pem)?;
    if label != "PRIVATE KEY" {
        return Err(format!("expected a PKCS#8 PRIVATE KEY, got {label:?}"));
    }
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| e.to_string())?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let claims = serde_json::json!({"iss": iss, "sub": sub, "aud": aud, "exp": exp});
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let mut sig = vec![0; key.public().modulus_len()];
    let rng = ring::rand::SystemRandom::new();
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, signing_input.as_bytes(), &mut sig)
        .map_err(|e| e.to_string())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{TEST_JWT_PRIVATE_KEY_PEM, TEST_JWT_PUBLIC_KEY_PEM};

    fn aud() -> Vec<String> {
        vec!["https://login.salesforce.com".into()]
    }

    #[test]
    fn a_signed_assertion_verifies_and_a_tampered_one_does_not() {
        let v = Verifier::from_pem(TEST_JWT_PUBLIC_KEY_PEM).unwrap();
        let jwt = sign_assertion(TEST_JWT_PRIVATE_KEY_PEM, "cid", "u@x.com", "https://login.salesforce.com", 2_000).unwrap();
        let claims = v.verify(&jwt, 1_000, &aud()).unwrap();
        assert_eq!((claims.iss.as_str(), claims.sub.as_str()), ("cid", "u@x.com"));
        assert_eq!(v.verify(&jwt, 3_000, &aud()).unwrap_err(), JwtError::Expired);
        let mut tampered = jwt.clone();
        tampered.insert(jwt.find('.').unwrap() + 2, 'x');
        assert!(v.verify(&tampered, 1_000, &aud()).is_err());
        assert_eq!(v.verify("a.b", 1_000, &aud()).unwrap_err(), JwtError::Malformed);
    }

    #[test]
    fn pkcs1_public_keys_are_accepted_too() {
        let (_, der) = pem_decode(TEST_JWT_PUBLIC_KEY_PEM).unwrap();
        let pkcs1 = spki_to_pkcs1(&der).unwrap();
        let pem = format!(
            "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
            STANDARD.encode(pkcs1)
        );
        let v = Verifier::from_pem(&pem).unwrap();
        let jwt = sign_assertion(TEST_JWT_PRIVATE_KEY_PEM, "a", "b", "https://login.salesforce.com", 2_000).unwrap();
        assert!(v.verify(&jwt, 1_000, &aud()).is_ok());
        assert!(Verifier::from_pem("garbage").is_err());
    }
}
