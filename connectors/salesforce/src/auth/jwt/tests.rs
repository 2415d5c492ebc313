use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

use super::*;

const PKCS8: &str = include_str!("../../../tests/fixtures/jwt_test_key.pem");
const PKCS1: &str = include_str!("../../../tests/fixtures/jwt_test_key_pkcs1.pem");

fn flow() -> JwtBearer {
    JwtBearer::new(
        "https://login.salesforce.com/",
        "3MVG9consumer",
        "ops@acme.test",
        &SecretString::from(PKCS8),
    )
    .unwrap()
}

fn decode_part(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn the_assertion_carries_the_documented_header_and_claims() {
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let assertion = flow().assertion(now).unwrap();
    let parts: Vec<&str> = assertion.expose_secret().split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(decode_part(parts[0]), serde_json::json!({"alg": "RS256"}));
    let claims = decode_part(parts[1]);
    assert_eq!(claims["iss"], "3MVG9consumer");
    assert_eq!(claims["sub"], "ops@acme.test");
    assert_eq!(claims["aud"], "https://login.salesforce.com");
    let exp = claims["exp"].as_u64().unwrap();
    assert!(exp > 1_800_000_000 && exp <= 1_800_000_000 + 180, "exp within 3 minutes: {exp}");
}

#[test]
fn the_signature_verifies_with_the_public_key() {
    let flow = flow();
    let assertion = flow.assertion(SystemTime::now()).unwrap();
    let (signing_input, signature) = assertion.expose_secret().rsplit_once('.').unwrap();
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, flow.key.public().as_ref().to_vec());
    public
        .verify(signing_input.as_bytes(), &URL_SAFE_NO_PAD.decode(signature).unwrap())
        .unwrap();
}

#[test]
fn pkcs1_keys_work_and_the_audience_can_be_changed() {
    let flow = JwtBearer::new("https://acme.my.salesforce.com", "id", "u", &SecretString::from(PKCS1))
        .unwrap()
        .audience("https://test.salesforce.com");
    let assertion = flow.assertion(SystemTime::now()).unwrap();
    let claims = decode_part(assertion.expose_secret().split('.').nth(1).unwrap());
    assert_eq!(claims["aud"], "https://test.salesforce.com");
    assert_eq!(flow.login_url(), "https://acme.my.salesforce.com");
}

#[test]
fn unusable_keys_are_refused_with_a_reason() {
    let bad = |pem: &str| JwtBearer::new("https://login.salesforce.com", "id", "u", &SecretString::from(pem.to_owned())).unwrap_err();
    assert!(matches!(bad("not a key"), AuthError::InvalidKey(_)));
    assert!(matches!(
        bad("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----"),
        AuthError::InvalidKey(_)
    ));
    assert!(matches!(
        bad("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
        AuthError::InvalidKey(_)
    ));
    assert!(matches!(
        bad("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----"),
        AuthError::InvalidKey(_)
    ));
    assert!(matches!(
        bad("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
        AuthError::InvalidKey(_)
    ));
    assert!(matches!(bad("-----BEGIN PRIVATE KEY-----\nAAAA"), AuthError::InvalidKey(_)));
}

#[test]
fn the_key_stays_out_of_debug_output() {
    let debug = format!("{:?}", flow());
    assert!(debug.contains("[REDACTED]") && debug.contains("3MVG9consumer"));
}

#[test]
fn a_login_url_that_is_not_http_is_refused() {
    let err = JwtBearer::new("ftp://login", "id", "u", &SecretString::from(PKCS8)).unwrap_err();
    assert!(matches!(err, AuthError::InvalidConfig(_)));
}
