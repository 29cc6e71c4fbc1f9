//! The `msnp-conform` command line: `coverage` on a small fixture registry
//! and cases (`tests/fixtures/coverage`), `compare` on JSON lines files, and
//! `check-manifest`, with their outputs and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use msnp_conform::coverage::coverage;
use msnp_conform::registry::Registry;
use msnp_conform::{Dialect, load_cases};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coverage")
}

fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_msnp-conform"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn coverage_of_the_fixture_as_a_library() {
    let registry = Registry::load(&fixtures().join("registry.toml")).unwrap();
    let cases = load_cases(&fixtures().join("cases")).unwrap();
    let report = coverage(&registry, &cases, &registry.span());
    let d = |v| Dialect::new(v).unwrap();
    assert_eq!(
        report.gaps(),
        vec![
            ("ADD".to_string(), d(7)),
            ("ILN".to_string(), d(7)),
            ("ILN".to_string(), d(8)),
            ("UUX".to_string(), d(9)),
        ]
    );
    assert_eq!(report.pairs(), 10);
    assert_eq!(
        report.cases("VER", d(7)).unwrap(),
        &["ns/ver7.msnp".to_string()]
    );
    assert_eq!(
        report.cases("ILN", d(9)).unwrap(),
        &["ns/add.msnp".to_string()]
    );
    assert!(report.unregistered.is_empty());
}

#[test]
fn coverage_command_reports_gaps_and_exit_codes() {
    let registry = fixtures().join("registry.toml");
    let cases = fixtures().join("cases");
    let base = [
        "coverage",
        "--registry",
        registry.to_str().unwrap(),
        "--cases",
        cases.to_str().unwrap(),
    ];
    let o = conform(&base);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("ADD  client  ns             -   1   1\n"),
        "{text}"
    );
    assert!(
        text.contains("UUX  client  ns             .   .   -\n"),
        "{text}"
    );
    assert!(text.contains("  ILN  MSNP7-8\n"), "{text}");
    assert!(
        text.ends_with("4 of 10 verb x dialect pairs have no case\n"),
        "{text}"
    );

    let o = conform(&[&base[..], &["--fail-on-gaps"]].concat());
    assert_eq!(o.status.code(), Some(1));

    let o = conform(&[&base[..], &["--dialects", "MSNP8", "--fail-on-gaps"]].concat());
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.ends_with("1 of 3 verb x dialect pairs have no case\n"),
        "{text}"
    );

    let o = conform(&[&base[..], &["--dialects", "MSNP9", "--fail-on-gaps"]].concat());
    assert_eq!(o.status.code(), Some(1), "UUX has no case in MSNP9");
    let o = conform(&[&base[..], &["--dialects", "MSNP8-9x"]].concat());
    assert_eq!(o.status.code(), Some(2));
    let o = conform(&["coverage", "--registry", "/nonexistent/registry.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/registry.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn compare_command_exits_1_on_regressions() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.jsonl");
    let new = dir.path().join("new.jsonl");
    let same = dir.path().join("same.jsonl");
    let line = |id: &str, status: &str| {
        format!(
            "{{\"id\":\"{id}\",\"dialect\":\"MSNP8\",\"status\":\"{status}\",\"reason\":null,\"duration_ms\":1,\"verbs\":[]}}\n"
        )
    };
    std::fs::write(
        &old,
        line("a", "pass") + &line("b", "fail") + &line("c", "pass"),
    )
    .unwrap();
    std::fs::write(
        &new,
        line("a", "fail") + &line("b", "pass") + &line("d", "pass"),
    )
    .unwrap();
    std::fs::write(
        &same,
        line("a", "pass") + &line("b", "fail") + &line("c", "pass"),
    )
    .unwrap();
    let arg = |p: &Path| p.to_str().unwrap().to_string();

    let o = conform(&["compare", &arg(&old), &arg(&new)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("REGRESSED a [MSNP8]: pass -> fail"), "{text}");
    assert!(
        text.contains("MISSING   c [MSNP8]: pass -> (missing)"),
        "{text}"
    );
    assert!(text.contains("FIXED     b [MSNP8]: fail -> pass"), "{text}");
    assert!(
        text.contains("NEW       d [MSNP8]: (missing) -> pass"),
        "{text}"
    );

    let o = conform(&["compare", &arg(&old), &arg(&same)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 regression(s)"));

    std::fs::write(&new, "not json\n").unwrap();
    let o = conform(&["compare", &arg(&old), &arg(&new)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));
}

#[test]
fn check_manifest_command() {
    let manifests = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
    let shipped = manifests.join("msnpd.toml");
    let o = conform(&["check-manifest", shipped.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(": valid\n"), "{text}");
    assert!(text.contains("dialects:     MSNP2-12\n"), "{text}");

    let other = manifests.join("other-server.example.toml");
    let cases = fixtures().join("cases");
    let o = conform(&[
        "check-manifest",
        other.to_str().unwrap(),
        "--cases",
        cases.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(
            "auth:         md5 ticket, Passport 1.4 login URL http://msn.example.test/login2.srf"
        ),
        "{text}"
    );
    assert!(text.contains("3 fixed account(s)"), "{text}");
    // ver7 runs in MSNP7, add in MSNP8 (the manifest claims MSNP5-8).
    assert!(
        text.contains("2 case x dialect run(s); 0 case(s) skipped"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name='x'\nhost='h'\ndialects=['MSNP8']\n[ports]\nns=1863\n[provision]\ncommand=['x']\n",
    )
    .unwrap();
    let o = conform(&["check-manifest", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("auth.nexus"), "{}", stderr(&o));
    let o = conform(&["check-manifest", "/nonexistent/m.toml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn list_command() {
    let cases = fixtures().join("cases");
    let o = conform(&["list", "--cases", cases.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "ns/add.msnp  [MSNP8-9]  ADD in MSNP8 and MSNP9, ILN only in MSNP9\n\
         ns/ver7.msnp  [MSNP7]  VER in MSNP7; it expects (does not send) UUX, which does not count\n"
    );
}

/// Every command and option the binary has is in `man/msnp-conform.1`, and
/// every manifest key the README documents is in the manual page too.
#[test]
fn manual_page_names_every_command_and_option() {
    let man_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../man/msnp-conform.1");
    let man = std::fs::read_to_string(&man_path).unwrap();
    let commands = ["run", "list", "compare", "coverage", "check-manifest"];
    for command in commands {
        assert!(man.contains(&format!(".Cm {command}")), "no .Cm {command}");
        let help = stdout(&conform(&[command, "--help"]));
        let options: Vec<&str> = help
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("--"))
            .map(|w| w.trim_end_matches([',', '.']))
            .filter(|w| !w.is_empty() && *w != "help")
            .collect();
        assert!(
            command == "compare" || !options.is_empty(),
            "{command}: {help}"
        );
        for option in options {
            assert!(
                man.contains(&format!("Fl -{option}")),
                "{command} --{option} is not in the manual page"
            );
        }
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let manifest_section = readme
        .split("## Manifests")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let keys: Vec<&str> = manifest_section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    assert!(keys.len() >= 15, "{keys:?}");
    for key in keys {
        assert!(
            man.contains(&format!(".It Li {key}")),
            "manifest key {key} is not in the manual page"
        );
    }
}
