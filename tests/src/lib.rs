//! Helpers for the integration tests: nodes in-process and as real processes, RPC calls,
//! and signed transactions for the dev chain.
//!
//! Every wait here waits on an event (a log line, a subscription notification) with a
//! timeout; nothing sleeps to synchronise.

use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use parity_scale_codec::Encode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use wijk_primitives::{AccountId, Address, Keypair, SigningContext};
use wijk_runtime::{RuntimeCall, Transaction, SPEC_VERSION};
use wijk_service::{ChainSpec, NodeConfig, RunningNode};

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// Starts a dev node in this process with RPC on a free loopback port.
pub async fn start_dev_node(
    base: &Path,
    block_time_ms: u64,
    rpc: wijk_rpc::RpcConfig,
) -> RunningNode {
    let spec = ChainSpec::dev();
    wijk_service::start(NodeConfig {
        database_path: base.join("db"),
        rpc: Some(wijk_rpc::RpcConfig {
            listen: "127.0.0.1:0".parse().expect("loopback address"),
            ..rpc
        }),
        block_time_ms,
        validator: Some(Keypair::dev("Alice")),
        pool: wijk_txpool::PoolConfig::default(),
        network: None,
        chain_spec: spec,
    })
    .await
    .expect("node starts")
}

/// The dev chain's address of a dev key.
pub fn dev_address(name: &str) -> String {
    Address {
        prefix: ChainSpec::dev().address_prefix,
        account: Keypair::dev(name).account_id(),
    }
    .to_string()
}

/// A signed coin transfer, hex-encoded for `author_submit*`.
pub fn transfer_hex(
    signing: &SigningContext,
    from: &Keypair,
    nonce: u64,
    valid_until: u64,
    to: AccountId,
    cents: u128,
) -> String {
    let call = RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: cents });
    encode_hex(&Transaction::sign(from, signing, nonce, valid_until, call))
}

/// `0x` hex of a SCALE value.
pub fn encode_hex<T: Encode>(value: &T) -> String {
    format!("0x{}", hex::encode(value.encode()))
}

/// The signing context of a node's chain.
pub fn signing_context(genesis_hash: wijk_primitives::Hash) -> SigningContext {
    SigningContext {
        genesis_hash,
        spec_version: SPEC_VERSION,
    }
}

/// One JSON-RPC call over HTTP.
pub async fn call(
    url: &str,
    method: &str,
    params: Vec<Value>,
) -> Result<Value, jsonrpsee::core::ClientError> {
    let client = HttpClientBuilder::default().build(url).expect("client");
    client.request(method, params).await
}

/// A WebSocket client.
pub async fn ws(url: &str) -> WsClient {
    WsClientBuilder::default()
        .build(url.replace("http://", "ws://"))
        .await
        .expect("websocket connects")
}

/// Submits and watches a transaction until it is final; returns the block hash.
pub async fn submit_until_final(ws: &WsClient, encoded: &str) -> anyhow::Result<String> {
    let mut updates = ws
        .subscribe::<Value, _>(
            "author_submitAndWatchTransaction",
            vec![json!(encoded)],
            "author_unwatchTransaction",
        )
        .await?;
    let result = tokio::time::timeout(WAIT, async {
        while let Some(update) = updates.next().await {
            let update = update?;
            if let Some(block) = update.get("finalized").and_then(Value::as_str) {
                return Ok(block.to_string());
            }
            if let Some(reason) = update.get("dropped") {
                anyhow::bail!("dropped: {reason}");
            }
        }
        anyhow::bail!("subscription closed")
    })
    .await??;
    Ok(result)
}

/// A `wijk-node` process.
pub struct NodeProcess {
    /// The child.
    pub child: Child,
    /// Its JSON-RPC URL.
    pub rpc_url: String,
}

/// The `wijk-node` binary next to this test binary (cargo builds it for `cargo test
/// --workspace`, because the wijk-node package has integration tests).
pub fn node_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let binary = dir.join("wijk-node");
    assert!(
        binary.exists(),
        "{} missing: run `cargo test --workspace`",
        binary.display()
    );
    binary
}

impl NodeProcess {
    /// Starts `wijk-node --dev --base-path BASE --rpc-port 0 ARGS` and waits (on its log)
    /// until RPC is ready.
    pub fn start_dev(base: &Path, args: &[&str]) -> NodeProcess {
        let mut child = Command::new(node_binary())
            .args(["--dev", "--rpc-port", "0", "--base-path"])
            .arg(base)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wijk-node starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("JSON-RPC on http://") {
                    let rest = &line[at + "JSON-RPC on ".len()..];
                    let url = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = sender.send(url);
                }
            }
        });
        let rpc_url = receiver
            .recv_timeout(WAIT)
            .expect("node reports RPC ready in time");
        NodeProcess { child, rpc_url }
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill_hard(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
