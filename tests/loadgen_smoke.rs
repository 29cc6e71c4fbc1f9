//! Every loadgen workload at a tiny size against a spawned msnpd (the binary
//! cargo built for these tests), so CI proves the load generator and the
//! server still work together. Checks counts and shapes only, no timing.

mod common;

use clap::Parser as _;
use serde_json::Value;

/// Runs `loadgen --spawn <msnpd> ARGS...` in-process and parses its JSON line.
fn loadgen(args: &[&str]) -> Value {
    let bin = common::msnpd_bin();
    let mut argv = vec![
        "loadgen".to_string(),
        "--spawn".to_string(),
        bin.display().to_string(),
        "--line-timeout".to_string(),
        "20".to_string(),
    ];
    argv.extend(args.iter().map(|s| s.to_string()));
    let cli = loadgen::cli::Cli::try_parse_from(&argv).expect("loadgen arguments");
    let line = loadgen::run(cli).unwrap_or_else(|e| panic!("loadgen {args:?}: {e}"));
    assert!(!line.contains('\n'), "one line: {line}");
    let v: Value = serde_json::from_str(&line).expect("JSON line");
    assert_eq!(v["server_clean_exit"], true, "{v}");
    assert!(v["commit"].is_string(), "{v}");
    assert!(
        v["server"]["after"]["rss_kib"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    v
}

#[test]
fn idle() {
    let v = loadgen(&["idle", "5", "--hold", "0"]);
    assert_eq!(v["workload"], "idle");
    assert_eq!(v["results"]["clients"], 5, "{v}");
    assert_eq!(v["results"]["errors"], 0, "{v}");
}

#[test]
fn idle_msnp11() {
    let v = loadgen(&["--dialect", "11", "idle", "3", "--hold", "0"]);
    assert_eq!(v["dialect"], "MSNP11");
    assert_eq!(v["results"]["clients"], 3, "{v}");
}

#[test]
fn relay() {
    let v = loadgen(&[
        "relay",
        "--pairs",
        "2",
        "--window",
        "2",
        "--size",
        "300",
        "--duration",
        "1",
        "--ack",
        "A",
    ]);
    let r = &v["results"];
    assert!(r["delivered_total"].as_u64().unwrap_or(0) > 0, "{v}");
    assert_eq!(r["delivered_total"], r["sent_total"], "{v}");
    assert!(r["ack_rtt"]["count"].as_u64().unwrap_or(0) > 0, "{v}");
    assert_eq!(r["naks"], 0, "{v}");
}

#[test]
fn storm() {
    let v = loadgen(&["storm", "20", "--concurrency", "4"]);
    assert_eq!(v["results"]["logins"], 20, "{v}");
    assert_eq!(v["results"]["errors"], 0, "{v}");
}

#[test]
fn presence() {
    let v = loadgen(&["presence", "5", "--repeats", "3"]);
    assert_eq!(v["results"]["changes"], 3, "{v}");
    assert_eq!(v["results"]["each_watcher"]["count"], 15, "{v}");
    assert_eq!(v["results"]["missing_notifications"], 0, "{v}");
}

#[test]
fn offline() {
    let v = loadgen(&["offline", "150", "--senders", "2", "--window", "8"]);
    let r = &v["results"];
    assert_eq!(r["stored"], 150, "{v}");
    assert_eq!(r["received"], 150, "{v}");
    assert_eq!(r["errors"], 0, "{v}");
}

#[test]
fn soak() {
    let v = loadgen(&[
        "--dialect",
        "11",
        "soak",
        "--duration",
        "3",
        "--clients",
        "5",
        "--pairs",
        "1",
    ]);
    let r = &v["results"];
    assert!(!r["samples"].as_array().expect("samples").is_empty(), "{v}");
    assert!(r["churn_logins"].as_u64().unwrap_or(0) > 0, "{v}");
    assert!(r["relayed"].as_u64().unwrap_or(0) > 0, "{v}");
}
