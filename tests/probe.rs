//! `msnpd probe ADDR` against a spawned server: it passes (one line with the
//! timings, exit 0) through the notification listener and through a dispatch
//! listener, again on a second run; it fails with exit 1 and the failing step
//! on a wrong password or a server that is down; missing accounts are a usage
//! error (exit 2). Against TLS listeners (certificates from `msnpd gen-cert`)
//! it passes with `--tls` and the right CA file and fails at login with
//! another one.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Server, msnpd_bin};

const A: &str = "probe-a@probe.invalid";
const B: &str = "probe-b@probe.invalid";
const PASSWORD: &str = "probe-password-1";

/// Runs `msnpd [-O ...] probe ARGS`.
fn probe(overrides: &[&str], args: &[&str]) -> Output {
    let mut cmd = Command::new(msnpd_bin());
    for o in overrides {
        cmd.arg("-O").arg(o);
    }
    cmd.arg("probe")
        .args(args)
        .output()
        .expect("run msnpd probe")
}

/// Asserts `out` is one `probe ok ...` line with every timing, exit 0.
fn assert_ok(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.trim_end();
    assert_eq!(line.lines().count(), 1, "{line}");
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(&words[..2], ["probe", "ok"], "{line}");
    for (word, key) in words[2..].iter().zip(["login", "presence", "sb", "total"]) {
        let ms = word
            .strip_prefix(&format!("{key}="))
            .and_then(|v| v.strip_suffix("ms"))
            .unwrap_or_else(|| panic!("{line}"));
        assert!(ms.parse::<u64>().is_ok(), "{line}");
    }
}

#[test]
fn probe_passes_through_ns_and_dispatch() {
    let server = Server::start(&[
        "listeners.ds.role=dispatch",
        "listeners.ds.bind=127.0.0.1:0",
    ]);
    server.add_user(A, PASSWORD);
    server.add_user(B, PASSWORD);
    let nexus = format!("probe.nexus={}", server.addr("http"));
    let accounts = [
        nexus.as_str(),
        &format!("probe.account_a={A}"),
        &format!("probe.account_b={B}"),
        &format!("probe.password={PASSWORD}"),
    ]
    .map(str::to_string);
    let accounts: Vec<&str> = accounts.iter().map(String::as_str).collect();
    assert_ok(&probe(&accounts, &[server.addr("ns")]));
    // Again (the accounts already watch each other), through dispatch.
    assert_ok(&probe(&accounts, &[server.addr("ds")]));
    // Flags instead of the configuration.
    assert_ok(&probe(
        &[],
        &[
            server.addr("ns"),
            "--nexus",
            server.addr("http"),
            "--account-a",
            A,
            "--account-b",
            B,
            "--password",
            PASSWORD,
        ],
    ));
}

#[test]
fn probe_fails_on_a_wrong_password_or_a_server_down() {
    let server = Server::start(&[]);
    server.add_user(A, PASSWORD);
    server.add_user(B, PASSWORD);
    let args = |ns: &str, password: &str| {
        vec![
            ns.to_string(),
            "--nexus".into(),
            server.addr("http").to_string(),
            "--account-a".into(),
            A.into(),
            "--account-b".into(),
            B.into(),
            "--password".into(),
            password.into(),
        ]
    };
    let wrong = args(server.addr("ns"), "not-the-password");
    let out = probe(&[], &wrong.iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("probe FAILED step=login error="),
        "{stdout}"
    );
    assert!(stdout.contains("login refused"), "{stdout}");

    // Missing accounts: usage error.
    let out = probe(&[], &[server.addr("ns")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("probe.account_a"));

    let ns = server.addr("ns").to_string();
    let right = args(&ns, PASSWORD);
    assert!(server.stop().success());
    let out = probe(&[], &right.iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("probe FAILED step=login error="),
        "{stdout}"
    );
    assert!(stdout.contains("cannot connect"), "{stdout}");
}

/// `msnpd gen-cert --out DIR`: a self-signed certificate for localhost and
/// 127.0.0.1; returns (cert.pem, key.pem).
fn gen_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let out = Command::new(msnpd_bin())
        .arg("gen-cert")
        .arg("--out")
        .arg(dir)
        .output()
        .expect("run msnpd gen-cert");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir.join("cert.pem"), dir.join("key.pem"))
}

#[test]
fn probe_passes_over_tls_with_the_right_ca_only() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = gen_cert(&dir.path().join("server"));
    let (other_ca, _) = gen_cert(&dir.path().join("other"));
    let mut overrides = vec![
        "listeners.ds.role=dispatch".to_string(),
        "listeners.ds.bind=127.0.0.1:0".to_string(),
    ];
    for l in ["ds", "ns", "sb", "http"] {
        overrides.push(format!("listeners.{l}.tls=implicit"));
        overrides.push(format!("listeners.{l}.tls_cert={}", cert.display()));
        overrides.push(format!("listeners.{l}.tls_key={}", key.display()));
    }
    let refs: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let server = Server::start(&refs);
    server.add_user(A, PASSWORD);
    server.add_user(B, PASSWORD);
    let nexus = format!("https://{}", server.addr("http"));
    let args = |addr: &str, ca: &Path| {
        vec![
            addr.to_string(),
            "--tls".into(),
            "--ca-file".into(),
            ca.display().to_string(),
            "--nexus".into(),
            nexus.clone(),
            "--account-a".into(),
            A.into(),
            "--account-b".into(),
            B.into(),
            "--password".into(),
            PASSWORD.into(),
        ]
    };
    let run = |args: Vec<String>| probe(&[], &args.iter().map(String::as_str).collect::<Vec<_>>());

    // Through the notification listener, then through dispatch (XFR NS to
    // the TLS notification listener).
    assert_ok(&run(args(server.addr("ns"), &cert)));
    assert_ok(&run(args(server.addr("ds"), &cert)));
    // The configuration instead of the flags; the https:// nexus is derived
    // from the configuration's TLS http listener.
    let config = [
        format!("listeners.http.bind={}", server.addr("http")),
        "listeners.http.tls=implicit".to_string(),
        format!("listeners.http.tls_cert={}", cert.display()),
        format!("listeners.http.tls_key={}", key.display()),
        format!("probe.account_a={A}"),
        format!("probe.account_b={B}"),
        format!("probe.password={PASSWORD}"),
        "probe.tls=true".to_string(),
        format!("probe.ca_file={}", cert.display()),
    ];
    let config: Vec<&str> = config.iter().map(String::as_str).collect();
    assert_ok(&probe(&config, &[server.addr("ns")]));

    // A CA that did not sign the server's certificate: the handshake fails.
    let out = run(args(server.addr("ns"), &other_ca));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("probe FAILED step=login error="),
        "{stdout}"
    );
    assert!(stdout.contains("TLS handshake"), "{stdout}");
    assert!(stdout.contains("invalid peer certificate"), "{stdout}");

    // Plain TCP against a TLS listener fails too (no hang).
    let plain = [
        server.addr("ns"),
        "--nexus",
        &nexus,
        "--ca-file",
        cert.to_str().unwrap(),
        "--account-a",
        A,
        "--account-b",
        B,
        "--password",
        PASSWORD,
    ];
    let out = probe(&["probe.timeout_secs=3"], &plain);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("probe FAILED step=login error="),
        "{stdout}"
    );

    // --tls without a CA file is a usage error.
    let out = probe(&[], &[server.addr("ns"), "--tls", "--nexus", &nexus]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca-file"));
}
