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
    start_dev_chain_node(base, block_time_ms, rpc, Some(Keypair::dev("Alice"))).await
}

/// Starts a dev-chain node in this process without a validator key or peers: it serves
/// RPC and keeps a pool but builds no blocks, so what is submitted stays in the pool.
pub async fn start_idle_dev_node(base: &Path) -> RunningNode {
    start_dev_chain_node(base, 1_000, wijk_rpc::RpcConfig::default(), None).await
}

/// Starts a node of `spec` in this process, //Alice validating alone, RPC on a free
/// loopback port.
pub async fn start_node_of(base: &Path, spec: ChainSpec) -> RunningNode {
    start_chain_node(
        base,
        50,
        wijk_rpc::RpcConfig::default(),
        Some(Keypair::dev("Alice")),
        spec,
    )
    .await
}

async fn start_dev_chain_node(
    base: &Path,
    block_time_ms: u64,
    rpc: wijk_rpc::RpcConfig,
    validator: Option<Keypair>,
) -> RunningNode {
    start_chain_node(base, block_time_ms, rpc, validator, ChainSpec::dev()).await
}

async fn start_chain_node(
    base: &Path,
    block_time_ms: u64,
    rpc: wijk_rpc::RpcConfig,
    validator: Option<Keypair>,
    spec: ChainSpec,
) -> RunningNode {
    wijk_service::start(NodeConfig {
        database_path: base.join("db"),
        rpc: Some(wijk_rpc::RpcConfig {
            listen: "127.0.0.1:0".parse().expect("loopback address"),
            ..rpc
        }),
        block_time_ms,
        validator,
        pool: wijk_txpool::PoolConfig::default(),
        network: None,
        prometheus: None,
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

/// A testnet started by `scripts/local-testnet` with this build's `wijk-node`.
pub struct Testnet {
    /// Its folder (spec, databases, logs, nodes.json).
    pub dir: PathBuf,
    /// nodes.json, as written by the script (pids updated on restart).
    pub nodes: Vec<Value>,
}

impl Testnet {
    /// `scripts/local-testnet start VALIDATORS DIR --full-nodes FULL --block-time-ms MS`
    /// with this build's `wijk-node`.
    pub fn start(dir: &Path, validators: usize, full_nodes: usize, block_time_ms: u64) -> Testnet {
        Testnet::launch(
            dir,
            validators,
            full_nodes,
            &["--block-time-ms".into(), block_time_ms.to_string()],
        )
    }

    /// A testnet of `spec` (a `local` spec with changes, say funded accounts; its
    /// validators and allowed nodes must be the dev names the script starts).
    pub fn start_with_spec(dir: &Path, spec: &ChainSpec, full_nodes: usize) -> Testnet {
        std::fs::create_dir_all(dir).expect("testnet folder");
        let spec_path = dir.join("given-chain-spec.json");
        std::fs::write(&spec_path, spec.to_json()).expect("chain spec written");
        let validators = spec.genesis.validators.set.len();
        let spec_arg = spec_path.to_string_lossy().to_string();
        Testnet::launch(
            dir,
            validators,
            full_nodes,
            &["--chain-spec".into(), spec_arg],
        )
    }

    fn launch(dir: &Path, validators: usize, full_nodes: usize, extra: &[String]) -> Testnet {
        let script = local_testnet_script();
        let status = Command::new(script)
            .arg("start")
            .arg(validators.to_string())
            .arg(dir)
            .args(["--full-nodes", &full_nodes.to_string()])
            .args(extra)
            .arg("--binary")
            .arg(node_binary())
            .args(["--log", "info,sync=debug"])
            .stdout(Stdio::null())
            .status()
            .expect("local-testnet runs");
        assert!(status.success(), "local-testnet start failed");
        let text = std::fs::read_to_string(dir.join("nodes.json")).expect("nodes.json");
        let parsed: Value = serde_json::from_str(&text).expect("nodes.json is JSON");
        Testnet {
            dir: dir.to_path_buf(),
            nodes: parsed["nodes"].as_array().expect("nodes").clone(),
        }
    }

    /// One Prometheus counter or gauge of the node called `name`.
    pub fn metric(&self, name: &str, metric: &str) -> u64 {
        let url = self.node(name)["metrics_url"]
            .as_str()
            .expect("metrics_url")
            .to_string();
        let text = http_get(&url);
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == metric || key == format!("{metric}_total"))
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("{name} reports no {metric}:\n{text}"))
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> &Value {
        self.nodes
            .iter()
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// Its JSON-RPC URL.
    pub fn rpc_url(&self, name: &str) -> String {
        self.node(name)["rpc_url"]
            .as_str()
            .expect("rpc_url")
            .to_string()
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill_9(&self, name: &str) {
        let pid = self.node(name)["pid"].as_u64().expect("pid");
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        // The script started it in its own session, so it is not our child: wait for
        // /proc to lose it (a kill -9 takes effect at once; this is a bounded check).
        let proc_path = PathBuf::from(format!("/proc/{pid}"));
        let deadline = std::time::Instant::now() + WAIT;
        while proc_path.exists() && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
    }

    /// Starts the node again with the command the script used, on the same base path,
    /// and waits until it serves JSON-RPC.
    pub fn restart(&mut self, name: &str) {
        self.restart_with(name, &[]);
    }

    /// [`Self::restart`] with `extra` arguments appended to the command.
    pub fn restart_with(&mut self, name: &str, extra: &[&str]) {
        let node = self.node(name).clone();
        let mut command: Vec<String> =
            serde_json::from_value(node["command"].clone()).expect("command");
        command.extend(extra.iter().map(|arg| arg.to_string()));
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(node["log"].as_str().expect("log"))
            .expect("log file");
        let mut child = Command::new(&command[0])
            .args(&command[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node restarts");
        let pid = child.id();
        let stderr = child.stderr.take().expect("stderr piped");
        let (ready, is_ready) = std::sync::mpsc::channel();
        // Copies the log to its file and reports readiness; then reaps the child, so a
        // later kill leaves no zombie behind.
        std::thread::spawn(move || {
            use std::io::Write;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(log, "{line}");
                if line.contains("ready: JSON-RPC") {
                    let _ = ready.send(());
                }
            }
            let _ = child.wait();
        });
        for entry in self.nodes.iter_mut().filter(|n| n["name"] == name) {
            entry["pid"] = json!(pid);
        }
        is_ready
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("{name} did not serve JSON-RPC again in time"));
    }

    /// Deletes `name`'s database and restarts it, then waits until it has synced to the
    /// head of `source` and checks both reach the same state root there.
    pub async fn resync_from_scratch(&mut self, name: &str, source: &str) {
        self.kill_9(name);
        let base = self.node(name)["base_path"]
            .as_str()
            .expect("base_path")
            .to_string();
        let spec: Value = serde_json::from_str(
            &std::fs::read_to_string(self.dir.join("chain-spec.json")).expect("chain spec"),
        )
        .expect("chain spec is JSON");
        let chain_id = spec["id"].as_str().expect("chain id").to_string();
        std::fs::remove_dir_all(Path::new(&base).join("chains").join(chain_id).join("db"))
            .expect("database deleted");
        self.restart(name);
        let url = self.rpc_url(name);
        let head = finalized_height(source).await;
        wait_finalized(&url, head, WAIT).await.expect("resynced");
        let at_head = call(source, "chain_getBlockHash", vec![json!(head)])
            .await
            .expect("hash");
        let root = |header: Value| header["stateRoot"].clone();
        let ours = call(&url, "chain_getHeader", vec![at_head.clone()]).await;
        let theirs = call(source, "chain_getHeader", vec![at_head]).await;
        assert_eq!(
            root(ours.expect("header")),
            root(theirs.expect("header")),
            "{name} synced to another state root"
        );
    }

    /// After [`Self::stop`]: `wijk-node verify-certificates` on each named node's database,
    /// with nothing but the chain spec, must pass.
    pub fn verify_certificates(&self, names: &[&str]) {
        let spec = self.dir.join("chain-spec.json");
        for name in names {
            let base = self.node(name)["base_path"]
                .as_str()
                .expect("base_path")
                .to_string();
            let output = Command::new(node_binary())
                .arg("verify-certificates")
                .arg("--chain")
                .arg(&spec)
                .args(["--base-path", &base])
                .output()
                .expect("verify-certificates runs");
            assert!(
                output.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    /// `scripts/local-testnet stop DIR`.
    pub fn stop(&self) {
        let script = local_testnet_script();
        // The script reads pids from nodes.json: write back the restarted ones.
        let path = self.dir.join("nodes.json");
        let mut on_disk: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("nodes.json"))
                .expect("json");
        on_disk["nodes"] = json!(self.nodes);
        std::fs::write(&path, on_disk.to_string()).expect("nodes.json written");
        let _ = Command::new(script)
            .arg("stop")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .status();
    }
}

/// How many lines of each node's log a failing test prints.
const LOG_LINES_ON_FAILURE: usize = 40;

/// A test that fails midway must not leave nodes running: kill whatever is left. It prints
/// the end of every node's log first, because the folder is deleted with the test and an
/// intermittent failure may not come back to be examined.
impl Drop for Testnet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for node in &self.nodes {
                let name = node["name"].as_str().unwrap_or("?");
                let Some(path) = node["log"].as_str() else {
                    continue;
                };
                let text = std::fs::read_to_string(path).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(LOG_LINES_ON_FAILURE)..];
                eprintln!("---- last {} lines of {name}'s log ----", tail.len());
                for line in tail {
                    eprintln!("{line}");
                }
            }
        }
        for node in &self.nodes {
            if let Some(pid) = node["pid"].as_u64() {
                let _ = Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// A plain HTTP GET (a metrics endpoint), the whole response as text.
pub fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(host).expect("the endpoint accepts");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// A `wijk-client` connection to the node at `url`.
pub async fn client(url: &str) -> wijk_client::Client {
    wijk_client::Client::connect(url)
        .await
        .expect("the node serves JSON-RPC")
}

/// The finalized height a node reports.
pub async fn finalized_height(url: &str) -> u64 {
    client(url)
        .await
        .sync_state()
        .await
        .expect("sync state")
        .finalized_block
}

/// What a test needs to know of a running chain: its signing context and address prefix.
pub struct ChainFacts {
    /// What transactions sign.
    pub signing: SigningContext,
    /// The chain's address prefix.
    pub prefix: u16,
}

impl ChainFacts {
    /// Asks the node at `url` (`wijk_chainInfo`, through `wijk-client`).
    pub async fn of(url: &str) -> ChainFacts {
        let client = client(url).await;
        ChainFacts {
            signing: client.signing_context(),
            prefix: client.chain().address_prefix,
        }
    }

    /// The address of a dev key on this chain.
    pub fn address(&self, key: &Keypair) -> String {
        Address {
            prefix: self.prefix,
            account: key.account_id(),
        }
        .to_string()
    }
}

/// `scripts/local-testnet` of this clone. `cargo test` sets `CARGO_MANIFEST_DIR` when it runs
/// a test; the compile-time value may name another clone that shares the target folder (CI
/// runs in a fresh clone), so it is only the fallback.
fn local_testnet_script() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.join("../scripts/local-testnet")
}

/// A testnet folder, removed afterwards unless `WIJK_KEEP_TESTNET` is set (then its path
/// is printed, for a post-mortem of logs and databases).
pub fn testnet_dir() -> tempfile::TempDir {
    let mut dir = tempfile::tempdir().expect("temporary folder");
    if std::env::var_os("WIJK_KEEP_TESTNET").is_some() {
        dir.disable_cleanup(true);
        eprintln!("testnet folder: {}", dir.path().display());
    }
    dir
}

/// The node's finalized heads, as they come: the clock the waits here run on.
pub async fn finalized_heads(
    client: &WsClient,
) -> anyhow::Result<jsonrpsee::core::client::Subscription<Value>> {
    Ok(client
        .subscribe::<Value, _>(
            "chain_subscribeFinalizedHeads",
            jsonrpsee::rpc_params![],
            "chain_unsubscribeFinalizedHeads",
        )
        .await?)
}

/// Waits (on the node's finalized-heads subscription) until it has finalized `height`;
/// returns the height it reached.
pub async fn wait_finalized(url: &str, height: u64, within: Duration) -> anyhow::Result<u64> {
    let client = ws(url).await;
    let mut heads = finalized_heads(&client).await?;
    let now = finalized_height(url).await;
    if now >= height {
        return Ok(now);
    }
    tokio::time::timeout(within, async {
        while let Some(head) = heads.next().await {
            let reached = head?["number"].as_u64().unwrap_or(0);
            if reached >= height {
                return Ok(reached);
            }
        }
        anyhow::bail!("subscription closed")
    })
    .await
    .map_err(|_| anyhow::anyhow!("{url} did not finalize #{height} within {within:?}"))?
}

/// Waits until the node reports `peers` connected peers, checking after each finalized
/// block (peers that dialled each other at the same moment may be reconnected by the
/// redial loop a few seconds later).
pub async fn wait_peers(url: &str, peers: u64, within: Duration) -> anyhow::Result<()> {
    let client = ws(url).await;
    let mut heads = finalized_heads(&client).await?;
    tokio::time::timeout(within, async {
        loop {
            let health = call(url, "system_health", vec![]).await?;
            if health["peers"].as_u64() >= Some(peers) {
                return Ok(());
            }
            match heads.next().await {
                Some(head) => {
                    head?;
                }
                None => anyhow::bail!("subscription closed"),
            }
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("{url} did not reach {peers} peers within {within:?}"))?
}
