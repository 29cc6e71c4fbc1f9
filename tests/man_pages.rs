//! The manual pages in `man/`: `msnpd.toml(5)` documents every configuration
//! key (walked from the `Config` type by `msnpd::config::keys`) in the
//! subsection of its section, `msnpd(8)` documents every subcommand the binary
//! has, and every page passes `mandoc -Tlint`. Without `mandoc` the lint test
//! fails when `CI` is set (scripts/test installs the `mandoc` package) and is
//! skipped with a note otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use msnpd::config::keys::{self, ConfigKey};

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man")
}

fn page(name: &str) -> String {
    let path = man_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The subsections (`.Ss` title, without `\&`) of an mdoc page, each with the
/// first words of its `.It Cm` items (the keys it documents).
fn subsections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix(".Ss ") {
            out.push((title.replace("\\&", "").trim().to_owned(), Vec::new()));
        } else if let (Some(item), Some((_, items))) =
            (line.strip_prefix(".It Cm "), out.last_mut())
        {
            if let Some(word) = item.split_whitespace().next() {
                items.push(word.to_owned());
            }
        } else if line.starts_with(".Sh ") {
            // A new section ends the last subsection.
            out.push((String::new(), Vec::new()));
        }
    }
    out
}

/// The keys of `keys` that `text` (an `msnpd.toml(5)` page) does not document:
/// a key of `[section]` must be an `.It Cm key` item of the subsection
/// `[section]`, a listener key one of `[section.NAME]`.
fn undocumented(text: &str, keys: &[ConfigKey]) -> Vec<String> {
    let subsections = subsections(text);
    keys.iter()
        .filter(|key| {
            let title = match key {
                ConfigKey::Fixed { section, .. } => format!("[{section}]"),
                ConfigKey::PerName { section, .. } => format!("[{section}.NAME]"),
            };
            !subsections
                .iter()
                .any(|(t, items)| *t == title && items.iter().any(|i| i == key.key()))
        })
        .map(ToString::to_string)
        .collect()
}

#[test]
fn toml5_documents_every_configuration_key() {
    let text = page("msnpd.toml.5");
    let keys = keys::all().expect("the configuration keys");
    assert!(keys.len() > 50, "too few keys: {keys:?}");
    assert!(
        keys.iter()
            .any(|k| matches!(k, ConfigKey::PerName { section, key } if section == "listeners" && key == "tls_cert")),
        "listener keys are missing from the key walk"
    );
    let missing = undocumented(&text, &keys);
    assert!(
        missing.is_empty(),
        "msnpd.toml.5 does not document: {missing:?}"
    );
}

/// The check above really fails: a key whose item is removed, or that is
/// documented in the wrong section, is reported.
#[test]
fn toml5_check_finds_a_missing_key() {
    let text = page("msnpd.toml.5");
    let keys = keys::all().expect("the configuration keys");
    for (line, expected) in [
        (
            ".It Cm remembered_logins Pq integer",
            "store.remembered_logins",
        ),
        (
            ".It Cm tls_client_ca Pq path",
            "listeners.NAME.tls_client_ca",
        ),
    ] {
        assert!(text.contains(line), "{line} is not in the page");
        let without = text.replacen(line, ".It Cm something_else", 1);
        assert_eq!(undocumented(&without, &keys), [expected]);
    }
    // A listener key documented only under another section does not count.
    let moved = text.replacen(".It Cm bind Pq string", ".It Cm bindx Pq string", 1);
    let moved = moved.replacen(".It Cm address Pq string", ".It Cm bind Pq string", 1);
    assert_eq!(
        undocumented(&moved, &keys),
        ["admin.address", "listeners.NAME.bind"]
    );
}

/// Subcommand names from clap's help text (`Commands:` list, without `help`).
fn subcommands(args: &[&str]) -> Vec<String> {
    let out = Command::new(common::msnpd_bin())
        .args(args)
        .arg("--help")
        .output()
        .expect("run msnpd --help");
    assert!(out.status.success(), "msnpd {args:?} --help failed");
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
        } else if in_commands {
            if !line.starts_with("  ") {
                break;
            }
            if let Some(name) = line.split_whitespace().next()
                && name != "help"
            {
                names.push(name.to_owned());
            }
        }
    }
    assert!(!names.is_empty(), "no commands in:\n{help}");
    names
}

#[test]
fn msnpd8_documents_every_subcommand() {
    let text = page("msnpd.8");
    let items: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(".It Cm "))
        .collect();
    let mut missing = Vec::new();
    for name in subcommands(&[]) {
        let nested = if name == "user" {
            subcommands(&["user"])
                .into_iter()
                .map(|sub| format!("user {sub}"))
                .collect()
        } else {
            vec![name]
        };
        for command in nested {
            let documented = items.iter().any(|item| {
                item.strip_prefix(command.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
            });
            if !documented {
                missing.push(command);
            }
        }
    }
    assert!(missing.is_empty(), "msnpd.8 does not document: {missing:?}");
}

/// Whether the `CI` variable says this is a CI run.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Whether a line of `mandoc -Tlint` only says that a referenced manual is not
/// installed (or not in the installed manuals' database).
fn is_missing_cross_reference(line: &str) -> bool {
    let unresolved = line.contains("STYLE: referenced manual not found");
    let outdated_db = line.contains("mandoc.db") && line.contains("run makewhatis");
    unresolved || outdated_db
}

#[test]
fn every_page_passes_mandoc_lint() {
    if Command::new("mandoc").arg("-V").output().is_err() {
        assert!(
            !in_ci(),
            "mandoc is missing (scripts/test installs the `mandoc` package)"
        );
        eprintln!("skipped: mandoc is not installed");
        return;
    }
    let mut pages: Vec<PathBuf> = std::fs::read_dir(man_dir())
        .expect("man/")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8"))
        })
        .collect();
    pages.sort();
    let names: Vec<String> = pages
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for expected in ["msnp-conform.1", "msnpd.8", "msnpd.toml.5"] {
        assert!(names.iter().any(|n| n == expected), "{expected} is missing");
    }
    let mut problems = Vec::new();
    for path in &pages {
        let out = Command::new("mandoc")
            .arg("-Tlint")
            .arg(path)
            .output()
            .expect("run mandoc");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Cross references (`.Xr msnpd.toml 5`, `.Xr systemd 1`) are looked up
        // in the installed manuals, which a checkout or a container lacks;
        // everything else mandoc says is a problem.
        problems.extend(
            text.lines()
                .filter(|l| !is_missing_cross_reference(l))
                .map(str::to_owned),
        );
        // 0: clean; 1: only style messages (the filtered cross references).
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "mandoc -Tlint {}: {}\n{text}",
            path.display(),
            out.status
        );
    }
    assert!(
        problems.is_empty(),
        "mandoc -Tlint:\n{}",
        problems.join("\n")
    );
}
