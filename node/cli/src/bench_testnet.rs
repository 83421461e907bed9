//! A local testnet for the network benchmarks: validators started on this machine by
//! `scripts/local-testnet` (real processes, real libp2p, synced RocksDB commits) from a chain
//! spec the benchmark wrote, and stopped when the handle drops. Shared by the benchmark
//! binaries (included with `#[path]`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use wijk_service::chain_spec::ChainSpec;

/// Running validators: their RPC URLs and process ids.
pub(crate) struct Testnet {
    script: PathBuf,
    net: PathBuf,
    /// Each validator's JSON-RPC URL.
    pub(crate) urls: Vec<String>,
    /// Each validator's process id (for CPU accounting).
    pub(crate) pids: Vec<u32>,
    /// Holds the spec and the nodes' data; removed on drop.
    _dir: tempfile::TempDir,
}

impl Testnet {
    /// Starts `validators` nodes of `spec`. `runner` names the script that runs the
    /// benchmark, for the error when it is run from elsewhere; `binary` is the wijk-node to
    /// run (default: next to this executable).
    pub(crate) fn start(
        spec: &ChainSpec,
        validators: usize,
        binary: Option<&Path>,
        runner: &str,
    ) -> anyhow::Result<Testnet> {
        // The runner script starts this from the repository root; a compile-time path could
        // name another clone that shares the target folder.
        let script = PathBuf::from("scripts/local-testnet");
        if !script.exists() {
            anyhow::bail!(
                "{} not found: run the benchmark through {runner}",
                script.display()
            );
        }
        let binary = match binary {
            Some(path) => path.to_path_buf(),
            None => std::env::current_exe()?
                .parent()
                .map(|dir| dir.join("wijk-node"))
                .ok_or_else(|| anyhow::anyhow!("cannot locate wijk-node"))?,
        };
        let dir = tempfile::Builder::new()
            .prefix("wijk-bench-net-")
            .tempdir()?;
        let spec_path = dir.path().join("bench-spec.json");
        std::fs::write(&spec_path, spec.to_json())?;
        eprintln!(
            "starting {validators} validators (block time {} ms) ...",
            spec.block_time_ms
        );
        let net = dir.path().join("net");
        let status = std::process::Command::new(&script)
            .arg("start")
            .arg(validators.to_string())
            .arg(&net)
            .arg("--binary")
            .arg(&binary)
            .arg("--chain-spec")
            .arg(&spec_path)
            .args(["--log", "warn,wijk_node=info"])
            .stdout(std::process::Stdio::null())
            .status()?;
        let mut testnet = Testnet {
            script,
            net,
            urls: Vec::new(),
            pids: Vec::new(),
            _dir: dir,
        };
        // Dropped on every error from here: whatever did start is stopped.
        anyhow::ensure!(status.success(), "local-testnet start failed");
        let nodes: Value =
            serde_json::from_str(&std::fs::read_to_string(testnet.net.join("nodes.json"))?)?;
        for node in nodes["nodes"].as_array().into_iter().flatten() {
            if let Some(pid) = node["pid"].as_u64() {
                testnet.pids.push(pid as u32);
            }
            if let Some(url) = node["rpc_url"].as_str() {
                testnet.urls.push(url.to_string());
            }
        }
        anyhow::ensure!(
            testnet.urls.len() == validators,
            "local-testnet started {} of {validators} nodes",
            testnet.urls.len()
        );
        Ok(testnet)
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.script)
            .arg("stop")
            .arg(&self.net)
            .stdout(std::process::Stdio::null())
            .status();
    }
}

/// CPU time (user and system) the processes `pids` have used so far, in seconds.
pub(crate) fn cpu_seconds(pids: &[u32]) -> f64 {
    // The kernel's clock ticks per second (100 on practically every Linux).
    let ticks_per_second = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0);
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .map(|stat| {
            // Fields after the command name (which may hold spaces) in parentheses:
            // utime and stime are the 12th and 13th.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = after.split_whitespace().collect();
            let ticks = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            (ticks(11) + ticks(12)) / ticks_per_second
        })
        .sum()
}
