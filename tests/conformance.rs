//! Runs the conformance cases (`conformance/cases`) against the real `msnpd`
//! binary, claiming everything msnpd serves: MSNP2–MSNP12 (MD5 and ticket
//! login), the notification, switchboard and dispatch roles. One server with
//! the defaults runs every case, and one with `protocol.challenges = true` the
//! cases that need the `challenges` feature. Each server gets its own temporary
//! SQLite store and ports chosen by the OS (announced in the ready file);
//! accounts are made per case with `msnpd user add` on the same store (which
//! keeps the MD5 verifier the MSNP2–7 logins need). Cases run a few at a time.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use msnp_conform::case::Role;
use msnp_conform::manifest::{Auth, AuthMethod, Ports, Provision};
use msnp_conform::report::{human_summary, totals};
use msnp_conform::{Case, CaseResult, Manifest, Outcome, load_cases, run_cases, shipped_cases_dir};

/// How long the server may take to bind its listeners.
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// A running msnpd, killed when dropped.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
    listeners: BTreeMap<String, String>,
    store_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        Self::start_on(None, extra)
    }

    /// Starts msnpd on `store_url`, or on a private SQLite file when `None`.
    fn start_on(store_url: Option<&str>, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready.json");
        let store_url = store_url
            .map(str::to_owned)
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("db.sqlite").display()));
        let log = File::create(dir.path().join("server.log")).unwrap();
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--ready-file".into(),
            ready.display().to_string(),
        ];
        for option in [
            format!("store.url={store_url}"),
            "listeners.ns.bind=127.0.0.1:0".into(),
            "listeners.sb.bind=127.0.0.1:0".into(),
            "listeners.http.bind=127.0.0.1:0".into(),
            "listeners.admin.bind=127.0.0.1:0".into(),
            "listeners.ds={ role = \"dispatch\", bind = \"127.0.0.1:0\" }".into(),
        ]
        .into_iter()
        .chain(extra.iter().map(|s| s.to_string()))
        {
            args.push("-O".into());
            args.push(option);
        }
        let child = Command::new(env!("CARGO_BIN_EXE_msnpd"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            dir,
            listeners: BTreeMap::new(),
            store_url,
        };
        server.listeners = server.wait_ready(&ready);
        server
    }

    /// Polls the ready file until it holds the listener map (bounded).
    fn wait_ready(&mut self, ready: &Path) -> BTreeMap<String, String> {
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            if let Ok(text) = std::fs::read_to_string(ready)
                && let Ok(map) = serde_json::from_str::<BTreeMap<String, String>>(&text)
            {
                return map;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "msnpd exited ({status}) before writing its ready file\n{}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "msnpd did not write {} within {READY_DEADLINE:?}\n{}",
                ready.display(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The last lines of the server's log.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(60);
        format!("--- msnpd log (tail) ---\n{}", lines[start..].join("\n"))
    }

    fn listener(&self, name: &str) -> &str {
        self.listeners
            .get(name)
            .unwrap_or_else(|| panic!("the ready file has no `{name}`: {:?}", self.listeners))
    }

    /// The port of listener `name`.
    fn port(&self, name: &str) -> u16 {
        let addr = self.listener(name);
        addr.rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or_else(|| panic!("bad {name} address {addr}"))
    }

    /// A manifest claiming everything msnpd serves: MSNP2–12 (MD5 and ticket
    /// login), the notification, switchboard and dispatch roles.
    fn manifest(&self, features: &[&str]) -> Manifest {
        let manifest = Manifest {
            name: "msnpd (cargo test)".into(),
            host: "127.0.0.1".into(),
            ports: Ports {
                ns: self.port("ns"),
                dispatch: Some(self.port("ds")),
            },
            auth: Auth {
                methods: vec![AuthMethod::Md5, AuthMethod::Ticket],
                nexus: Some(format!("http://{}/rdr/pprdr.asp", self.listener("http"))),
                login_url: None,
            },
            dialects: "MSNP2-12".parse().unwrap(),
            roles: vec![Role::Ns, Role::Sb, Role::Dispatch],
            features: features.iter().map(|f| f.to_string()).collect(),
            line_timeout_ms: 5000,
            provision: Provision {
                domain: "conform.test".into(),
                command: Some(vec![
                    env!("CARGO_BIN_EXE_msnpd").into(),
                    "user".into(),
                    "add".into(),
                    "{email}".into(),
                    "--password".into(),
                    "{password}".into(),
                    "--nick".into(),
                    "{nick}".into(),
                    "-O".into(),
                    format!("store.url={}", self.store_url),
                ]),
                env: BTreeMap::new(),
                accounts: Vec::new(),
            },
        };
        manifest.validate().unwrap();
        manifest
    }
}

fn shipped_cases() -> Vec<Case> {
    load_cases(&shipped_cases_dir()).unwrap()
}

/// How many cases run at once (each with its own fresh accounts, so they do
/// not see each other).
const PARALLEL_RUNS: usize = 4;

/// Runs `cases` in [`PARALLEL_RUNS`] interleaved shares at once; returns the
/// results in the order of `cases`.
async fn run_parallel(manifest: &Manifest, cases: &[Case]) -> Vec<CaseResult> {
    let tasks: Vec<_> = (0..PARALLEL_RUNS)
        .map(|share| {
            let manifest = manifest.clone();
            let mine: Vec<Case> = cases
                .iter()
                .skip(share)
                .step_by(PARALLEL_RUNS)
                .cloned()
                .collect();
            tokio::spawn(async move { run_cases(&manifest, &mine).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.extend(task.await.unwrap());
    }
    // Back in case order (a case's dialects stay in order: the sort is stable).
    let order: BTreeMap<&str, usize> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    results.sort_by_key(|r| order.get(r.case.as_str()).copied());
    results
}

/// Runs `cases`, prints the summary, and fails naming every failed case.
async fn check(server: &Server, manifest: &Manifest, cases: &[Case]) {
    let results = run_parallel(manifest, cases).await;
    let summary = human_summary(&results);
    println!("{summary}");
    let failed: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .map(|r| r.name())
        .collect();
    assert!(
        failed.is_empty(),
        "{} conformance case(s) failed against {}:\n  {}\n\n{summary}\n{}",
        failed.len(),
        manifest.name,
        failed.join("\n  "),
        server.log_tail()
    );
    assert!(totals(&results).passed > 0, "no case ran:\n{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnpd_passes_the_conformance_cases() {
    let server = Server::start(&[]);
    let manifest = server.manifest(&[]);
    check(&server, &manifest, &shipped_cases()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnpd_with_challenges_passes_the_challenge_cases() {
    let server = Server::start(&["protocol.challenges=true"]);
    let manifest = server.manifest(&["challenges"]);
    let cases: Vec<Case> = shipped_cases()
        .into_iter()
        .filter(|c| c.features.iter().any(|f| f == "challenges"))
        .collect();
    assert!(!cases.is_empty(), "no case needs the challenges feature");
    check(&server, &manifest, &cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnpd_on_postgres_passes_the_conformance_cases() {
    use msnpd::store::testing::{PgScratch, postgres_test_url};
    let Some(base) = postgres_test_url("conformance on PostgreSQL") else {
        return;
    };
    let scratch = PgScratch::create(&base).await.unwrap();
    let server = Server::start_on(Some(scratch.url()), &[]);
    let manifest = server.manifest(&[]);
    check(&server, &manifest, &shipped_cases()).await;
    drop(server);
    scratch.drop_schema().await.unwrap();
}
