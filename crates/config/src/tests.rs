use std::io::Write;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn the_defaults_alone_make_a_working_configuration() {
    let loaded = Config::load(None, env(&[])).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8700");
    assert_eq!(c.server.base_url.as_str(), "http://127.0.0.1:8700/");
    assert_eq!(c.database.url.expose_secret(), "sqlite://data/handoff.db");
    assert!(c.secrets.master_key.is_none());
    assert_eq!(c.log.format, LogFormat::Pretty);
}

#[test]
fn a_file_overrides_defaults_and_the_environment_overrides_the_file() {
    let f = file("[server]\nlisten = \"0.0.0.0:9000\"\nbase_url = \"https://onboard.example.com/\"\n[log]\nformat = \"json\"\n");
    let c = Config::load(Some(f.path()), env(&[("HANDOFF_LISTEN", "127.0.0.1:9100")]))
        .unwrap()
        .config;
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:9100");
    assert_eq!(c.server.base_url.as_str(), "https://onboard.example.com/");
    assert_eq!(c.log.format, LogFormat::Json);
}

#[test]
fn unknown_file_keys_and_variables_are_warnings() {
    let f = file("[server]\nlisen = \"0.0.0.0:9000\"\n[colour]\nname = \"red\"\n");
    let loaded = Config::load(Some(f.path()), env(&[("HANDOFF_LISTN", "x"), ("HANDOFF_CONFIG", "y")])).unwrap();
    let w = loaded.warnings.join("\n");
    assert!(w.contains("unknown key `server.lisen`"), "{w}");
    assert!(w.contains("unknown key `colour`"), "{w}");
    assert!(w.contains("HANDOFF_LISTN"), "{w}");
    assert!(!w.contains("HANDOFF_CONFIG"), "{w}");
}

#[test]
fn a_bad_value_names_the_key_and_the_variable_it_came_from() {
    let err = Config::load(None, env(&[("HANDOFF_LISTEN", "localhost")])).unwrap_err().to_string();
    assert!(err.starts_with("invalid value for `server.listen` (from HANDOFF_LISTEN)"), "{err}");
}

#[test]
fn a_bad_value_in_a_file_names_the_key_and_the_file() {
    let f = file("[database]\nmax_connections = \"many\"\n");
    let err = Config::load(Some(f.path()), env(&[])).unwrap_err().to_string();
    assert!(err.contains("`database.max_connections`"), "{err}");
    assert!(err.contains(&f.path().display().to_string()), "{err}");
}

#[test]
fn a_broken_file_is_a_syntax_error_naming_the_file() {
    let f = file("[server\n");
    let err = Config::load(Some(f.path()), env(&[])).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
}

#[test]
fn a_missing_file_says_so() {
    let err = Config::load(Some(Path::new("/nonexistent/handoff.toml")), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read /nonexistent/handoff.toml"), "{err}");
}

#[test]
fn the_master_key_must_be_32_bytes_of_base64_and_is_never_printed() {
    let err = Config::load(None, env(&[("HANDOFF_MASTER_KEY", "c2hvcnQ=")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("32 bytes, not 5"), "{err}");
    assert!(!err.contains("c2hvcnQ"), "{err}");

    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let c = Config::load(None, env(&[("HANDOFF_MASTER_KEY", key)])).unwrap().config;
    assert_eq!(c.secrets.master_key.as_ref().unwrap().bytes(), b"0123456789abcdef0123456789abcdef");
    assert!(!format!("{c:?}").contains(key));
}

#[test]
fn secrets_can_come_from_files() {
    let f = file("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n");
    let path = f.path().display().to_string();
    let c = Config::load(None, env(&[("HANDOFF_MASTER_KEY_FILE", &path)])).unwrap().config;
    assert!(c.secrets.master_key.is_some());
}

#[test]
fn secrets_print_redacted() {
    let c = Config::load(
        None,
        env(&[
            ("HANDOFF_SMTP_URL", "smtp://me:hunter2@mail.example.com:587"),
            ("HANDOFF_DATABASE_URL", "postgres://u:s3cret@db/handoff"),
        ]),
    )
    .unwrap()
    .config;
    let shown = format!("{c:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("s3cret"), "{shown}");
}

#[test]
fn other_bad_values_are_refused() {
    for (var, value, key) in [
        ("HANDOFF_DATABASE_URL", "mysql://x", "database.url"),
        ("HANDOFF_BASE_URL", "ftp://x", "server.base_url"),
        ("HANDOFF_SMTP_URL", "not a url", "smtp.url"),
        ("HANDOFF_LOG_FORMAT", "xml", "log.format"),
        ("HANDOFF_LOG", "[[[", "log.filter"),
    ] {
        let err = Config::load(None, env(&[(var, value)])).unwrap_err().to_string();
        assert!(err.contains(&format!("`{key}` (from {var})")), "{var}={value}: {err}");
    }
}

#[test]
fn connections_are_read_with_secrets_from_the_environment() {
    let f = file(
        "[connections.hubspot-main]\ncrm = \"hubspot\"\nbase_url = \"http://127.0.0.1:8702\"\nportal_id = 42\n\
         [connections.sf]\ncrm = \"salesforce\"\nclient_id = \"cid\"\nusername = \"admin@sandbox.example.com\"\n\
         organization_id = \"00D000000000001EAA\"\nlogin_url = \"http://127.0.0.1:8701\"\n",
    );
    let key = file("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
    let key_path = key.path().display().to_string();
    let env = env(&[
        ("HANDOFF_CONNECTION_HUBSPOT_MAIN_PRIVATE_APP_TOKEN", "pat-sandbox-handoff"),
        ("HANDOFF_CONNECTION_HUBSPOT_MAIN_CLIENT_SECRET", "handoff-sandbox-secret"),
        ("HANDOFF_CONNECTION_SF_PRIVATE_KEY_FILE", &key_path),
        ("HANDOFF_CONNECTION_SF_WEBHOOK_SECRET", "s3cret-path"),
    ]);
    let loaded = Config::load(Some(f.path()), env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.connections.len(), 2);
    let hs = c.connection("hubspot-main").unwrap();
    let connections::CrmSettings::Hubspot(h) = &hs.crm else {
        panic!("not hubspot")
    };
    assert_eq!(h.portal_id, Some(42));
    assert!(matches!(&h.auth, connections::HubspotAuth::PrivateApp { token } if token.expose_secret() == "pat-sandbox-handoff"));
    let sf = c.connection("sf").unwrap();
    let connections::CrmSettings::Salesforce(s) = &sf.crm else {
        panic!("not salesforce")
    };
    assert!(
        matches!(&s.auth, connections::SalesforceAuth::JwtBearer { private_key, .. } if private_key.expose_secret().starts_with("-----BEGIN"))
    );
    let shown = format!("{c:?}");
    assert!(!shown.contains("pat-sandbox-handoff") && !shown.contains("s3cret-path"), "{shown}");
}

#[test]
fn a_connection_missing_a_secret_says_which_variable_to_set() {
    let f = file("[connections.hubspot-main]\ncrm = \"hubspot\"\n");
    let err = Config::load(Some(f.path()), env(&[])).unwrap_err().to_string();
    assert!(err.contains("`connections.hubspot-main.private_app_token`"), "{err}");
    assert!(err.contains("HANDOFF_CONNECTION_HUBSPOT_MAIN_PRIVATE_APP_TOKEN"), "{err}");
}

#[test]
fn a_connection_of_an_unknown_crm_is_refused() {
    let f = file("[connections.pd]\ncrm = \"pipedrive\"\n");
    let err = Config::load(Some(f.path()), env(&[])).unwrap_err().to_string();
    assert!(err.contains("`connections.pd.crm`") && err.contains("pipedrive"), "{err}");
}

#[test]
fn an_org_id_with_a_bad_checksum_is_refused() {
    let f = file(
        "[connections.sf]\ncrm = \"salesforce\"\nauth = \"client_credentials\"\nclient_id = \"c\"\nclient_secret = \"s\"\nwebhook_secret = \"w\"\n\
         organization_id = \"00D000000000001AAA\"\n",
    );
    let err = Config::load(Some(f.path()), env(&[])).unwrap_err().to_string();
    assert!(err.contains("`connections.sf.organization_id`"), "{err}");
}
