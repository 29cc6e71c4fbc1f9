//! Keeps `protocol-spec/` honest against the code:
//!
//! - `registry.toml`'s client verbs are exactly the gate's command table
//!   (`msnpd::server::gate::TABLE`): verbs, roles and dialect ranges;
//! - every registry verb has `commands/VERB.md` (with an example) and every
//!   page a registry entry; every dialect msnpd knows has `dialects/msnpNN.md`;
//!   every `ErrorCode` is in `errors.md`;
//! - every example transcript on the spec pages (a fenced block with the info
//!   string `msnp`) parses as a conformance case and passes against the real
//!   msnpd. Blocks marked `msnp pending` describe behaviour that is specified
//!   but not yet in the code: they must parse, and are listed, not run.
//!
//! The server runs with every dialect, a dispatch listener and (for the cases
//! that need the `challenges` feature) a second instance with challenges on;
//! no example may be skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use msnp_conform::case::Role;
use msnp_conform::manifest::{Auth, Ports, Provision};
use msnp_conform::report::{human_summary, totals};
use msnp_conform::{Case, DialectSet, Manifest, Outcome, parse_case, run_cases};
use msnpd::server::gate::{ConnRole, TABLE};
use serde::Deserialize;

/// How long the server may take to bind its listeners.
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// The feature the challenge examples need (msnpd with `protocol.challenges`).
const CHALLENGES: &str = "challenges";

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("protocol-spec")
}

// ---------------------------------------------------------------------------
// The registry

/// One `[verbs.VERB]` entry of `registry.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerbEntry {
    roles: Vec<String>,
    since: u8,
    until: u8,
    #[allow(dead_code)]
    trid: bool,
    #[allow(dead_code)]
    payload: bool,
    client: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    verbs: BTreeMap<String, VerbEntry>,
}

fn registry() -> BTreeMap<String, VerbEntry> {
    let path = spec_dir().join("registry.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let file: RegistryFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.verbs
}

/// `(verb, role, since, until)`, the unit both sides are compared in.
type Row = (String, &'static str, u8, u8);

fn gate_rows() -> BTreeSet<Row> {
    let roles = [
        (ConnRole::Dispatch, "ds"),
        (ConnRole::Notification, "ns"),
        (ConnRole::Switchboard, "sb"),
    ];
    let mut rows = BTreeSet::new();
    for rule in TABLE {
        for (role, name) in roles {
            if rule.in_role(role) {
                rows.insert((rule.verb.to_string(), name, rule.since, rule.until));
            }
        }
    }
    rows
}

fn registry_client_rows(verbs: &BTreeMap<String, VerbEntry>) -> BTreeSet<Row> {
    let mut rows = BTreeSet::new();
    for (verb, entry) in verbs.iter().filter(|(_, e)| e.client) {
        for role in &entry.roles {
            let role = match role.as_str() {
                "ds" => "ds",
                "ns" => "ns",
                "sb" => "sb",
                other => panic!("registry: {verb} has unknown role {other:?}"),
            };
            rows.insert((verb.clone(), role, entry.since, entry.until));
        }
    }
    rows
}

#[test]
fn registry_entries_are_well_formed() {
    // The conformance suite's coverage report reads the same file.
    let text = std::fs::read_to_string(spec_dir().join("registry.toml")).unwrap();
    msnp_conform::registry::Registry::from_toml(&text).unwrap();

    let (min, max) = (
        msnpd::proto::Dialect::MIN.version(),
        msnpd::proto::Dialect::MAX.version(),
    );
    for (verb, entry) in registry() {
        assert!(
            verb.len() == 3 && verb.bytes().all(|b| b.is_ascii_uppercase()),
            "registry: {verb:?} is not a verb"
        );
        assert!(
            min <= entry.since && entry.since <= entry.until && entry.until <= max,
            "registry: {verb} has the range {}..={} outside MSNP{min}..=MSNP{max}",
            entry.since,
            entry.until
        );
        assert!(!entry.roles.is_empty(), "registry: {verb} has no roles");
        for role in &entry.roles {
            assert!(
                ["ds", "ns", "sb"].contains(&role.as_str()),
                "registry: {verb} has unknown role {role:?}"
            );
        }
    }
}

#[test]
fn registry_client_verbs_match_the_gate() {
    let gate = gate_rows();
    let spec = registry_client_rows(&registry());
    let only_gate: Vec<&Row> = gate.difference(&spec).collect();
    let only_spec: Vec<&Row> = spec.difference(&gate).collect();
    assert!(
        only_gate.is_empty() && only_spec.is_empty(),
        "protocol-spec/registry.toml and msnpd::server::gate::TABLE disagree \
         (verb, role, since, until):\n  in the gate only: {only_gate:?}\n  \
         in the registry only: {only_spec:?}\n\
         A verb the code accepts needs a registry entry with client = true; a \
         client verb in the registry needs its gate row."
    );
}

// ---------------------------------------------------------------------------
// Pages

fn md_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_verb_has_a_page_and_every_page_a_verb() {
    let verbs: BTreeSet<String> = registry().into_keys().collect();
    let dir = spec_dir().join("commands");
    let mut pages = BTreeSet::new();
    for path in md_files(&dir) {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("# {stem} ")),
            "{} must start with `# {stem} — …`",
            path.display()
        );
        assert!(
            !examples(&text).is_empty(),
            "{} has no example (a ```msnp block)",
            path.display()
        );
        pages.insert(stem);
    }
    let no_page: Vec<&String> = verbs.difference(&pages).collect();
    let no_entry: Vec<&String> = pages.difference(&verbs).collect();
    assert!(
        no_page.is_empty() && no_entry.is_empty(),
        "registry verbs without commands/VERB.md: {no_page:?}; pages without a registry entry: {no_entry:?}"
    );
}

#[test]
fn every_dialect_has_a_page() {
    let (min, max) = (
        msnpd::proto::Dialect::MIN.version(),
        msnpd::proto::Dialect::MAX.version(),
    );
    for v in min..=max {
        let path = spec_dir().join(format!("dialects/msnp{v}.md"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            text.starts_with(&format!("# MSNP{v} ")),
            "{} must start with `# MSNP{v} …`",
            path.display()
        );
    }
}

#[test]
fn every_error_code_is_documented() {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/proto/error_code.rs"),
    )
    .unwrap();
    let errors = std::fs::read_to_string(spec_dir().join("errors.md")).unwrap();
    // Variants are written `Name = NNN,`.
    let codes: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().split_once(" = "))
        .filter_map(|(_, rest)| rest.strip_suffix(','))
        .filter(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert!(
        codes.len() > 20,
        "could not read the codes of error_code.rs"
    );
    for code in codes {
        assert!(
            errors.contains(&format!("| {code} |")),
            "errors.md has no row for {code}"
        );
    }
}

// ---------------------------------------------------------------------------
// Examples

/// One fenced example: where it is, whether it is pending, its text.
struct Example {
    id: String,
    pending: bool,
    text: String,
}

/// The ```msnp blocks of a page, in order: `(pending, text)`.
fn examples(page: &str) -> Vec<(bool, String)> {
    let mut found = Vec::new();
    let mut current: Option<(bool, Vec<&str>)> = None;
    for line in page.lines() {
        match current.as_mut() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    let mut words = info.split_whitespace();
                    if words.next() == Some("msnp") {
                        let pending = words.any(|w| w == "pending");
                        current = Some((pending, Vec::new()));
                    }
                }
            }
            Some((pending, lines)) => {
                if line.starts_with("```") {
                    found.push((*pending, lines.join("\n") + "\n"));
                    current = None;
                } else {
                    lines.push(line);
                }
            }
        }
    }
    assert!(current.is_none(), "an unterminated ```msnp block");
    found
}

fn all_examples() -> Vec<Example> {
    let root = spec_dir();
    let mut all = Vec::new();
    for path in md_files(&root) {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, (pending, text)) in examples(&text).into_iter().enumerate() {
            all.push(Example {
                id: format!("protocol-spec/{rel}#{}", i + 1),
                pending,
                text,
            });
        }
    }
    all
}

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
    /// Starts msnpd with every default listener on a free port, a dispatch
    /// listener `ds`, its own SQLite store, and `extra` overrides.
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready.json");
        let store_url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
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
            "listeners.ds.role=dispatch".into(),
            "listeners.ds.bind=127.0.0.1:0".into(),
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
        let deadline = Instant::now() + READY_DEADLINE;
        server.listeners = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && let Ok(map) = serde_json::from_str::<BTreeMap<String, String>>(&text)
            {
                break map;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("msnpd exited ({status}) early\n{}", server.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "msnpd was not ready in time\n{}",
                server.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        server
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(60);
        format!("--- msnpd log (tail) ---\n{}", lines[start..].join("\n"))
    }

    fn port(&self, name: &str) -> u16 {
        let addr = &self.listeners[name];
        addr.rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or_else(|| panic!("bad {name} address {addr}"))
    }

    /// A manifest claiming every dialect msnpd serves and every role.
    fn manifest(&self, features: &[&str]) -> Manifest {
        let dialects: Vec<msnp_conform::Dialect> = (msnpd::proto::Dialect::MIN.version()
            ..=msnpd::proto::Dialect::MAX.version())
            .filter_map(msnp_conform::Dialect::new)
            .collect();
        let manifest = Manifest {
            name: "msnpd (protocol-spec examples)".into(),
            host: "127.0.0.1".into(),
            ports: Ports {
                ns: self.port("ns"),
                dispatch: Some(self.port("ds")),
            },
            // Methods default to what the dialects need: MD5 and tickets.
            auth: Auth {
                methods: Vec::new(),
                nexus: Some(format!("http://{}/rdr/pprdr.asp", self.listeners["http"])),
                login_url: None,
            },
            dialects: DialectSet::of(&dialects),
            roles: vec![Role::Ns, Role::Sb, Role::Dispatch],
            features: features.iter().map(|f| f.to_string()).collect(),
            line_timeout_ms: 5000,
            provision: Provision {
                domain: "spec.test".into(),
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

/// Runs `cases`; fails on any failure or skip (every example must run).
async fn check(server: &Server, manifest: &Manifest, cases: &[Case]) {
    let results = run_cases(manifest, cases).await;
    let summary = human_summary(&results);
    println!("{summary}");
    let bad: Vec<String> = results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Pass))
        .map(|r| match &r.outcome {
            Outcome::Skip { reason } => format!("{} (skipped: {reason})", r.name()),
            _ => r.name(),
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} spec example run(s) did not pass against {}:\n  {}\n\n{summary}\n{}",
        bad.len(),
        manifest.name,
        bad.join("\n  "),
        server.log_tail()
    );
    assert!(totals(&results).passed > 0, "no example ran:\n{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_examples_pass_against_msnpd() {
    let mut ready = Vec::new();
    let mut pending = Vec::new();
    for example in all_examples() {
        let case = parse_case(&example.id, &example.text)
            .unwrap_or_else(|e| panic!("{}: not a valid case: {e}", example.id));
        if example.pending {
            pending.push(format!("{} — {}", example.id, case.title));
        } else {
            ready.push(case);
        }
    }
    println!(
        "{} spec examples to run; {} pending (parsed, not run):",
        ready.len(),
        pending.len()
    );
    for p in &pending {
        println!("  pending: {p}");
    }
    assert!(!ready.is_empty(), "no spec examples found");

    let (challenge_cases, plain_cases): (Vec<Case>, Vec<Case>) = ready
        .into_iter()
        .partition(|c| c.features.iter().any(|f| f == CHALLENGES));
    assert!(
        plain_cases.iter().all(|c| c.features.is_empty()),
        "a spec example needs a feature this test does not provide"
    );

    let server = Server::start(&[]);
    check(&server, &server.manifest(&[]), &plain_cases).await;
    drop(server);

    if !challenge_cases.is_empty() {
        let server = Server::start(&["protocol.challenges=true"]);
        check(&server, &server.manifest(&[CHALLENGES]), &challenge_cases).await;
    }
}

/// Every verb of the registry has a conformance case in every dialect where it
/// exists (the coverage report of `msnp-conform coverage` has no gap).
#[test]
fn conformance_cases_cover_every_verb_in_every_dialect() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let registry =
        msnp_conform::registry::Registry::load(&root.join("protocol-spec/registry.toml")).unwrap();
    let cases = msnp_conform::load_cases(&msnp_conform::shipped_cases_dir()).unwrap();
    let report = msnp_conform::coverage::coverage(&registry, &cases, &registry.span());
    let gaps = report.gaps();
    assert!(
        gaps.is_empty(),
        "verb x dialect pairs without a case: {gaps:?}\n{}",
        report.render()
    );
    assert!(
        report.pairs() > 300,
        "coverage counted only {} pairs",
        report.pairs()
    );
}
