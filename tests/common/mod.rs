//! Test harness: starts the real `msnpd` binary on 127.0.0.1:0 with a private
//! SQLite store (or the PostgreSQL URL given), waits for its ready file, and
//! drives raw MSNP lines over blocking sockets (plain TCP or TLS) with read
//! timeouts.
#![allow(dead_code)]

pub mod admin_http;
pub mod chat;
pub mod fault_proxy;
pub mod ops;
pub mod pg_cluster;
pub mod postgres;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `msnpd` binary under test: `MSNPD_TEST_BIN` when set (useful when several
/// checkouts share one target directory and so one `debug/msnpd`), else the one
/// cargo built for this test.
pub fn msnpd_bin() -> PathBuf {
    std::env::var_os("MSNPD_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_msnpd")))
}

/// How long any single expected line may take.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running msnpd process.
pub struct Server {
    child: Child,
    /// Holds the store (SQLite) and the ready file; `None` only while restarting.
    dir: Option<tempfile::TempDir>,
    /// Listener name → `ip:port`.
    pub addrs: HashMap<String, String>,
    overrides: Vec<String>,
    /// The open-file limit it was started with, if any.
    fd_limit: Option<u32>,
    /// Where its stderr goes (appended), if not inherited.
    stderr: Option<PathBuf>,
}

impl Server {
    /// Starts msnpd with an SQLite store in a temporary directory and the given
    /// extra `-O key=value` overrides.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("msnpd.sqlite");
        Self::start_with_store(dir, &format!("sqlite://{}", db.display()), extra)
    }

    /// Starts msnpd on the given store URL.
    pub fn start_with_store(dir: tempfile::TempDir, store_url: &str, extra: &[&str]) -> Server {
        Self::launch(dir, store_url, extra, None, &[])
    }

    /// Starts msnpd (SQLite store in `dir`, which may hold one from an earlier
    /// run) with extra environment variables, e.g. `FAILPOINTS`.
    pub fn start_in_with_env(
        dir: tempfile::TempDir,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let db = dir.path().join("msnpd.sqlite");
        Self::launch(dir, &format!("sqlite://{}", db.display()), extra, None, env)
    }

    /// Starts msnpd (SQLite store) allowed at most `fds` open file descriptors,
    /// through `sh -c 'ulimit -n FDS && exec msnpd ...'` (the child is msnpd itself).
    pub fn start_with_fd_limit(fds: u32, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("msnpd.sqlite");
        Self::launch(
            dir,
            &format!("sqlite://{}", db.display()),
            extra,
            Some(fds),
            &[],
        )
    }

    /// Starts msnpd (SQLite store) with its stderr appended to `stderr`.
    pub fn start_with_stderr(extra: &[&str], stderr: PathBuf) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("msnpd.sqlite");
        let mut overrides = base_overrides(&format!("sqlite://{}", db.display()));
        overrides.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(dir, overrides, None, &[], Some(stderr))
    }

    /// The directory holding its store and ready file.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.as_ref().expect("server directory").path()
    }

    fn launch(
        dir: tempfile::TempDir,
        store_url: &str,
        extra: &[&str],
        fd_limit: Option<u32>,
        env: &[(&str, &str)],
    ) -> Server {
        let mut overrides = base_overrides(store_url);
        overrides.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(dir, overrides, fd_limit, env, None)
    }

    /// Runs `msnpd -O ... serve` in `dir` and waits for its ready file.
    fn spawn(
        dir: tempfile::TempDir,
        overrides: Vec<String>,
        fd_limit: Option<u32>,
        env: &[(&str, &str)],
        stderr: Option<PathBuf>,
    ) -> Server {
        let ready: PathBuf = dir.path().join("ready.json");
        let _ = std::fs::remove_file(&ready);
        let mut cmd = match fd_limit {
            None => Command::new(msnpd_bin()),
            Some(fds) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {fds} && exec \"$0\" \"$@\""))
                    .arg(msnpd_bin());
                sh
            }
        };
        for o in &overrides {
            cmd.arg("-O").arg(o);
        }
        cmd.arg("serve").arg("--ready-file").arg(&ready);
        cmd.stdin(Stdio::null());
        cmd.envs(env.iter().copied());
        if let Some(path) = &stderr {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("open the stderr file");
            cmd.stderr(file);
        }
        let mut child = cmd.spawn().expect("spawn msnpd");
        let addrs = wait_for_ready_file(&mut child, &ready);
        Server {
            child,
            dir: Some(dir),
            addrs,
            overrides,
            fd_limit,
            stderr,
        }
    }

    /// Stops the server cleanly (as [`Server::stop`], asserting a successful
    /// exit) and starts a new process on the same store with the same
    /// settings; its listeners get new ports.
    pub fn restart(mut self) -> Server {
        let status = self.terminate_and_wait();
        assert!(status.success(), "msnpd exited with {status}");
        let dir = self.dir.take().expect("server directory");
        let overrides = std::mem::take(&mut self.overrides);
        let fd_limit = self.fd_limit;
        let stderr = self.stderr.take();
        drop(self);
        Self::spawn(dir, overrides, fd_limit, &[], stderr)
    }

    /// Kills the process with SIGKILL (no clean shutdown) and waits for it.
    pub fn kill9(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").arg("-KILL").arg(&pid).status();
        self.wait_exit();
    }

    /// Waits (bounded) for the process to exit, however it ends, and returns
    /// its status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "msnpd did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts a new process on the same store and settings (with `env`) once
    /// this one has ended, however (after [`Server::kill9`] or a crash); its
    /// listeners get new ports.
    pub fn restart_after_exit(mut self, env: &[(&str, &str)]) -> Server {
        self.wait_exit();
        let dir = self.dir.take().expect("server directory");
        let overrides = std::mem::take(&mut self.overrides);
        let fd_limit = self.fd_limit;
        let stderr = self.stderr.take();
        drop(self);
        Self::spawn(dir, overrides, fd_limit, env, stderr)
    }

    /// Runs `msnpd [-O ...] ARGS` against the same store; returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(msnpd_bin());
        for o in &self.overrides {
            cmd.arg("-O").arg(o);
        }
        let out = cmd.args(args).output().expect("run msnpd cli");
        assert!(
            out.status.success(),
            "msnpd {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `msnpd [-O ...] [-O EXTRA...] ARGS` against the same store, with
    /// extra overrides that win over the server's; returns stdout.
    pub fn cli_with(&self, extra: &[&str], args: &[&str]) -> String {
        let mut cmd = Command::new(msnpd_bin());
        for o in self
            .overrides
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
        {
            cmd.arg("-O").arg(o);
        }
        let out = cmd.args(args).output().expect("run msnpd cli");
        assert!(
            out.status.success(),
            "msnpd {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Creates an account.
    pub fn add_user(&self, email: &str, password: &str) {
        self.cli(&["user", "add", email, "--password", password]);
    }

    /// A login ticket from `msnpd ticket`.
    pub fn ticket(&self, email: &str) -> String {
        self.cli(&["ticket", email]).trim().to_string()
    }

    /// Address of a listener.
    pub fn addr(&self, name: &str) -> &str {
        &self.addrs[name]
    }

    /// Connects a raw client to a listener.
    pub fn connect(&self, name: &str) -> Client {
        Client::connect(self.addr(name))
    }

    /// Logs `email` in over MSNP8 with a ticket from the CLI; returns the
    /// client after the profile message.
    pub fn login8(&self, email: &str) -> Client {
        self.login8_on(self.connect("ns"), email)
    }

    /// [`Server::login8`] on a client already connected to the notification
    /// listener (plain TCP or TLS).
    pub fn login8_on<S: Stream>(&self, c: Client<S>, email: &str) -> Client<S> {
        let (mut c, reply) = self.ticket_login8_on(c, email, &self.ticket(email));
        assert!(reply.starts_with(&format!("USR 4 OK {email} ")), "{reply}");
        let (header, payload) = c.read_payload_line();
        assert!(header.starts_with("MSG Hotmail Hotmail "), "{header}");
        assert!(String::from_utf8_lossy(&payload).contains("text/x-msmsgsprofile"));
        c
    }

    /// Starts an MSNP8 ticket login of `email` (`VER 1`, `CVR 2`, `USR 3 TWN
    /// I`, `USR 4 TWN S ticket`); returns the client and the reply to `USR 4`.
    pub fn ticket_login8(&self, email: &str, ticket: &str) -> (Client, String) {
        self.ticket_login8_on(self.connect("ns"), email, ticket)
    }

    /// [`Server::ticket_login8`] on a client already connected to the
    /// notification listener (plain TCP or TLS).
    pub fn ticket_login8_on<S: Stream>(
        &self,
        mut c: Client<S>,
        email: &str,
        ticket: &str,
    ) -> (Client<S>, String) {
        c.send("VER 1 MSNP8 CVR0");
        c.expect("VER 1 MSNP8");
        c.send(&format!(
            "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS {email}"
        ));
        c.expect_prefix("CVR 2 ");
        c.send(&format!("USR 3 TWN I {email}"));
        c.expect_prefix("USR 3 TWN S ");
        c.send(&format!("USR 4 TWN S {ticket}"));
        let reply = c.line();
        (c, reply)
    }

    /// Runs `msnpd [-O ...] ARGS` against the same store without asserting
    /// success; returns the whole output (status, stdout, stderr).
    pub fn cli_output(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(msnpd_bin());
        for o in &self.overrides {
            cmd.arg("-O").arg(o);
        }
        cmd.args(args).output().expect("run msnpd cli")
    }

    /// Logs `email` in and downloads its list (`SYN 5 0`), draining the list
    /// lines; the user has not set a status yet.
    pub fn online(&self, email: &str) -> Client {
        self.online_on(self.connect("ns"), email)
    }

    /// [`Server::online`] on a client already connected to the notification
    /// listener (plain TCP or TLS).
    pub fn online_on<S: Stream>(&self, c: Client<S>, email: &str) -> Client<S> {
        let mut c = self.login8_on(c, email);
        c.send("SYN 5 0");
        let syn = c.expect_prefix("SYN 5 ");
        let parts: Vec<&str> = syn.split(' ').collect();
        let contacts: usize = parts[3].parse().unwrap();
        let groups: usize = parts[4].parse().unwrap();
        for _ in 0..(2 + contacts + groups) {
            c.line();
        }
        c
    }

    /// The Passport 1.4 sign-in a real MSN Messenger 5 performs: ask the nexus where
    /// to log in, send the credentials with the server's policy to `DALogin`, and
    /// return the `from-PP` ticket, or the HTTP status on failure.
    pub fn passport_login(&self, email: &str, password: &str, policy: &str) -> Result<String, u16> {
        let connect = |addr: &str| TcpStream::connect(addr).expect("connect http");
        self.passport_login_via(connect, "http", email, password, policy)
    }

    /// [`Server::passport_login`] over the streams `connect` opens (plain TCP
    /// or TLS), expecting `DALogin` to use `scheme` (`http` or `https`).
    pub fn passport_login_via<S: Stream>(
        &self,
        connect: impl Fn(&str) -> S,
        scheme: &str,
        email: &str,
        password: &str,
        policy: &str,
    ) -> Result<String, u16> {
        let http = self.addr("http");
        let nexus = http_get_on(connect(http), http, "/rdr/pprdr.asp", &[]);
        assert_eq!(nexus.status, 200);
        let urls = nexus.header("PassportURLs").expect("PassportURLs header");
        let da_login = urls
            .split(',')
            .find_map(|kv| kv.strip_prefix("DALogin="))
            .expect("DALogin");
        let without_scheme = da_login
            .strip_prefix(&format!("{scheme}://"))
            .unwrap_or_else(|| panic!("DALogin {da_login} is not {scheme}://"));
        let (host, path) = without_scheme.split_at(without_scheme.find('/').unwrap());
        assert_eq!(host, self.addr("http"));
        let authorization = format!(
            "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={},{policy}",
            percent_encode(email),
            percent_encode(password)
        );
        let resp = http_get_on(
            connect(host),
            host,
            path,
            &[("Authorization", &authorization), ("User-Agent", "MSMSGS")],
        );
        if resp.status != 200 {
            let challenge = resp.header("WWW-Authenticate").unwrap_or_default();
            assert!(challenge.contains("da-status=failed"), "{challenge}");
            return Err(resp.status);
        }
        let info = resp
            .header("Authentication-Info")
            .expect("Authentication-Info");
        let start = info.find("from-PP='").expect("from-PP") + "from-PP='".len();
        let len = info[start..].find('\'').expect("closing quote");
        Ok(info[start..start + len].to_string())
    }

    /// Sends SIGHUP (reload) without waiting for anything.
    pub fn hangup(&self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").arg("-HUP").arg(&pid).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -HUP {pid} failed");
    }

    /// Sends SIGTERM without waiting for the process to exit.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").arg("-TERM").arg(&pid).status();
    }

    /// Waits (bounded) for the process to exit and returns its status.
    pub fn wait(mut self) -> std::process::ExitStatus {
        self.wait_exit()
    }

    /// Logs `email` in over an MD5 dialect (`dialect` in 2..=7) the way that
    /// generation of clients does: `VER` (offering what such a client offers),
    /// `INF`, `CVR` only from MSNP4 on (MSN 1.x/2.x may not send it), then
    /// `USR MD5 I` and `USR MD5 S md5hex(salt + password)`. Checks the dialect's
    /// `USR OK` shape and the profile message; returns the client after it.
    pub fn login_md5(&self, email: &str, password: &str, dialect: u8) -> Client {
        let mut c = self.connect("ns");
        c.send(&format!("VER 1 {}", md5_client_offer(dialect)));
        c.expect(&format!("VER 1 MSNP{dialect}"));
        c.send("INF 2");
        c.expect("INF 2 MD5");
        if dialect >= 4 {
            c.send("CVR 3 0x0409 win 4.10 i386 MSMSGS 4.5.0127 MSMSGS");
            c.expect_prefix("CVR 3 ");
        }
        c.send(&format!("USR 4 MD5 I {email}"));
        let salt = c
            .expect_prefix("USR 4 MD5 S ")
            .trim_start_matches("USR 4 MD5 S ")
            .to_string();
        c.send(&format!(
            "USR 5 MD5 S {}",
            md5_hex(&format!("{salt}{password}"))
        ));
        let ok = c.expect_prefix(&format!("USR 5 OK {email} "));
        // MSNP2–5: `email nick`; MSNP6–7: `email nick 1`.
        let fields = ok.split(' ').count();
        assert_eq!(fields, if dialect >= 6 { 6 } else { 5 }, "{ok}");
        let (header, payload) = c.read_payload_line();
        assert!(header.starts_with("MSG Hotmail Hotmail "), "{header}");
        assert!(String::from_utf8_lossy(&payload).contains("text/x-msmsgsprofile"));
        c
    }

    /// Logs `email` in over ticket dialect `MSNP{version}` (8..=12) with a ticket
    /// from the CLI; returns the client after the profile message.
    pub fn login_as(&self, email: &str, version: u8) -> Client {
        let ticket = self.ticket(email);
        let mut c = self.connect("ns");
        c.send(&format!("VER 1 MSNP{version} CVR0"));
        c.expect(&format!("VER 1 MSNP{version}"));
        c.send(&format!(
            "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 MSMSGS {email}"
        ));
        c.expect_prefix("CVR 2 ");
        c.send(&format!("USR 3 TWN I {email}"));
        c.expect_prefix("USR 3 TWN S ");
        c.send(&format!("USR 4 TWN S {ticket}"));
        let ok = c.expect_prefix(&format!("USR 4 OK {email} "));
        // MSNP8–9 carry the nick before "1 0"; MSNP10+ do not.
        let fields = ok.split(' ').count();
        assert_eq!(fields, if version >= 10 { 6 } else { 7 }, "{ok}");
        let (header, payload) = c.read_payload_line();
        assert!(header.starts_with("MSG Hotmail Hotmail "), "{header}");
        assert!(String::from_utf8_lossy(&payload).contains("text/x-msmsgsprofile"));
        c
    }

    /// Stops the server with SIGTERM; returns its exit status and the
    /// directory holding its store, for the test to inspect.
    pub fn stop_keeping_store(mut self) -> (std::process::ExitStatus, tempfile::TempDir) {
        let status = self.terminate_and_wait();
        (status, self.dir.take().expect("server directory"))
    }

    /// Stops the server with SIGTERM and returns its exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate_and_wait()
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit.
    fn terminate_and_wait(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").arg("-TERM").arg(&pid).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "msnpd did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The overrides every test server gets: its store and port-0 listeners.
fn base_overrides(store_url: &str) -> Vec<String> {
    vec![
        format!("store.url={store_url}"),
        "listeners.ns.bind=127.0.0.1:0".to_string(),
        "listeners.sb.bind=127.0.0.1:0".to_string(),
        "listeners.http.bind=127.0.0.1:0".to_string(),
        "listeners.admin.bind=127.0.0.1:0".to_string(),
    ]
}

/// Waits (bounded, 30 s) until `child` has written the listener map to its
/// ready file and returns it; panics if the process exits first.
pub fn wait_for_ready_file(child: &mut Child, ready: &std::path::Path) -> HashMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(ready)
            && let Ok(map) = serde_json::from_str::<HashMap<String, String>>(&text)
        {
            return map;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("msnpd exited early: {status}");
        }
        assert!(Instant::now() < deadline, "msnpd did not become ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Makes `a` and `b` watch each other: both add the other to FL (group 0) with
/// TrID `trid`, and each sees the reverse-list notification.
pub fn befriend<S: Stream>(
    a: &mut Client<S>,
    a_email: &str,
    b: &mut Client<S>,
    b_email: &str,
    trid: u32,
) {
    a.send(&format!("ADD {trid} FL {b_email} {b_email} 0"));
    a.expect_prefix(&format!("ADD {trid} FL "));
    b.expect_prefix("ADD 0 RL ");
    b.send(&format!("ADD {trid} FL {a_email} {a_email} 0"));
    b.expect_prefix(&format!("ADD {trid} FL "));
    a.expect_prefix("ADD 0 RL ");
}

/// Percent-encodes everything but ASCII letters, digits and `-_.`.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A raw HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header lines as `(name, value)`, in order.
    pub headers: Vec<(String, String)>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `GET path` to `addr` over a fresh connection (with `Connection: close`
/// and the extra header lines given) and reads the whole response head.
pub fn http_get(addr: &str, path: &str, extra_headers: &[(&str, &str)]) -> HttpResponse {
    let stream = TcpStream::connect(addr).expect("connect http");
    http_get_on(stream, addr, path, extra_headers)
}

/// [`http_get`] over an open stream (plain TCP or TLS) to host `addr`.
pub fn http_get_on<S: Stream>(
    mut stream: S,
    addr: &str,
    path: &str,
    extra_headers: &[(&str, &str)],
) -> HttpResponse {
    stream.tcp().set_read_timeout(Some(LINE_TIMEOUT)).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in extra_headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.flush().unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A TLS peer that closes without close_notify, after the response.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
            Err(e) => panic!("read http response: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpResponse { status, headers }
}

/// A blocking byte stream a [`Client`] can drive: plain TCP, or TLS over TCP
/// (rustls's client).
pub trait Stream: Read + Write {
    /// The TCP socket underneath (for timeouts and socket options).
    fn tcp(&self) -> &TcpStream;
}

impl Stream for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

/// A TLS client connection over TCP.
pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

impl Stream for TlsStream {
    fn tcp(&self) -> &TcpStream {
        &self.sock
    }
}

/// A raw MSNP client over a blocking stream: plain TCP by default, or TLS.
pub struct Client<S: Stream = TcpStream> {
    reader: BufReader<S>,
}

impl Client {
    /// Connects to `addr`.
    pub fn connect(addr: &str) -> Client {
        Client::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    /// Connects to `addr` from the local address `source` (any 127.x.y.z works
    /// on loopback), so tests can act as several client addresses.
    pub fn connect_from(source: &str, addr: &str) -> Client {
        Client::from_stream(connect_from(source, addr))
    }

    /// Another handle on the socket, for writing from a second thread.
    pub fn writer(&self) -> TcpStream {
        self.reader.get_ref().try_clone().unwrap()
    }
}

impl<S: Stream> Client<S> {
    /// A client over an open stream.
    pub fn from_stream(stream: S) -> Client<S> {
        stream.tcp().set_read_timeout(Some(LINE_TIMEOUT)).unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    /// The stream (e.g. to look at the TLS session).
    pub fn stream(&self) -> &S {
        self.reader.get_ref()
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        let stream = self.reader.get_mut();
        stream.write_all(bytes).unwrap();
        stream.flush().unwrap();
    }

    /// Reads everything until the server closes the connection (a reset
    /// ends it too) and returns it.
    pub fn read_to_eof(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return all,
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return all,
                Err(e) => panic!("expected the connection to end, got error {e}"),
            }
        }
    }

    /// Reads and discards everything until the server closes the connection;
    /// returns how many bytes came.
    pub fn drain_to_eof(&mut self) -> usize {
        let mut total = 0;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return total,
                Err(e) => panic!("expected the connection to end, got error {e}"),
            }
        }
    }

    /// Sends one line (CRLF added).
    pub fn send(&mut self, line: &str) {
        self.write_bytes(format!("{line}\r\n").as_bytes());
    }

    /// Sends raw bytes one at a time, each in its own segment.
    pub fn send_bytewise(&mut self, bytes: &[u8]) {
        self.reader.get_ref().tcp().set_nodelay(true).unwrap();
        for b in bytes {
            self.write_bytes(std::slice::from_ref(b));
        }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.write_bytes(bytes);
    }

    /// Sends `VERB trid ... len` + payload (the length is appended).
    pub fn send_payload(&mut self, head: &str, payload: &[u8]) {
        let mut bytes = format!("{head} {}\r\n", payload.len()).into_bytes();
        bytes.extend_from_slice(payload);
        self.send_raw(&bytes);
    }

    /// Reads one line (without CRLF).
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read line");
        assert!(n > 0, "connection closed while a line was expected");
        assert!(line.ends_with("\r\n"), "line without CRLF: {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// Reads one line (without CRLF), or `None` once the connection ended
    /// (closed, reset, or no line within the read timeout).
    pub fn try_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(n) if n > 0 && line.ends_with("\r\n") => {
                line.truncate(line.len() - 2);
                Some(line)
            }
            _ => None,
        }
    }

    /// Reads exactly `len` payload bytes, or `None` if the connection ended.
    pub fn try_payload(&mut self, len: usize) -> Option<Vec<u8>> {
        let mut payload = vec![0; len];
        self.reader.read_exact(&mut payload).ok().map(|()| payload)
    }

    /// Sends raw bytes; `false` if the connection is gone.
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> bool {
        let stream = self.reader.get_mut();
        stream
            .write_all(bytes)
            .and_then(|()| stream.flush())
            .is_ok()
    }

    /// Sets how long a read may wait.
    pub fn set_read_timeout(&mut self, wait: Duration) {
        self.reader
            .get_ref()
            .tcp()
            .set_read_timeout(Some(wait))
            .unwrap();
    }

    /// Reads a line if one starts arriving within `wait` (for polling loops that
    /// must keep a connection active); a line that has started is read in full.
    pub fn line_within(&mut self, wait: Duration) -> Option<String> {
        self.reader
            .get_ref()
            .tcp()
            .set_read_timeout(Some(wait))
            .unwrap();
        let mut line = String::new();
        let first = self.reader.read_line(&mut line);
        self.reader
            .get_ref()
            .tcp()
            .set_read_timeout(Some(LINE_TIMEOUT))
            .unwrap();
        match first {
            Ok(0) => panic!("connection closed while polling for a line"),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if line.is_empty() {
                    return None;
                }
                self.reader.read_line(&mut line).expect("rest of line");
            }
            Err(e) => panic!("read error while polling: {e}"),
        }
        assert!(line.ends_with("\r\n"), "line without CRLF: {line:?}");
        line.truncate(line.len() - 2);
        Some(line)
    }

    /// Reads a line and asserts it equals `expected`.
    pub fn expect(&mut self, expected: &str) {
        let got = self.line();
        assert_eq!(got, expected);
    }

    /// Reads a line and asserts its prefix; returns the line.
    pub fn expect_prefix(&mut self, prefix: &str) -> String {
        let got = self.line();
        assert!(got.starts_with(prefix), "expected {prefix:?}…, got {got:?}");
        got
    }

    /// Reads a payload command: the line, then as many bytes as its last token says.
    pub fn read_payload_line(&mut self) -> (String, Vec<u8>) {
        let line = self.line();
        let len: usize = line
            .rsplit(' ')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no length in {line:?}"));
        let mut payload = vec![0; len];
        self.reader.read_exact(&mut payload).expect("payload");
        (line, payload)
    }

    /// Reads exactly `len` payload bytes (after a line read with [`Client::line`]).
    pub fn payload(&mut self, len: usize) -> Vec<u8> {
        let mut payload = vec![0; len];
        self.reader.read_exact(&mut payload).expect("payload");
        payload
    }

    /// Asserts the server closes the connection (EOF) without sending more lines.
    pub fn expect_closed(&mut self) {
        let mut rest = String::new();
        match self.reader.read_line(&mut rest) {
            Ok(0) => {}
            Ok(_) => panic!("expected close, got {rest:?}"),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected close, got error {e}"),
        }
    }

    /// Sends `PNG` and reads lines until `QNG`: everything the server sent before
    /// the fence (lets a test assert that nothing else arrived, without sleeping).
    pub fn fence(&mut self) -> Vec<String> {
        self.send("PNG");
        let mut lines = Vec::new();
        loop {
            let l = self.line();
            if l == "QNG" || l.starts_with("QNG ") {
                return lines;
            }
            lines.push(l);
        }
    }
}

/// What a client of that generation offers in `VER` (research §1: MSN 1.0 offers
/// MSNP2, 2.0 `MSNP3 MSNP2`, 2.2 `MSNP4 MSNP3`, 3.x `MSNP5 MSNP4`, 4.5+ `MSNP7
/// MSNP6 MSNP5 MSNP4 CVR0`); MSNP6 is offered as its own newest.
pub fn md5_client_offer(dialect: u8) -> String {
    match dialect {
        2 => "MSNP2".to_string(),
        3..=5 => format!("MSNP{dialect} MSNP{}", dialect - 1),
        6 => "MSNP6 MSNP5 MSNP4 CVR0".to_string(),
        _ => format!("MSNP{dialect} MSNP6 MSNP5 MSNP4 CVR0"),
    }
}

/// Lowercase hex MD5 of `text`.
pub fn md5_hex(text: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(text.as_bytes()))
}

/// A blocking TCP connection to `addr` from local address `source` (bound
/// before connecting, which `std` cannot do alone).
pub fn connect_from(source: &str, addr: &str) -> TcpStream {
    let source: std::net::SocketAddr = format!("{source}:0").parse().unwrap();
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(source).unwrap();
        let stream = socket.connect(addr).await.expect("connect");
        stream.into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream
}
