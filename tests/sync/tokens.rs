//! OAuth tokens in the hub: sealed in the database, refreshed once however many callers
//! or processes see them expire. Against the HubSpot sandbox's real token endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, TestDb, spawn_app_with};
use crm_http::TokenProvider;
use crm_hubspot::auth::{OAuth, OAuthConfig};
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::store::sealed::Sealer;
use handoff::sync::adapters::HubspotGrant;
use handoff::sync::poll::poll_once;
use handoff::sync::tokens::{DbTokenProvider, TokenState, stored_token_state};
use sandbox_hubspot as sandbox;
use secrecy::{ExposeSecret, SecretString};

const CONNECTION: &str = "hubspot-oauth";
const REDIRECT: &str = "http://127.0.0.1/oauth/callback";
const TOKEN_ENDPOINT: &str = "POST /oauth/v1/token";

fn oauth_config(sb: &sandbox::Sandbox) -> OAuthConfig {
    OAuthConfig::new(
        sandbox::DEFAULT_CLIENT_ID,
        SecretString::from(sandbox::DEFAULT_CLIENT_SECRET),
        REDIRECT,
    )
    .with_api(&sb.base_url(), &crm_hubspot::ApiPaths::legacy())
    .with_authorize_url(format!("{}/oauth/authorize", sb.base_url()))
}

/// Connects the account as an admin would in a browser, returning the refresh token.
async fn connect_account(sb: &sandbox::Sandbox) -> SecretString {
    let config = oauth_config(sb);
    let request = config.authorize_url(&["oauth", "crm.objects.deals.read"], &[], None).unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(request.url).send().await.unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let set = OAuth::new(config, Duration::from_secs(5))
        .unwrap()
        .exchange_code(&code)
        .await
        .unwrap();
    set.refresh_token.unwrap()
}

async fn start() -> (sandbox::Sandbox, TestApp, SecretString) {
    crm_http::install_crypto_provider();
    // 450 deals: a poll takes three pages, so a token can expire in the middle of one.
    let config = sandbox::Config {
        seed: sandbox::Seed::generate(450, 3),
        rate_limits: sandbox::RateLimits::unlimited(),
        // The consent step approves at once: these tests are about tokens, not the page.
        auto_approve: Some("ava.lindqvist@sandbox.example.com".into()),
        ..sandbox::Config::for_tests()
    };
    let sb = sandbox::start(config).await.unwrap();
    let refresh = connect_account(&sb).await;
    let (base, bootstrap) = (sb.base_url(), refresh.clone());
    let app = spawn_app_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: CONNECTION.into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: base.parse().unwrap(),
                client_id: None,
                auth: HubspotAuth::OAuth {
                    client_id: sandbox::DEFAULT_CLIENT_ID.into(),
                    client_secret: SecretString::from(sandbox::DEFAULT_CLIENT_SECRET),
                    refresh_token: Some(bootstrap),
                },
                client_secret: Some(SecretString::from(sandbox::DEFAULT_CLIENT_SECRET)),
                portal_id: None,
                accept_legacy_signatures: false,
            }),
        }]
    })
    .await;
    (sb, app, refresh)
}

#[tokio::test]
async fn a_token_expiring_in_the_middle_of_a_sync_is_refreshed_once_and_the_sync_completes() {
    let (sb, app, _) = start().await;
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    let before = sb.requests().count(TOKEN_ENDPOINT);
    let faults = sb.faults();
    let mut pages = 0;
    let report = poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {
        pages += 1;
        // Every access token issued so far stops working after the first page.
        if pages == 1 {
            faults.expire_access_tokens();
        }
    })
    .await
    .unwrap();
    assert_eq!(report.records, sb.count(sandbox::ObjectType::Deals));
    // One refresh for the first token (none was stored yet), one after the expiry.
    assert_eq!(sb.requests().count(TOKEN_ENDPOINT) - before, 2);

    let stored = app.store().connection_token(CONNECTION).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert!(
        !stored.sealed.contains("pat-") && stored.sealed.len() > 40,
        "the token is stored sealed"
    );
}

#[tokio::test]
async fn two_processes_seeing_one_expired_token_refresh_it_once() {
    let (sb, app, refresh) = start().await;
    let key = "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=";
    let env = [("HANDOFF_MASTER_KEY".to_owned(), key.to_owned())];
    let config = handoff::config::Config::load(None, env).unwrap().config;
    let sealer = Arc::new(Sealer::new(config.secrets.master_key.as_ref()).unwrap());
    let process = |store: handoff::store::Store| {
        let oauth = OAuth::new(oauth_config(&sb), Duration::from_secs(5)).unwrap();
        Arc::new(DbTokenProvider::new(
            CONNECTION,
            store,
            sealer.clone(),
            Box::new(HubspotGrant(oauth)),
            Some(refresh.clone()),
        ))
    };
    // Two providers on one database stand for two handoff processes.
    let a = process(app.store().clone());
    let b = process(app.store().clone());
    let first = a.token().await.unwrap();
    let before = sb.requests().count(TOKEN_ENDPOINT);

    let (ra, rb) = tokio::join!(a.refresh(&first), b.refresh(&first));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.secret.expose_secret(), rb.secret.expose_secret(), "both use the one new token");
    assert!(!ra.same_as(&first));
    assert_eq!(sb.requests().count(TOKEN_ENDPOINT) - before, 1, "one refresh between them");

    // Many callers in one process: still one refresh.
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (a, rejected) = (a.clone(), ra.clone());
        callers.spawn(async move { a.refresh(&rejected).await.map(|t| t.secret.expose_secret().to_owned()) });
    }
    let fresh: std::collections::HashSet<String> = callers.join_all().await.into_iter().map(Result::unwrap).collect();
    assert_eq!(fresh.len(), 1, "all callers got the same new token");
    assert_eq!(sb.requests().count(TOKEN_ENDPOINT) - before, 2);
}

// ---- a stored token that this master key cannot open ---------------------------------

/// The test harness's key (tests/common) and another one, as after a key rotation.
const KEY_A: &str = "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=";
const KEY_B: &str = "b3RoZXItdGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=";

fn sealer(key: &str) -> Arc<Sealer> {
    let env = [("HANDOFF_MASTER_KEY".to_owned(), key.to_owned())];
    let config = handoff::config::Config::load(None, env).unwrap().config;
    Arc::new(Sealer::new(config.secrets.master_key.as_ref()).unwrap())
}

async fn state(store: &handoff::store::Store, key: &str, connection: &str) -> TokenState {
    stored_token_state(store, &sealer(key), connection).await.unwrap()
}

#[tokio::test]
async fn a_token_sealed_under_another_master_key_is_replaced_where_the_flow_needs_no_person() {
    use crm_salesforce::auth::{ClientCredentials, JwtBearer};
    use handoff::sync::adapters::SalesforceGrant;
    use sandbox_salesforce as sf;
    crm_http::install_crypto_provider();
    let sb = sf::start(sf::Config::for_tests()).await.unwrap();
    let db = TestDb::new().await;
    let store = db.store().await;
    let login = sb.base_url();
    let http = || crm_http::OAuthHttp::new("handoff-test", Duration::from_secs(5)).unwrap();
    let grant = |flow: &str| -> Box<SalesforceGrant> {
        Box::new(match flow {
            "jwt" => SalesforceGrant::Jwt(
                JwtBearer::new(
                    &login,
                    sf::DEFAULT_CLIENT_ID,
                    sf::DEFAULT_USERNAME,
                    &SecretString::from(sf::TEST_JWT_PRIVATE_KEY_PEM),
                )
                .unwrap(),
                http(),
            ),
            _ => SalesforceGrant::ClientCredentials(
                ClientCredentials::new(&login, sf::DEFAULT_CLIENT_ID, &SecretString::from(sf::DEFAULT_CLIENT_SECRET)).unwrap(),
                http(),
            ),
        })
    };
    for flow in ["jwt", "client_credentials"] {
        let provider = |key: &str| DbTokenProvider::new(flow, store.clone(), sealer(key), grant(flow), None);
        let first = provider(KEY_A).token().await.unwrap();
        assert_eq!(store.connection_token(flow).await.unwrap().unwrap().version, 1);
        // The master key changes: the stored token is unreadable, not an error.
        assert_eq!(state(&store, KEY_B, flow).await, TokenState::Unreadable);
        let fresh = provider(KEY_B).token().await.unwrap();
        assert!(!fresh.same_as(&first), "{flow}: a new token, not the old one");
        let row = store.connection_token(flow).await.unwrap().unwrap();
        assert_eq!(row.version, 2, "{flow}: the unreadable row was replaced, not left beside");
        assert_eq!(state(&store, KEY_B, flow).await, TokenState::Readable);
        assert_eq!(state(&store, KEY_A, flow).await, TokenState::Unreadable);
        // A later process with the new key uses the stored token as is.
        let again = provider(KEY_B).token().await.unwrap();
        assert!(again.same_as(&fresh), "{flow}");
    }
}

#[tokio::test]
async fn a_refresh_token_flow_whose_token_is_unreadable_says_to_reconnect_unless_a_refresh_token_is_configured() {
    let (sb, app, refresh) = start().await;
    let store = app.store().clone();
    let provider = |key: &str, configured: Option<SecretString>| {
        let oauth = OAuth::new(oauth_config(&sb), Duration::from_secs(5)).unwrap();
        DbTokenProvider::new(CONNECTION, store.clone(), sealer(key), Box::new(HubspotGrant(oauth)), configured)
    };
    provider(KEY_A, Some(refresh.clone())).token().await.unwrap();
    assert_eq!(state(&store, KEY_B, CONNECTION).await, TokenState::Unreadable);
    // The refresh token was sealed with the access token: without one configured there
    // is no way to a new token but a person reconnecting.
    let before = sb.requests().count(TOKEN_ENDPOINT);
    let err = provider(KEY_B, None).token().await.unwrap_err();
    assert!(matches!(err, crm_http::TokenError::Rejected(_)), "{err}");
    assert!(err.to_string().contains("reconnect the account"), "{err}");
    assert!(err.to_string().contains("master key"), "{err}");
    assert_eq!(sb.requests().count(TOKEN_ENDPOINT), before, "nothing was asked of the CRM");
    assert_eq!(
        store.connection_token(CONNECTION).await.unwrap().unwrap().version,
        1,
        "left as it was"
    );
    // With the refresh token in the configuration, a new token is fetched and stored.
    provider(KEY_B, Some(refresh)).token().await.unwrap();
    assert_eq!(store.connection_token(CONNECTION).await.unwrap().unwrap().version, 2);
    assert_eq!(state(&store, KEY_B, CONNECTION).await, TokenState::Readable);
}

#[tokio::test]
async fn handoff_connections_says_which_unreadable_tokens_renew_and_which_need_reconnecting() {
    let db = TestDb::new().await;
    let store = db.store().await;
    for name in ["sf", "hs"] {
        let sealed = sealer(KEY_A)
            .seal(&format!("token:{name}"), &SecretString::from(r#"{"access_token":"t"}"#.to_owned()))
            .unwrap();
        assert!(store.put_connection_token(name, &sealed, None, None).await.unwrap());
    }
    store.close().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("sf.pem");
    std::fs::write(&key_file, sandbox_salesforce::TEST_JWT_PRIVATE_KEY_PEM).unwrap();
    let org = crm_salesforce::id::to_18("00D000000000001").unwrap();
    let file = dir.path().join("handoff.toml");
    std::fs::write(
        &file,
        format!(
            "[connections.sf]\ncrm = \"salesforce\"\nlogin_url = \"http://127.0.0.1:9\"\nauth = \"jwt_bearer\"\nclient_id = \"c\"\nusername = \"u@example.com\"\norganization_id = \"{org}\"\n\
             [connections.hs]\ncrm = \"hubspot\"\nauth = \"oauth\"\nclient_id = \"c\"\nportal_id = 1\n"
        ),
    )
    .unwrap();
    let run = |key: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HANDOFF_")) {
            cmd.env_remove(k);
        }
        cmd.current_dir(dir.path())
            .args(["--config", file.to_str().unwrap(), "connections"])
            .env("HANDOFF_LOG", "warn")
            .env("HANDOFF_DATABASE_URL", db.url())
            .env("HANDOFF_MASTER_KEY", key)
            .env("HANDOFF_CONNECTION_SF_PRIVATE_KEY_FILE", &key_file)
            .env("HANDOFF_CONNECTION_SF_WEBHOOK_SECRET", "w")
            .env("HANDOFF_CONNECTION_HS_CLIENT_SECRET", "s");
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = run(KEY_B);
    assert!(
        text.contains("sf: the stored token cannot be decrypted with this master key (was HANDOFF_MASTER_KEY changed?); a new one is fetched with the configured credentials on next use"),
        "{text}"
    );
    assert!(
        text.contains("hs: the stored token cannot be decrypted with this master key (was HANDOFF_MASTER_KEY changed?); its refresh token is lost with it: the connection needs reconnecting"),
        "{text}"
    );
    // With the key they were sealed with, nothing to say.
    let text = run(KEY_A);
    assert!(!text.contains("cannot be decrypted"), "{text}");
}
