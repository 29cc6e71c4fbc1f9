//! Proves the runner end to end against a tiny scripted MSNP8 server written
//! here (NS, SB and the Passport nexus on 127.0.0.1:0): login macro, Passport,
//! payloads, unordered blocks, captures, closes, challenges, switchboard
//! macros, and readable failures.

use std::collections::BTreeMap;
use std::sync::Arc;

use msnp_conform::client::challenge::{md5_hex, msnp8_answer};
use msnp_conform::{Manifest, Outcome, parse_case, run_cases};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const CHALLENGE: &str = "15570131571988941333";
/// The salt the fake sends in `USR MD5 S`.
const SALT: &str = "1013928519.693957190";

struct Fake {
    /// email -> (password, nick)
    accounts: BTreeMap<String, (String, String)>,
    sb_addr: String,
    challenges: bool,
}

struct Servers {
    ns: u16,
    http: u16,
}

async fn read_line(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    match r.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches("\r\n").to_string()),
    }
}

async fn send(r: &mut BufReader<TcpStream>, text: &str) {
    r.get_mut().write_all(text.as_bytes()).await.unwrap();
}

async fn ns_conn(sock: TcpStream, fake: Arc<Fake>) {
    let mut r = BufReader::new(sock);
    let mut user: Option<String> = None;
    // MD5 dialects: the dialect agreed, and the email of `USR MD5 I`.
    let mut md5_dialect: Option<u8> = None;
    let mut md5_email: Option<String> = None;
    while let Some(line) = read_line(&mut r).await {
        let t: Vec<&str> = line.split(' ').collect();
        let trid = t.get(1).copied().unwrap_or("0");
        match t[0] {
            "VER" if t.get(2) == Some(&"MSNP8") => {
                send(&mut r, &format!("VER {trid} MSNP8\r\n")).await
            }
            "VER" if matches!(t.get(2), Some(&("MSNP5" | "MSNP6" | "MSNP7"))) => {
                md5_dialect = t[2][4..].parse().ok();
                send(&mut r, &format!("VER {trid} {}\r\n", t[2])).await
            }
            "INF" if md5_dialect.is_some() => send(&mut r, &format!("INF {trid} MD5\r\n")).await,
            "USR" if user.is_none() && t.get(2) == Some(&"MD5") && t.get(3) == Some(&"I") => {
                md5_email = t.get(4).map(|e| e.to_string());
                send(&mut r, &format!("USR {trid} MD5 S {SALT}\r\n")).await
            }
            "USR" if user.is_none() && t.get(2) == Some(&"MD5") => {
                let v = md5_dialect.unwrap_or(0);
                let account = md5_email
                    .as_ref()
                    .and_then(|e| fake.accounts.get(e).map(|a| (e.clone(), a)));
                match account {
                    Some((email, (password, nick)))
                        if t.get(4).copied()
                            == Some(md5_hex(format!("{SALT}{password}").as_bytes()).as_str()) =>
                    {
                        user = Some(email.clone());
                        let flag = if v >= 6 { " 1" } else { "" };
                        let profile = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n\r\n";
                        let mut out = format!(
                            "USR {trid} OK {email} {nick}{flag}\r\nMSG Hotmail Hotmail {}\r\n{profile}",
                            profile.len()
                        );
                        if fake.challenges && v >= 6 {
                            out.push_str(&format!("CHL 0 {CHALLENGE}\r\n"));
                        }
                        send(&mut r, &out).await;
                    }
                    _ => send(&mut r, &format!("911 {trid}\r\n")).await,
                }
            }
            "VER" => {
                send(&mut r, &format!("VER {trid} 0\r\n")).await;
                return;
            }
            "CVR" => {
                send(
                    &mut r,
                    &format!("CVR {trid} 1.0 1.0 1.0 http://x http://y\r\n"),
                )
                .await
            }
            "USR" if user.is_some() => send(&mut r, &format!("207 {trid}\r\n")).await,
            "USR" if t.get(3) == Some(&"I") => {
                send(&mut r, &format!("USR {trid} TWN S ct=1,lc=1033,id=507\r\n")).await
            }
            "USR" => {
                let email = t.get(4).and_then(|tk| tk.strip_prefix("t="));
                match email.and_then(|e| fake.accounts.get(e).map(|a| (e, a))) {
                    Some((email, (_, nick))) => {
                        user = Some(email.to_string());
                        let profile = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nLoginTime: 1\r\n\r\n";
                        let mut out = format!(
                            "USR {trid} OK {email} {nick} 1 0\r\nMSG Hotmail Hotmail {}\r\n{profile}",
                            profile.len()
                        );
                        if fake.challenges {
                            out.push_str(&format!("CHL 0 {CHALLENGE}\r\n"));
                        }
                        send(&mut r, &out).await;
                    }
                    None => send(&mut r, &format!("911 {trid}\r\n")).await,
                }
            }
            "QRY" => {
                let len: usize = t.last().unwrap().parse().unwrap();
                let mut answer = vec![0; len];
                r.read_exact(&mut answer).await.unwrap();
                if answer == msnp8_answer(CHALLENGE).as_bytes() {
                    send(&mut r, &format!("QRY {trid}\r\n")).await;
                } else {
                    send(&mut r, &format!("540 {trid}\r\n")).await;
                    return;
                }
            }
            _ if user.is_none() => send(&mut r, &format!("302 {trid}\r\n")).await,
            "PNG" => send(&mut r, "QNG\r\n").await,
            "OUT" => return,
            // Test verbs: two lines in a fixed order, and a payload echo.
            "ORDER" => send(&mut r, &format!("B 2 {trid}\r\nA 1 {trid}\r\n")).await,
            "ECHO" => {
                let len: usize = t.last().unwrap().parse().unwrap();
                let mut body = vec![0; len];
                r.read_exact(&mut body).await.unwrap();
                let mut out = format!("MSG fake Fake {len}\r\n").into_bytes();
                out.extend_from_slice(&body);
                r.get_mut().write_all(&out).await.unwrap();
            }
            "XFR" => {
                let email = user.clone().unwrap();
                send(
                    &mut r,
                    &format!("XFR {trid} SB {} CKI ck-{email}\r\n", fake.sb_addr),
                )
                .await
            }
            // Test verb: have the server ring this user.
            "RING" => {
                let email = user.clone().unwrap();
                send(
                    &mut r,
                    &format!(
                        "RNG 99 {} CKI ans-{email} bob@fake.test Bob\r\n",
                        fake.sb_addr
                    ),
                )
                .await
            }
            _ => send(&mut r, &format!("200 {trid}\r\n")).await,
        }
    }
}

async fn sb_conn(sock: TcpStream, fake: Arc<Fake>) {
    let mut r = BufReader::new(sock);
    while let Some(line) = read_line(&mut r).await {
        let t: Vec<&str> = line.split(' ').collect();
        let trid = t.get(1).copied().unwrap_or("0");
        let email = t.get(2).copied().unwrap_or_default();
        let nick = fake.accounts.get(email).map(|a| a.1.clone());
        match (t[0], nick) {
            ("USR", Some(nick)) if t.get(3) == Some(&format!("ck-{email}").as_str()) => {
                send(&mut r, &format!("USR {trid} OK {email} {nick}\r\n")).await
            }
            ("ANS", Some(_)) if t.get(3) == Some(&format!("ans-{email}").as_str()) => {
                send(
                    &mut r,
                    &format!("IRO {trid} 1 1 bob@fake.test Bob\r\nANS {trid} OK\r\n"),
                )
                .await
            }
            _ => {
                send(&mut r, &format!("911 {trid}\r\n")).await;
                return;
            }
        }
    }
}

fn decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn http_conn(mut sock: TcpStream, fake: Arc<Fake>, port: u16) {
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let req = String::from_utf8(req).unwrap();
    let response = if req.starts_with("GET /rdr/pprdr.asp ") {
        format!(
            "HTTP/1.1 200 OK\r\nPassportURLs: DARealm=Passport.Net,DALogin=http://127.0.0.1:{port}/login2.srf,ConfigVersion=15\r\nContent-Length: 0\r\n\r\n"
        )
    } else {
        let auth = req
            .lines()
            .find_map(|l| l.strip_prefix("Authorization: Passport1.4 "))
            .unwrap_or_default();
        let field = |k: &str| {
            auth.split(',')
                .find_map(|kv| kv.strip_prefix(k))
                .map(decode)
                .unwrap_or_default()
        };
        let email = field("sign-in=");
        let ok = auth.ends_with(",ct=1,lc=1033,id=507")
            && fake
                .accounts
                .get(&email)
                .is_some_and(|a| a.0 == field("pwd="));
        if ok {
            format!(
                "HTTP/1.1 200 OK\r\nAuthentication-Info: Passport1.4 da-status=success,tname=MSPAuth,from-PP='t={email}',ru=x\r\nContent-Length: 0\r\n\r\n"
            )
        } else {
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Passport1.4 da-status=failed\r\nContent-Length: 0\r\n\r\n".to_string()
        }
    };
    let _ = sock.write_all(response.as_bytes()).await;
}

fn manifest(servers: &Servers, features: &str, timeout_ms: u64) -> Manifest {
    manifest_with(
        servers,
        features,
        timeout_ms,
        "[\"MSNP8\"]",
        &format!(
            "nexus = \"http://127.0.0.1:{}/rdr/pprdr.asp\"",
            servers.http
        ),
    )
}

fn manifest_with(
    servers: &Servers,
    features: &str,
    timeout_ms: u64,
    dialects: &str,
    auth: &str,
) -> Manifest {
    Manifest::from_toml(&format!(
        r#"
        name = "fake"
        host = "127.0.0.1"
        dialects = {dialects}
        features = [{features}]
        line_timeout_ms = {timeout_ms}
        [auth]
        {auth}
        [ports]
        ns = {}
        [[provision.accounts]]
        email = "alice@fake.test"
        password = "pw a"
        [[provision.accounts]]
        email = "bob@fake.test"
        password = "pwb"
        "#,
        servers.ns
    ))
    .unwrap()
}

const HEADER: &str = "# title: t\n# dialects: MSNP8-9\n# roles: ns\n# accounts: alice bob\n";

fn case(id: &str, body: &str) -> msnp_conform::Case {
    parse_case(id, &format!("{HEADER}{body}")).unwrap()
}

#[tokio::test]
async fn runner_against_fake_server() {
    let servers = start_fake(false).await;
    let m = manifest(&servers, "", 5000);
    let cases = vec![
        case(
            "login-macro",
            "@alice connect ns\n@alice login\n@alice > PNG\n@alice < QNG\n@alice > USR $trid TWN I ${alice}\n@alice < 207 $trid\n",
        ),
        case(
            "explicit-login",
            "@bob connect ns\n@bob > VER $trid MSNP8 CVR0\n@bob < VER $trid $dialect\n\
             @bob > CVR $trid 0x0409 winnt 5.1 i386 MSNMSGR 6.0 MSMSGS ${bob}\n@bob < CVR $trid * * * * *\n\
             @bob > USR $trid TWN I ${bob}\n@bob < USR $trid TWN S {policy}\n\
             @bob passport ${policy} {ticket}\n@bob passport-reject ${policy} wrong\n\
             @bob > USR $trid TWN S ${ticket}\n@bob < USR $trid OK ${bob} {nick} 1 0\n\
             @bob < MSG Hotmail Hotmail * <<\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\n.\n\
             @bob > SYN $trid ${nick}\n@bob < 200 $trid\n",
        ),
        case(
            "unordered-and-payload",
            "@alice connect ns\n@alice login\n@alice > ORDER $trid\nunordered {\n@alice < A 1 $trid\n@alice < {x} 2 $trid\n}\n\
             @alice > ECHO $trid <<\nMIME-Version: 1.0\n\nhi ${x} ${alice.nick} $md5{x}\n.\n\
             @alice < MSG fake Fake * <<=\nMIME-Version: 1.0\n\nhi B Alice 9dd4e461268c8034f5c8564e155c67a6\n.\n",
        ),
        case(
            "version-refused",
            "@alice connect ns\n@alice > VER 1 MSNP99\n@alice < VER 1 0\n@alice closed\n",
        ),
        case(
            "switchboard-macros",
            "@alice connect ns\n@alice login\n@alice.sb xfr-sb @alice\n@alice > RING $trid\n@alice.sb2 answer-sb @alice\n@alice.sb2 close\n",
        ),
        case(
            "guarded",
            "@alice connect ns\n[MSNP9] @alice < NEVER\n[MSNP8] @alice > PNG\n@alice < 302 0\n",
        ),
        parse_case(
            "needs-feature",
            "# title: t\n# dialects: MSNP8\n# roles: ns\n# accounts: a\n# features: dispatch\n@a connect ns\n",
        )
        .unwrap(),
        parse_case(
            "needs-dialect",
            "# title: t\n# dialects: MSNP11+\n# roles: ns\n# accounts: a\n@a connect ns\n",
        )
        .unwrap(),
    ];
    let results = run_cases(&m, &cases).await;
    let summary = msnp_conform::report::human_summary(&results);
    let by_name: BTreeMap<String, &Outcome> = results
        .iter()
        .map(|r| (r.case.clone(), &r.outcome))
        .collect();
    for ok in [
        "login-macro",
        "explicit-login",
        "unordered-and-payload",
        "version-refused",
        "switchboard-macros",
        "guarded",
    ] {
        assert!(
            matches!(by_name[ok], Outcome::Pass),
            "{ok} did not pass:\n{summary}"
        );
    }
    assert!(
        matches!(by_name["needs-feature"], Outcome::Skip { reason } if reason.contains("dispatch"))
    );
    assert!(
        matches!(by_name["needs-dialect"], Outcome::Skip { reason } if reason.contains("MSNP11"))
    );
    // Case instances: MSNP8-9 cases run only in MSNP8 (the manifest's dialect).
    assert_eq!(results.len(), cases.len(), "{summary}");
}

#[tokio::test]
async fn failures_are_readable() {
    let servers = start_fake(false).await;
    let m = manifest(&servers, "", 5000);
    let cases = vec![
        case(
            "wrong-line",
            "@alice connect ns\n@alice login\n@alice > PNG\n@alice < QNG 60\n",
        ),
        case(
            "wrong-payload",
            "@alice connect ns\n@alice login\n@alice > ECHO $trid <<\nabc\n.\n@alice < MSG fake Fake 3 <<=\nabd\n.\n",
        ),
        case(
            "not-closed",
            "@alice connect ns\n@alice login\n@alice > PNG\n@alice closed\n",
        ),
        case(
            "unordered-mismatch",
            "@alice connect ns\n@alice login\n@alice > ORDER $trid\nunordered {\n@alice < A 1 $trid\n@alice < A 2 $trid\n}\n",
        ),
        case(
            "bad-ticket",
            "@alice connect ns\n@alice > VER 1 MSNP8\n@alice < VER 1 MSNP8\n@alice > USR 2 TWN S t=nobody\n@alice < USR 2 OK **\n",
        ),
    ];
    let results = run_cases(&m, &cases).await;
    let summary = msnp_conform::report::human_summary(&results);
    let fail = |i: usize| match &results[i].outcome {
        Outcome::Fail(f) => f.clone(),
        other => panic!("{} should fail: {other:?}\n{summary}", results[i].case),
    };
    let f = fail(0);
    assert_eq!(f.line, 8);
    assert!(f.message.contains("expected: @alice < QNG 60"), "{summary}");
    assert!(f.message.contains("got:      QNG"), "{summary}");
    assert!(
        f.traffic.iter().any(|e| e.to_string() == "@alice > PNG"),
        "{summary}"
    );
    let f = fail(1);
    assert!(f.message.contains("payload line 1"), "{summary}");
    let f = fail(2);
    assert!(f.message.contains("the server closes @alice"), "{summary}");
    assert!(f.message.contains("got:      QNG"), "{summary}");
    let f = fail(3);
    assert!(f.message.contains("any order"), "{summary}");
    assert!(f.message.contains("B 2"), "{summary}");
    let f = fail(4);
    assert!(f.message.contains("got:      911 2"), "{summary}");
    assert!(
        summary.ends_with("0 passed, 5 failed, 0 skipped\n"),
        "{summary}"
    );
}

#[tokio::test]
async fn timeouts_fail_the_case() {
    let servers = start_fake(false).await;
    let m = manifest(&servers, "", 200);
    let results = run_cases(
        &m,
        &[case("silent", "@alice connect ns\n@alice < VER 1 MSNP8\n")],
    )
    .await;
    match &results[0].outcome {
        Outcome::Fail(f) => assert!(f.message.contains("timed out"), "{}", f.message),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn challenges_are_answered_or_left_to_the_case() {
    let servers = start_fake(true).await;
    let m = manifest(&servers, "\"challenges\"", 5000);
    let cases = vec![
        case(
            "auto",
            "@alice connect ns\n@alice login\n@alice > PNG\n@alice < QNG\n",
        ),
        case(
            "manual-right",
            "@alice connect ns\n@alice login manual-challenge\n@alice < CHL 0 {chl}\n\
             @alice > QRY $trid msmsgs@msnmsgr.com <<\n$md5{${chl}Q1P7W2E4J9R8U3S5}\n.\n@alice < QRY $trid\n",
        ),
        case(
            "manual-wrong",
            "@alice connect ns\n@alice login manual-challenge\n@alice < CHL 0 *\n\
             @alice > QRY $trid msmsgs@msnmsgr.com <<\n00000000000000000000000000000000\n.\n@alice < 540 $trid\n@alice closed\n",
        ),
    ];
    let results = run_cases(&m, &cases).await;
    let summary = msnp_conform::report::human_summary(&results);
    assert_eq!(
        msnp_conform::report::totals(&results).passed,
        3,
        "{summary}"
    );
}

#[tokio::test]
async fn md5_login_in_old_dialects() {
    let servers = start_fake(true).await;
    let m = manifest_with(&servers, "\"challenges\"", 5000, "[\"MSNP5-7\"]", "");
    let cases = vec![parse_case(
        "md5",
        "# title: t\n# dialects: MSNP5-7\n# roles: ns\n# accounts: alice bob\n\
         @alice connect ns\n@alice login\n@alice > PNG\n@alice < QNG\n\
         @bob connect ns\n@bob > VER $trid $dialect\n@bob < VER $trid $dialect\n\
         @bob > INF $trid\n@bob < INF $trid MD5\n@bob > USR $trid MD5 I ${bob}\n\
         @bob < USR $trid MD5 S {salt}\n@bob > USR $trid MD5 S $md5{${salt}wrong}\n@bob < 911 $trid\n",
    )
    .unwrap()];
    let results = run_cases(&m, &cases).await;
    let summary = msnp_conform::report::human_summary(&results);
    // MSNP5 (no CHL, no verified flag), MSNP6 and MSNP7 (CHL answered).
    assert_eq!(results.len(), 3, "{summary}");
    assert_eq!(
        msnp_conform::report::totals(&results).passed,
        3,
        "{summary}"
    );
}

#[tokio::test]
async fn ticket_login_at_a_login_url_without_nexus() {
    let servers = start_fake(false).await;
    let auth = format!(
        "login_url = \"http://127.0.0.1:{}/login2.srf\"",
        servers.http
    );
    let m = manifest_with(&servers, "", 5000, "[\"MSNP8\"]", &auth);
    let cases = vec![case(
        "login-url",
        "@alice connect ns\n@alice login\n@alice > PNG\n@alice < QNG\n",
    )];
    let results = run_cases(&m, &cases).await;
    let summary = msnp_conform::report::human_summary(&results);
    assert_eq!(
        msnp_conform::report::totals(&results).passed,
        1,
        "{summary}"
    );
}

/// `msnp-conform run --junit --json` end to end: a passing, a failing and a
/// skipped case, the exit code, and both report files read back.
#[tokio::test]
async fn run_command_writes_junit_and_json_reports() {
    let servers = start_fake(false).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("fake.toml");
    std::fs::write(
        &manifest,
        format!(
            "name = \"fake & co\"\nhost = \"127.0.0.1\"\ndialects = [\"MSNP8\"]\n\
             [auth]\nnexus = \"http://127.0.0.1:{}/rdr/pprdr.asp\"\n[ports]\nns = {}\n\
             [[provision.accounts]]\nemail = \"alice@fake.test\"\npassword = \"pw a\"\n",
            servers.http, servers.ns
        ),
    )
    .unwrap();
    let cases = dir.path().join("cases/ns");
    std::fs::create_dir_all(&cases).unwrap();
    let header = "# dialects: MSNP8\n# roles: ns\n# accounts: alice\n";
    std::fs::write(
        cases.join("good.msnp"),
        format!(
            "# title: good\n{header}@alice connect ns\n@alice login\n@alice > PNG\n@alice < QNG\n"
        ),
    )
    .unwrap();
    std::fs::write(
        cases.join("bad.msnp"),
        format!("# title: bad\n{header}@alice connect ns\n@alice login\n@alice > PNG\n@alice < QNG <60>\n"),
    )
    .unwrap();
    std::fs::write(
        cases.join("later.msnp"),
        "# title: later\n# dialects: MSNP11\n# roles: ns\n# accounts: alice\n@alice connect ns\n",
    )
    .unwrap();
    let junit = dir.path().join("r.xml");
    let json = dir.path().join("r.jsonl");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_msnp-conform"))
        .arg("run")
        .arg("--manifest")
        .arg(&manifest)
        .arg("--cases")
        .arg(dir.path().join("cases"))
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("1 passed, 1 failed, 1 skipped"), "{out}");

    let results = msnp_conform::report::jsonl::read_jsonl(&json).unwrap();
    let status: BTreeMap<&str, String> = results
        .iter()
        .map(|r| (r.id.as_str(), r.status.to_string()))
        .collect();
    assert_eq!(status["ns/good.msnp"], "pass");
    assert_eq!(status["ns/bad.msnp"], "fail");
    assert_eq!(status["ns/later.msnp"], "skip");
    let bad = results.iter().find(|r| r.id == "ns/bad.msnp").unwrap();
    let reason = bad.reason.as_deref().unwrap();
    assert!(
        reason.contains("expected: @alice < QNG <60>") && reason.contains("got:      QNG"),
        "{reason}"
    );
    assert!(bad.verbs.contains(&"PNG".to_string()) && bad.verbs.contains(&"USR".to_string()));

    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc.root_element();
    assert_eq!(suite.attribute("name"), Some("fake & co"));
    assert_eq!(suite.attribute("tests"), Some("3"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(suite.attribute("skipped"), Some("1"));
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .contains("expected: @alice < QNG <60>")
    );
    let skipped = doc
        .descendants()
        .find(|n| n.has_tag_name("skipped"))
        .unwrap();
    assert!(skipped.attribute("message").unwrap().contains("MSNP11"));
}

/// Starts the fake NS, SB and HTTP servers on free ports.
async fn start_fake(challenges: bool) -> Servers {
    let ns = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sb = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_port = http.local_addr().unwrap().port();
    let ns_port = ns.local_addr().unwrap().port();
    let mut accounts = BTreeMap::new();
    accounts.insert(
        "alice@fake.test".to_string(),
        ("pw a".to_string(), "Alice".to_string()),
    );
    accounts.insert(
        "bob@fake.test".to_string(),
        ("pwb".to_string(), "Bob".to_string()),
    );
    let fake = Arc::new(Fake {
        accounts,
        sb_addr: sb.local_addr().unwrap().to_string(),
        challenges,
    });
    let f = fake.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = ns.accept().await {
            tokio::spawn(ns_conn(sock, f.clone()));
        }
    });
    let f = fake.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = sb.accept().await {
            tokio::spawn(sb_conn(sock, f.clone()));
        }
    });
    tokio::spawn(async move {
        while let Ok((sock, _)) = http.accept().await {
            tokio::spawn(http_conn(sock, fake.clone(), http_port));
        }
    });
    Servers {
        ns: ns_port,
        http: http_port,
    }
}
