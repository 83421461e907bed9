//! The `wijk-node` command line (and, by existing, makes cargo build the binary that the
//! workspace's process tests run).

use std::process::Command;

fn wijk_node(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wijk-node"))
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn key_inspect_shows_the_dev_address() {
    let output = wijk_node(&["key", "inspect", "//Alice"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Address:"), "{text}");
    let bad = wijk_node(&["key", "inspect", "not a phrase"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("BIP39"));
}

#[test]
fn export_chain_spec_matches_the_checked_in_dev_spec() {
    let output = wijk_node(&["export-chain-spec", "--chain", "dev"]);
    assert!(output.status.success());
    // Embedded at compile time, so the compiler tracks the file: a test binary built from
    // another clone that shares the target folder still compares against this clone's spec.
    let checked_in = include_str!("../../../chain-specs/dev.json");
    assert_eq!(String::from_utf8_lossy(&output.stdout), checked_in);
    let local = wijk_node(&["export-chain-spec", "--chain", "local", "--validators", "7"]);
    let spec: serde_json::Value = serde_json::from_slice(&local.stdout).unwrap();
    assert_eq!(
        spec["genesis"]["validators"]["set"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
}

#[test]
fn unknown_chain_and_missing_key_are_clear_errors() {
    let output = wijk_node(&["--chain", "nowhere.json"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown chain"));
    let dir = tempfile::tempdir().unwrap();
    let output = wijk_node(&[
        "--chain",
        "local",
        "--validator",
        "--base-path",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--key"));
}

#[test]
fn purge_chain_deletes_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_str().unwrap();
    let export = wijk_node(&[
        "export-blocks",
        "--dev",
        "--base-path",
        base,
        "--output",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert!(dir.path().join("chains/wijk_dev/db").exists());
    let purge = wijk_node(&["purge-chain", "--dev", "--base-path", base, "-y"]);
    assert!(purge.status.success());
    assert!(!dir.path().join("chains/wijk_dev/db").exists());
}
