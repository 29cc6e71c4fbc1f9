//! Tests of the configuration loader: sources, precedence, unknown keys, bad
//! values, validation rules and the shipped example configuration.

use std::io::Write as _;
use std::path::PathBuf;

use super::*;
use crate::config::keys::ConfigKey;
use crate::config::{LogFormat, Role};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn ovr(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn with_file(text: &str) -> Result<Config, ConfigError> {
    let f = file(text);
    load(Some(f.path()), &[], &[])
}

fn with_overrides(items: &[&str]) -> Result<Config, ConfigError> {
    load(None, &[], &ovr(items))
}

/// The error message of a load that must fail.
fn error_of(result: Result<Config, ConfigError>) -> String {
    match result {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_error(result: Result<Config, ConfigError>, expected: &[&str]) {
    let message = error_of(result);
    for part in expected {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
}

// ---- sources and precedence -------------------------------------------------

#[test]
fn nothing_given_is_the_default() {
    assert_eq!(load(None, &[], &[]).unwrap(), Config::default());
}

#[test]
fn file_is_merged_over_the_defaults() {
    let config = with_file(
        r#"
        [limits]
        max_line_bytes = 4096

        [listeners.ns]
        bind = "0.0.0.0:1863"
        advertise = "msn.example.com:1863"
        "#,
    )
    .unwrap();
    let mut expected = Config::default();
    expected.limits.max_line_bytes = 4096;
    let ns = expected.listeners.get_mut("ns").unwrap();
    ns.bind = "0.0.0.0:1863".into();
    ns.advertise = Some("msn.example.com:1863".into());
    assert_eq!(config, expected);
}

#[test]
fn file_adds_and_disables_listeners() {
    let config = with_file(
        r#"
        [listeners.ds]
        role = "dispatch"
        bind = "127.0.0.1:1870"
        target = "ns"

        [listeners.admin]
        enabled = false
        "#,
    )
    .unwrap();
    let ds = &config.listeners["ds"];
    assert_eq!(ds.role, Role::Dispatch);
    assert_eq!(ds.target.as_deref(), Some("ns"));
    assert_eq!(ds.tls, TlsMode::None);
    assert!(ds.enabled);
    assert!(!config.listeners["admin"].enabled);
    assert_eq!(config.listeners["admin"].role, Role::Admin);
    assert_eq!(config.listeners.len(), 5);
}

#[test]
fn env_variables_map_to_keys() {
    let config = load(
        None,
        &env(&[
            ("MSNPD__STORE__URL", "postgres://msnpd@db/msnpd"),
            ("MSNPD__LISTENERS__NS__BIND", "0.0.0.0:1863"),
            ("MSNPD__LIMITS__MAX_LINE_BYTES", "4096"),
            ("MSNPD__AUTH__MD5_DIALECTS", "false"),
            ("MSNPD__LOG__FORMAT", "json"),
            ("MSNPD__Protocol__Max_Dialect", "8"),
            // Not ours: ignored.
            ("MSNPD_TEST_POSTGRES_URL", "postgres://x"),
            ("PATH", "/usr/bin"),
            ("msnpd__store__url", "ignored"),
        ]),
        &[],
    )
    .unwrap();
    assert_eq!(config.store.url, "postgres://msnpd@db/msnpd");
    assert_eq!(config.listeners["ns"].bind, "0.0.0.0:1863");
    assert_eq!(config.limits.max_line_bytes, 4096);
    assert!(!config.auth.md5_dialects);
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.protocol.max_dialect, 8);
}

#[test]
fn overrides_set_keys() {
    let config = with_overrides(&[
        "limits.outbox_lines=16",
        "protocol.challenges=true",
        "log.level=debug",
        "listeners.sb.bind=127.0.0.1:0",
        "listeners.sb2={ role = \"switchboard\", bind = \"127.0.0.1:0\" }",
    ])
    .unwrap();
    assert_eq!(config.limits.outbox_lines, 16);
    assert!(config.protocol.challenges);
    assert_eq!(config.log.level, "debug");
    assert_eq!(config.listeners["sb"].bind, "127.0.0.1:0");
    assert_eq!(config.listeners["sb2"].role, Role::Switchboard);
}

#[test]
fn string_keys_take_the_raw_text() {
    let secret = "12345678901234567890123456789012";
    let config = load(
        None,
        &env(&[(
            "MSNPD__AUTH__TICKET_SECRET",
            "true_but_long_enough_to_be_a_secret",
        )]),
        &ovr(&[&format!("auth.ticket_secret={secret}")]),
    )
    .unwrap();
    assert_eq!(config.auth.ticket_secret, secret);
    let config = with_overrides(&["auth.ticket_secret=", "log.level=info,msnpd=debug"]).unwrap();
    assert_eq!(config.auth.ticket_secret, "");
    assert_eq!(config.log.level, "info,msnpd=debug");
    // A new listener's string fields too (from the listener template).
    let config = with_overrides(&[
        "listeners.extra.role=switchboard",
        "listeners.extra.bind=127.0.0.1:0",
        "listeners.extra.advertise=10.0.0.1:1864",
    ])
    .unwrap();
    assert_eq!(
        config.listeners["extra"].advertise.as_deref(),
        Some("10.0.0.1:1864")
    );
}

#[test]
fn precedence_is_file_then_env_then_overrides() {
    let f =
        file("[limits]\noutbox_lines = 10\nidle_timeout_secs = 10\npreauth_timeout_secs = 10\n");
    let config = load(
        Some(f.path()),
        &env(&[
            ("MSNPD__LIMITS__IDLE_TIMEOUT_SECS", "20"),
            ("MSNPD__LIMITS__PREAUTH_TIMEOUT_SECS", "20"),
            ("MSNPD__PROTOCOL__PING_INTERVAL_SECS", "5"),
        ]),
        &ovr(&["limits.preauth_timeout_secs=30"]),
    )
    .unwrap();
    assert_eq!(config.limits.outbox_lines, 10);
    assert_eq!(config.limits.idle_timeout_secs, 20);
    assert_eq!(config.limits.preauth_timeout_secs, 30);
    // Later overrides win over earlier ones.
    let config = with_overrides(&["limits.outbox_lines=1", "limits.outbox_lines=2"]).unwrap();
    assert_eq!(config.limits.outbox_lines, 2);
}

#[test]
fn load_from_process_applies_overrides() {
    let config = load_from_process(None, &ovr(&["limits.max_switchboard_users=3"])).unwrap();
    assert_eq!(config.limits.max_switchboard_users, 3);
}

// ---- unknown keys and bad values ---------------------------------------------

#[test]
fn unknown_keys_are_named_with_their_source() {
    let f = file("[limits]\nmax_lin_bytes = 10\n");
    let message = error_of(load(Some(f.path()), &[], &[]));
    assert!(
        message.contains("unknown key `limits.max_lin_bytes`"),
        "{message}"
    );
    assert!(
        message.contains(&f.path().display().to_string()),
        "{message}"
    );

    assert_error(
        load(None, &env(&[("MSNPD__LIMITS__MAX_LIN_BYTES", "10")]), &[]),
        &[
            "unknown key `limits.max_lin_bytes`",
            "MSNPD__LIMITS__MAX_LIN_BYTES",
        ],
    );
    assert_error(
        with_overrides(&["limits.max_lin_bytes=10"]),
        &[
            "unknown key `limits.max_lin_bytes`",
            "-O limits.max_lin_bytes=10",
        ],
    );
    assert_error(with_overrides(&["nosuch.key=1"]), &["unknown key `nosuch`"]);
    assert_error(
        with_overrides(&["listeners.ns.bnd=127.0.0.1:1"]),
        &["unknown key `listeners.ns.bnd`"],
    );
    assert_error(
        with_overrides(&["listeners.x={ role = \"http\", bind = \"127.0.0.1:0\", colour = 1 }"]),
        &["unknown key `listeners.x.colour`"],
    );
    assert_error(
        with_overrides(&["store.url.x=1"]),
        &["unknown key `store.url.x`"],
    );
    assert_error(with_file("verbose = true\n"), &["unknown key `verbose`"]);
}

#[test]
fn bad_values_are_named() {
    assert_error(
        with_overrides(&["limits.max_line_bytes=abc"]),
        &[
            "invalid value for `limits.max_line_bytes`",
            "-O limits.max_line_bytes=abc",
        ],
    );
    assert_error(
        load(None, &env(&[("MSNPD__LIMITS__OUTBOX_LINES", "-1")]), &[]),
        &[
            "invalid value for `limits.outbox_lines`",
            "MSNPD__LIMITS__OUTBOX_LINES",
        ],
    );
    assert_error(
        with_overrides(&["protocol.min_dialect=300"]),
        &["invalid value for `protocol.min_dialect`"],
    );
    assert_error(
        with_overrides(&["log.format=xml"]),
        &["invalid value for `log.format`", "xml"],
    );
    // One problem, one line.
    assert_eq!(
        error_of(with_overrides(&["log.format=xml"]))
            .lines()
            .count(),
        1
    );
    assert_error(
        with_overrides(&["listeners.ns.role=bogus"]),
        &["invalid value for `listeners.ns.role`"],
    );
    assert_error(
        with_overrides(&["auth.md5_dialects=yes"]),
        &["invalid value for `auth.md5_dialects`"],
    );
    assert_error(
        with_overrides(&["listeners.extra.bind=127.0.0.1:0"]),
        &[
            "invalid value for `listeners.extra`",
            "missing field `role`",
            "-O listeners.extra.bind",
        ],
    );
    assert_error(
        with_file("[store]\nmax_connections = \"8\"\n"),
        &["invalid value for `store.max_connections`"],
    );
}

#[test]
fn malformed_sources() {
    for bad in ["limits.max_line_bytes", "=5", "limits..x=1", ".x=1", "x.=1"] {
        assert_error(with_overrides(&[bad]), &["bad override", bad]);
    }
    assert_error(
        load(None, &env(&[("MSNPD__STORE____URL", "x")]), &[]),
        &["MSNPD__STORE____URL"],
    );
    assert_error(load(None, &env(&[("MSNPD__", "x")]), &[]), &["MSNPD__"]);
    assert_error(with_file("[limits\n"), &["cannot parse"]);
    let missing = PathBuf::from("/nonexistent/msnpd.toml");
    match load(Some(&missing), &[], &[]) {
        Err(ConfigError::Read { path, .. }) => assert_eq!(path, "/nonexistent/msnpd.toml"),
        other => panic!("{other:?}"),
    }
}

// ---- validation ----------------------------------------------------------------

#[test]
fn dialect_range() {
    assert!(with_overrides(&["protocol.min_dialect=8", "protocol.max_dialect=8"]).is_ok());
    assert!(with_overrides(&["protocol.min_dialect=12"]).is_ok());
    assert_error(
        with_overrides(&["protocol.min_dialect=1"]),
        &[
            "invalid value for `protocol.min_dialect`",
            "between 2 and 12",
        ],
    );
    assert_error(
        with_overrides(&["protocol.max_dialect=13"]),
        &[
            "invalid value for `protocol.max_dialect`",
            "between 2 and 12",
        ],
    );
    assert_error(
        with_overrides(&["protocol.min_dialect=9", "protocol.max_dialect=8"]),
        &[
            "invalid value for `protocol.min_dialect`",
            "newer than protocol.max_dialect",
        ],
    );
}

#[test]
fn listener_binds_must_be_socket_addresses() {
    assert!(with_overrides(&["listeners.ns.bind=[::1]:1863"]).is_ok());
    for bad in ["localhost:1863", "127.0.0.1", "127.0.0.1:99999", ""] {
        assert_error(
            with_overrides(&[&format!("listeners.ns.bind={bad}")]),
            &["invalid value for `listeners.ns.bind`"],
        );
    }
    // Checked on disabled listeners too.
    assert_error(
        with_overrides(&["listeners.ns.enabled=false", "listeners.ns.bind=nope"]),
        &["invalid value for `listeners.ns.bind`"],
    );
}

#[test]
fn enabled_listeners_do_not_share_an_address() {
    assert_error(
        with_overrides(&["listeners.sb.bind=127.0.0.1:1863"]),
        &[
            "invalid value for `listeners.sb.bind`",
            "also bound by listener `ns`",
        ],
    );
    assert!(
        with_overrides(&[
            "listeners.sb.bind=127.0.0.1:1863",
            "listeners.ns.enabled=false"
        ])
        .is_ok()
    );
    // Port 0 always picks a fresh port.
    assert!(
        with_overrides(&[
            "listeners.sb.bind=127.0.0.1:0",
            "listeners.ns.bind=127.0.0.1:0"
        ])
        .is_ok()
    );
}

#[test]
fn dispatch_targets() {
    let ds = "listeners.ds={ role = \"dispatch\", bind = \"127.0.0.1:0\", target = \"ns\" }";
    assert!(with_overrides(&[ds]).is_ok());
    let ds_nameless = "listeners.ds={ role = \"dispatch\", bind = \"127.0.0.1:0\" }";
    assert!(with_overrides(&[ds_nameless]).is_ok());
    assert_error(
        with_overrides(&[ds, "listeners.ds.target=sb"]),
        &[
            "invalid value for `listeners.ds.target`",
            "no enabled notification listener named `sb`",
        ],
    );
    assert_error(
        with_overrides(&[ds, "listeners.ds.target=nowhere"]),
        &["invalid value for `listeners.ds.target`"],
    );
    assert_error(
        with_overrides(&[ds, "listeners.ns.enabled=false"]),
        &["invalid value for `listeners.ds.target`"],
    );
    assert_error(
        with_overrides(&[ds_nameless, "listeners.ns.enabled=false"]),
        &[
            "invalid value for `listeners.ds.role`",
            "needs an enabled notification listener",
        ],
    );
    // A disabled dispatch listener is not checked against its target.
    assert!(with_overrides(&[ds, "listeners.ds.target=sb", "listeners.ds.enabled=false"]).is_ok());
    assert_error(
        with_overrides(&["listeners.sb.target=ns"]),
        &[
            "invalid value for `listeners.sb.target`",
            "only dispatch listeners",
        ],
    );
}

#[test]
fn ticket_secret_length() {
    assert!(with_overrides(&["auth.ticket_secret="]).is_ok());
    assert!(with_overrides(&[&format!("auth.ticket_secret={}", "s".repeat(32))]).is_ok());
    assert_error(
        with_overrides(&[&format!("auth.ticket_secret={}", "s".repeat(31))]),
        &["invalid value for `auth.ticket_secret`", "at least 32"],
    );
}

#[test]
fn limits_must_be_positive() {
    for key in [
        "limits.max_line_bytes",
        "limits.max_msg_payload_bytes",
        "limits.max_other_payload_bytes",
        "limits.outbox_lines",
        "limits.send_queue_bytes",
        "limits.preauth_timeout_secs",
        "limits.idle_timeout_secs",
        "limits.max_switchboard_users",
        "limits.max_connections",
        "limits.max_connections_per_ip",
        "limits.connects_per_ip",
        "limits.connect_window_secs",
        "limits.login_failures_per_account",
        "limits.login_failures_per_ip",
        "limits.login_failure_window_secs",
        "limits.commands_per_sec",
        "limits.command_burst",
        "limits.invites_per_minute",
        "offline.max_queued_per_user",
        "offline.commit_batch_max",
        "store.max_connections",
        "auth.ticket_lifetime_secs",
        "protocol.cookie_lifetime_secs",
        "protocol.ping_interval_secs",
    ] {
        assert_error(
            with_overrides(&[&format!("{key}=0")]),
            &[&format!(
                "invalid value for `{key}`: must be greater than 0"
            )],
        );
        // The idle timeout must also outlast the PNG interval.
        let ok = with_overrides(&[&format!("{key}=1"), "protocol.ping_interval_secs=1"]);
        let ok = if key == "limits.idle_timeout_secs" {
            with_overrides(&[&format!("{key}=2"), "protocol.ping_interval_secs=1"])
        } else {
            ok
        };
        assert!(ok.is_ok(), "{key}=1: {:?}", ok.err());
    }
}

#[test]
fn idle_timeout_outlasts_the_ping_interval() {
    assert_error(
        with_overrides(&["limits.idle_timeout_secs=60"]),
        &[
            "invalid value for `limits.idle_timeout_secs`",
            "greater than protocol.ping_interval_secs (60)",
        ],
    );
    assert!(with_overrides(&["limits.idle_timeout_secs=61"]).is_ok());
    assert!(
        with_overrides(&[
            "limits.idle_timeout_secs=5",
            "protocol.ping_interval_secs=4"
        ])
        .is_ok()
    );
}

#[test]
fn exempt_networks_are_cidr() {
    let config = with_overrides(&["limits.exempt_networks=[\"10.0.0.0/8\", \"::1\"]"]).unwrap();
    let got: Vec<String> = config
        .limits
        .exempt_networks
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(got, ["10.0.0.0/8", "::1/128"]);
    let config = with_overrides(&["limits.exempt_networks=[]"]).unwrap();
    assert!(config.limits.exempt_networks.is_empty());
    assert_error(
        with_overrides(&["limits.exempt_networks=[\"10.0.0.0/99\"]"]),
        &["invalid value for `limits.exempt_networks", "prefix length"],
    );
    let config = load(
        None,
        &env(&[("MSNPD__LIMITS__EXEMPT_NETWORKS", "[\"192.168.0.0/16\"]")]),
        &[],
    )
    .unwrap();
    assert_eq!(config.limits.exempt_networks.len(), 1);
}

#[test]
fn other_rules() {
    assert_error(
        with_overrides(&["store.url=mysql://x"]),
        &["invalid value for `store.url`"],
    );
    assert!(with_overrides(&["store.url=sqlite::memory:"]).is_ok());
    assert!(with_overrides(&["store.url=postgresql://u@h/db"]).is_ok());
    assert_error(
        with_overrides(&["log.level=info,msnpd=loud"]),
        &["invalid value for `log.level`"],
    );
    for bad in ["msn.example.com", ":1863", "host:port", "a b:1863", "a,b:1"] {
        assert_error(
            with_overrides(&[&format!("listeners.ns.advertise={bad}")]),
            &["invalid value for `listeners.ns.advertise`"],
        );
    }
    assert!(with_overrides(&["listeners.ns.advertise=msn.example.com:1863"]).is_ok());
    assert_error(
        with_overrides(&["listeners.NS={ role = \"http\", bind = \"127.0.0.1:0\" }"]),
        &["invalid value for `listeners.NS`"],
    );
}

#[test]
fn tls_settings() {
    let config = with_overrides(&[
        "listeners.ns.tls=implicit",
        "listeners.ns.tls_cert=/etc/msnpd/cert.pem",
        "listeners.ns.tls_key=/etc/msnpd/key.pem",
        "listeners.ns.tls_client_ca=/etc/msnpd/ca.pem",
        "listeners.ns.tls_client_auth=required",
        "listeners.ns.tls_handshake_timeout_secs=3",
    ])
    .unwrap();
    let ns = &config.listeners["ns"];
    assert_eq!(ns.tls, TlsMode::Implicit);
    assert_eq!(
        ns.tls_cert.as_deref(),
        Some(std::path::Path::new("/etc/msnpd/cert.pem"))
    );
    assert_eq!(ns.tls_client_auth, crate::config::ClientAuth::Required);
    assert_eq!(ns.tls_handshake_timeout_secs, 3);
    assert_eq!(config.listeners["sb"].tls_handshake_timeout_secs, 10);

    assert_error(
        with_overrides(&["listeners.ns.tls=implicit"]),
        &[
            "invalid value for `listeners.ns.tls_cert`",
            "invalid value for `listeners.ns.tls_key`",
        ],
    );
    let tls = [
        "listeners.ns.tls=implicit",
        "listeners.ns.tls_cert=c.pem",
        "listeners.ns.tls_key=k.pem",
    ];
    assert!(with_overrides(&tls).is_ok());
    let with = |extra: &str| {
        let mut items = tls.to_vec();
        items.push(extra);
        with_overrides(&items)
    };
    assert_error(
        with("listeners.ns.tls_client_auth=optional"),
        &[
            "invalid value for `listeners.ns.tls_client_auth`",
            "tls_client_ca",
        ],
    );
    assert_error(
        with("listeners.ns.tls_client_ca=ca.pem"),
        &["invalid value for `listeners.ns.tls_client_ca`"],
    );
    assert_error(
        with("listeners.ns.tls_handshake_timeout_secs=0"),
        &["invalid value for `listeners.ns.tls_handshake_timeout_secs`"],
    );
    assert_error(
        with("listeners.ns.tls_client_auth=sometimes"),
        &["invalid value for `listeners.ns.tls_client_auth`"],
    );
    assert_error(
        with_overrides(&["listeners.sb.tls_cert=c.pem"]),
        &[
            "invalid value for `listeners.sb.tls_cert`",
            "only used with",
        ],
    );
    assert_error(
        with_overrides(&[
            "listeners.ns.tls=implicit",
            "listeners.ns.tls_cert=",
            "listeners.ns.tls_key=k.pem",
        ]),
        &[
            "invalid value for `listeners.ns.tls_cert`",
            "must not be empty",
        ],
    );
}

#[test]
fn offline_settings() {
    let config = with_overrides(&[
        "offline.enabled=true",
        "offline.history=false",
        "offline.commit_window_us=0",
    ])
    .unwrap();
    assert!(config.offline.enabled);
    assert!(!config.offline.history);
    assert_eq!(config.offline.commit_window_us, 0);
    assert!(with_overrides(&["offline.commit_window_us=1000000"]).is_ok());
    assert_error(
        with_overrides(&["offline.commit_window_us=1000001"]),
        &[
            "invalid value for `offline.commit_window_us`",
            "at most 1000000",
        ],
    );
}

#[test]
fn every_problem_is_reported() {
    let message = error_of(with_overrides(&[
        "protocol.max_dialect=20",
        "limits.outbox_lines=0",
        "listeners.sb.bind=x",
    ]));
    assert_eq!(message.lines().count(), 3, "{message}");
}

// ---- the shipped example ---------------------------------------------------------

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("systemd/msnpd.toml")
}

#[test]
fn shipped_example_is_the_default_but_for_the_store_path() {
    let config = load(Some(&example_path()), &[], &[]).unwrap();
    let mut expected = Config::default();
    // The one documented difference: the store lives in systemd's StateDirectory.
    expected.store.url = "sqlite:///var/lib/msnpd/msnpd.sqlite".into();
    assert_eq!(config, expected);
}

#[test]
fn shipped_example_documents_every_key() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let table: Table = text.parse().unwrap();
    let keys = crate::config::keys::all().unwrap();
    assert!(keys.len() > 50, "too few keys: {keys:?}");
    for key in keys {
        match &key {
            ConfigKey::Fixed { section, key } => {
                assert!(
                    table.get(section).and_then(|s| s.get(key)).is_some(),
                    "{section}.{key} is missing from systemd/msnpd.toml"
                );
            }
            ConfigKey::PerName { section, key } => {
                // Listener fields: set in some listener, or shown in a comment.
                let set = table
                    .get(section)
                    .and_then(Value::as_table)
                    .is_some_and(|ls| ls.values().any(|l| l.get(key).is_some()));
                let commented = text.lines().any(|l| {
                    l.trim_start()
                        .trim_start_matches('#')
                        .trim_start()
                        .starts_with(&format!("{key} ="))
                });
                assert!(set || commented, "listener key {key} is not documented");
            }
        }
    }
}
