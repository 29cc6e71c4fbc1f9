//! TLS on the listeners, with real rustls handshakes against the real binary:
//! an MSNP8 login and a switchboard chat over TLS, the HTTPS nexus and
//! login2.srf, a client that trusts another CA, a handshake that never
//! completes, a certificate swapped by SIGHUP under a connected client, and
//! client-certificate verification. Certificates are made here with rcgen.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Client, LINE_TIMEOUT, Server, TlsStream};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

const MESSAGE: &[u8] =
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello over TLS";

/// A test certificate authority.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
struct Leaf {
    cert: String,
    key: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for localhost and 127.0.0.1, with `cn` as its
    /// common name (so tests can tell certificates apart).
    fn server(&self, cn: &str) -> Leaf {
        self.leaf(
            cn,
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate.
    fn client(&self, cn: &str) -> Leaf {
        self.leaf(cn, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, cn: &str, names: Vec<String>, usage: ExtendedKeyUsagePurpose) -> Leaf {
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// Writes `leaf` as `NAME.crt` / `NAME.key` in `dir`; returns the paths.
fn write_leaf(dir: &Path, name: &str, leaf: &Leaf) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, &leaf.cert).unwrap();
    std::fs::write(&key, &leaf.key).unwrap();
    (cert, key)
}

/// `-O` overrides turning TLS on for `listeners` with the given files.
fn tls_overrides(listeners: &[&str], cert: &Path, key: &Path) -> Vec<String> {
    let mut o = Vec::new();
    for l in listeners {
        o.push(format!("listeners.{l}.tls=implicit"));
        o.push(format!("listeners.{l}.tls_cert={}", cert.display()));
        o.push(format!("listeners.{l}.tls_key={}", key.display()));
    }
    o
}

fn start(overrides: &[String]) -> Server {
    let refs: Vec<&str> = overrides.iter().map(String::as_str).collect();
    Server::start(&refs)
}

/// A client configuration trusting the CAs in `roots` (PEM), presenting
/// `identity` if given.
fn client_config(roots: &[&str], identity: Option<&Leaf>) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    for pem in roots {
        store
            .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
            .unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(leaf) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(leaf.cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap(),
            )
            .unwrap(),
    };
    Arc::new(config)
}

/// Opens TCP to `addr` and completes the client side of the TLS handshake
/// (server name `localhost`).
fn tls_connect(addr: &str, config: &Arc<ClientConfig>) -> Result<TlsStream, std::io::Error> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(LINE_TIMEOUT))?;
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(Arc::clone(config), name).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

fn tls_client(addr: &str, config: &Arc<ClientConfig>) -> Client<TlsStream> {
    Client::from_stream(tls_connect(addr, config).expect("TLS handshake"))
}

/// The common name of the certificate the server presented, as its DER.
fn peer_leaf(stream: &TlsStream) -> Vec<u8> {
    stream.conn.peer_certificates().expect("server certificate")[0].to_vec()
}

fn leaf_der(leaf: &Leaf) -> Vec<u8> {
    CertificateDer::from_pem_slice(leaf.cert.as_bytes())
        .unwrap()
        .to_vec()
}

/// Makes `a` and `b` see each other online (both add each other, both `NLN`).
fn befriend_online<S: common::Stream>(
    a: &mut Client<S>,
    a_email: &str,
    b: &mut Client<S>,
    b_email: &str,
) {
    common::befriend(a, a_email, b, b_email, 10);
    b.send("CHG 20 NLN 0");
    b.expect("CHG 20 NLN 0");
    a.send("CHG 21 NLN 0");
    a.expect("CHG 21 NLN 0");
    a.expect_prefix("ILN 21 NLN ");
    b.expect_prefix("NLN NLN ");
}

/// `caller` opens a switchboard over TLS and invites `callee`, who answers over
/// TLS; returns both switchboard clients.
fn open_chat(
    server: &Server,
    config: &Arc<ClientConfig>,
    caller: &mut Client<TlsStream>,
    caller_email: &str,
    callee: &mut Client<TlsStream>,
    callee_email: &str,
) -> (Client<TlsStream>, Client<TlsStream>) {
    caller.send("XFR 30 SB");
    let xfr = caller.expect_prefix("XFR 30 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let (sb_addr, cookie) = (parts[3].to_string(), parts[5].to_string());
    assert_eq!(sb_addr, server.addr("sb"));
    let mut caller_sb = tls_client(&sb_addr, config);
    caller_sb.send(&format!("USR 1 {caller_email} {cookie}"));
    caller_sb.expect(&format!("USR 1 OK {caller_email} {caller_email}"));
    caller_sb.send(&format!("CAL 2 {callee_email}"));
    let ringing = caller_sb.expect_prefix("CAL 2 RINGING ");
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = callee.expect_prefix(&format!("RNG {session} {sb_addr} CKI "));
    let callee_cookie = rng.split(' ').nth(4).unwrap().to_string();
    let mut callee_sb = tls_client(&sb_addr, config);
    callee_sb.send(&format!("ANS 1 {callee_email} {callee_cookie} {session}"));
    callee_sb.expect(&format!("IRO 1 1 1 {caller_email} {caller_email}"));
    callee_sb.expect("ANS 1 OK");
    caller_sb.expect(&format!("JOI {callee_email} {callee_email}"));
    (caller_sb, callee_sb)
}

/// Reads lines until one starts with `prefix` (at most 20); returns it.
fn skip_until<S: common::Stream>(c: &mut Client<S>, prefix: &str) -> String {
    for _ in 0..20 {
        let line = c.line();
        if line.starts_with(prefix) {
            return line;
        }
    }
    panic!("no line starting with {prefix:?}");
}

/// `from` sends an acknowledged message that `to` receives; `from` gets `ACK`.
fn say(from: &mut Client<TlsStream>, from_email: &str, to: &mut Client<TlsStream>, trid: u32) {
    from.send_payload(&format!("MSG {trid} A"), MESSAGE);
    let (head, payload) = to.read_payload_line();
    assert_eq!(
        head,
        format!("MSG {from_email} {from_email} {}", MESSAGE.len())
    );
    assert_eq!(payload, MESSAGE);
    from.expect(&format!("ACK {trid}"));
}

#[test]
fn msnp8_login_and_switchboard_chat_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("msnpd test CA");
    let (cert, key) = write_leaf(dir.path(), "server", &ca.server("first"));
    let server = start(&tls_overrides(&["ns", "sb"], &cert, &key));
    server.add_user("alice@example.com", "pw-a");
    server.add_user("bob@example.com", "pw-b");
    let config = client_config(&[&ca.pem()], None);

    let mut alice = server.online_on(tls_client(server.addr("ns"), &config), "alice@example.com");
    let mut bob = server.online_on(tls_client(server.addr("ns"), &config), "bob@example.com");
    befriend_online(&mut alice, "alice@example.com", &mut bob, "bob@example.com");
    let (mut alice_sb, mut bob_sb) = open_chat(
        &server,
        &config,
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
    );
    say(&mut alice_sb, "alice@example.com", &mut bob_sb, 3);
    say(&mut bob_sb, "bob@example.com", &mut alice_sb, 2);
    // A larger burst than one TLS record still arrives whole and in order.
    for trid in 10..60 {
        alice_sb.send_payload(&format!("MSG {trid} N"), MESSAGE);
    }
    for _ in 10..60 {
        let (_, payload) = bob_sb.read_payload_line();
        assert_eq!(payload, MESSAGE);
    }
    bob_sb.send("OUT");
    alice_sb.expect("BYE bob@example.com");

    // A plain-text client on the TLS listener is not served: at most a TLS
    // alert record (7 bytes) comes back before the close.
    let mut plain = Client::connect(server.addr("ns"));
    plain.send("VER 1 MSNP8 CVR0");
    assert!(plain.drain_to_eof() <= 7);
}

#[test]
fn https_nexus_and_login_then_tls_notification_login() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("msnpd test CA");
    let (cert, key) = write_leaf(dir.path(), "server", &ca.server("web"));
    let server = start(&tls_overrides(&["http", "ns", "admin"], &cert, &key));
    server.add_user("carol@example.com", "secret-c");
    let config = client_config(&[&ca.pem()], None);
    let connect = |addr: &str| tls_connect(addr, &config).expect("HTTPS handshake");

    let policy = "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062763079,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619";
    let ticket = server
        .passport_login_via(connect, "https", "carol@example.com", "secret-c", policy)
        .expect("HTTPS login");
    assert_eq!(
        server.passport_login_via(connect, "https", "carol@example.com", "wrong", policy),
        Err(401)
    );

    // The ticket from the HTTPS login works on the TLS notification listener.
    let mut c = tls_client(server.addr("ns"), &config);
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send("USR 2 TWN I carol@example.com");
    c.expect_prefix("USR 2 TWN S ");
    c.send(&format!("USR 3 TWN S {ticket}"));
    c.expect_prefix("USR 3 OK carol@example.com ");

    // The admin listener over HTTPS.
    let admin = server.addr("admin");
    let health = common::http_get_on(connect(admin), admin, "/healthz", &[]);
    assert_eq!(health.status, 200);
}

#[test]
fn a_client_trusting_another_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("msnpd test CA");
    let (cert, key) = write_leaf(dir.path(), "server", &ca.server("first"));
    let server = start(&tls_overrides(&["ns", "http"], &cert, &key));
    let other = Ca::new("some other CA");
    let wrong = client_config(&[&other.pem()], None);
    for listener in ["ns", "http"] {
        let error = tls_connect(server.addr(listener), &wrong)
            .err()
            .unwrap_or_else(|| panic!("{listener}: a client trusting another CA got through"));
        let text = error.to_string();
        assert!(
            text.contains("invalid peer certificate") && text.contains("UnknownIssuer"),
            "{listener}: {text}"
        );
    }
    // A client trusting the right CA is served meanwhile.
    let right = client_config(&[&ca.pem()], None);
    let mut c = tls_client(server.addr("ns"), &right);
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
}

#[test]
fn a_stalled_handshake_is_closed_after_its_timeout_and_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("msnpd test CA");
    let (cert, key) = write_leaf(dir.path(), "server", &ca.server("first"));
    let mut overrides = tls_overrides(&["ns", "http"], &cert, &key);
    overrides.push("listeners.ns.tls_handshake_timeout_secs=1".into());
    overrides.push("listeners.http.tls_handshake_timeout_secs=1".into());
    let server = start(&overrides);
    server.add_user("dave@example.com", "pw-d");
    let config = client_config(&[&ca.pem()], None);

    // Connections that never send a ClientHello, and one that stops halfway
    // through its record header.
    let mut stalled: Vec<Client> = ["ns", "ns", "http"]
        .iter()
        .map(|l| Client::connect(server.addr(l)))
        .collect();
    let mut partial = Client::connect(server.addr("ns"));
    partial.send_raw(&[0x16, 0x03, 0x01]);

    // Meanwhile other clients complete their handshakes and log in.
    let mut dave = server.online_on(tls_client(server.addr("ns"), &config), "dave@example.com");
    dave.send("CHG 5 NLN 0");
    dave.expect("CHG 5 NLN 0");

    // The stalled ones are closed by the server, without a byte (a read that
    // waits longer than the client's read timeout fails the test).
    for c in stalled.iter_mut().chain(std::iter::once(&mut partial)) {
        assert_eq!(c.drain_to_eof(), 0);
    }
    // The logged-in client is still served.
    dave.send("PNG");
    dave.expect_prefix("QNG");
}

#[test]
fn sighup_swaps_the_certificate_under_a_connected_client() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("msnpd test CA");
    let first = ca.server("first");
    let (cert, key) = write_leaf(dir.path(), "server", &first);
    let server = start(&tls_overrides(&["ns", "sb"], &cert, &key));
    for user in ["erin@example.com", "frank@example.com", "grace@example.com"] {
        server.add_user(user, "pw");
    }
    let config = client_config(&[&ca.pem()], None);

    let mut erin = server.online_on(tls_client(server.addr("ns"), &config), "erin@example.com");
    let mut frank = server.online_on(tls_client(server.addr("ns"), &config), "frank@example.com");
    assert_eq!(peer_leaf(erin.stream()), leaf_der(&first));
    befriend_online(
        &mut erin,
        "erin@example.com",
        &mut frank,
        "frank@example.com",
    );
    let (mut erin_sb, mut frank_sb) = open_chat(
        &server,
        &config,
        &mut erin,
        "erin@example.com",
        &mut frank,
        "frank@example.com",
    );
    say(&mut erin_sb, "erin@example.com", &mut frank_sb, 3);

    // Replace the files (by rename, as certificate tools do) and reload.
    let second = ca.server("second");
    let staging = dir.path().join("staging");
    std::fs::create_dir(&staging).unwrap();
    let (new_cert, new_key) = write_leaf(&staging, "server", &second);
    std::fs::rename(new_key, &key).unwrap();
    std::fs::rename(new_cert, &cert).unwrap();
    server.hangup();

    // New handshakes get the new certificate once the reload is done.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let probe = tls_connect(server.addr("sb"), &config).expect("handshake");
        if peer_leaf(&probe) == leaf_der(&second) {
            break;
        }
        assert_eq!(peer_leaf(&probe), leaf_der(&first));
        assert!(
            Instant::now() < deadline && attempts < 500,
            "the new certificate was not served after SIGHUP"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let grace = tls_client(server.addr("ns"), &config);
    assert_eq!(peer_leaf(grace.stream()), leaf_der(&second));
    let mut grace = server.online_on(grace, "grace@example.com");

    // The clients connected before the reload keep their sessions and chat on.
    assert_eq!(peer_leaf(erin_sb.stream()), leaf_der(&first));
    say(&mut erin_sb, "erin@example.com", &mut frank_sb, 4);
    say(&mut frank_sb, "frank@example.com", &mut erin_sb, 5);
    erin.send("PNG");
    erin.expect_prefix("QNG");

    // ... and can bring in someone who connected with the new certificate.
    common::befriend(
        &mut frank,
        "frank@example.com",
        &mut grace,
        "grace@example.com",
        40,
    );
    grace.send("CHG 41 NLN 0");
    skip_until(&mut grace, "CHG 41 NLN 0");
    frank_sb.send("CAL 6 grace@example.com");
    frank_sb.expect_prefix("CAL 6 RINGING ");
    let rng = skip_until(&mut grace, "RNG ");
    let parts: Vec<&str> = rng.split(' ').collect();
    let mut grace_sb = tls_client(parts[2], &config);
    grace_sb.send(&format!(
        "ANS 1 grace@example.com {} {}",
        parts[4], parts[1]
    ));
    grace_sb.expect_prefix("IRO 1 ");
    grace_sb.expect_prefix("IRO 1 ");
    grace_sb.expect("ANS 1 OK");
    erin_sb.expect("JOI grace@example.com grace@example.com");
    frank_sb.expect("JOI grace@example.com grace@example.com");
    say(&mut erin_sb, "erin@example.com", &mut grace_sb, 7);
    let (head, _) = frank_sb.read_payload_line();
    assert!(head.starts_with("MSG erin@example.com "), "{head}");
}

#[test]
fn required_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("msnpd test CA");
    let clients_ca = Ca::new("msnpd clients CA");
    let (cert, key) = write_leaf(dir.path(), "server", &ca.server("first"));
    let clients_ca_path = dir.path().join("clients-ca.pem");
    std::fs::write(&clients_ca_path, clients_ca.pem()).unwrap();
    let mut overrides = tls_overrides(&["ns"], &cert, &key);
    overrides.push("listeners.ns.tls_client_auth=required".into());
    overrides.push(format!(
        "listeners.ns.tls_client_ca={}",
        clients_ca_path.display()
    ));
    let server = start(&overrides);
    let ns = server.addr("ns");

    // A client signed by the clients' CA is served.
    let good = clients_ca.client("peer.example.com");
    let mut c = tls_client(ns, &client_config(&[&ca.pem()], Some(&good)));
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");

    // Without a certificate, or with one from another CA, the server ends the
    // handshake with an alert (seen by the client at its first read with TLS 1.3).
    let stranger = Ca::new("stranger CA").client("peer.example.com");
    for (what, identity) in [("no certificate", None), ("a stranger's", Some(&stranger))] {
        let config = client_config(&[&ca.pem()], identity);
        let error = match tls_connect(ns, &config) {
            Err(error) => error,
            Ok(mut stream) => {
                stream.write_all(b"VER 1 MSNP8 CVR0\r\n").unwrap();
                let mut buf = [0u8; 64];
                match stream.read(&mut buf) {
                    Err(error) => error,
                    Ok(n) => panic!("{what}: served {:?}", String::from_utf8_lossy(&buf[..n])),
                }
            }
        };
        assert!(error.to_string().contains("alert"), "{what}: {error}");
    }
}
