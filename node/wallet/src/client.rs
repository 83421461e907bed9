//! Talking to the node: plain requests over HTTP, the watch subscription over WebSocket,
//! and the local verification of state proofs.

use anyhow::{anyhow, bail, Context};
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::{json, Value};
use std::time::Duration;
use wijk_primitives::{Address, Hash, Header, SigningContext};

/// How long `send` waits for finality before giving up (the transaction may still land).
const FINALITY_TIMEOUT: Duration = Duration::from_secs(120);

/// Facts about the chain the wallet needs to sign.
pub(crate) struct ChainInfo {
    pub(crate) address_prefix: u16,
    genesis_hash: Hash,
    spec_version: u32,
}

impl ChainInfo {
    pub(crate) fn signing_context(&self) -> SigningContext {
        SigningContext {
            genesis_hash: self.genesis_hash,
            spec_version: self.spec_version,
        }
    }
}

pub(crate) struct Client {
    url: String,
}

fn explain(url: &str, error: jsonrpsee::core::ClientError) -> anyhow::Error {
    match error {
        jsonrpsee::core::ClientError::Call(call) => anyhow!("{}", call.message()),
        jsonrpsee::core::ClientError::Transport(transport) => {
            anyhow!(
                "cannot reach the node at {url} ({transport}); is wijk-node running? (--rpc URL)"
            )
        }
        other => anyhow!("{other}"),
    }
}

impl Client {
    pub(crate) fn new(url: &str) -> Client {
        Client {
            url: url.to_string(),
        }
    }

    fn http(&self) -> anyhow::Result<HttpClient> {
        HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .build(&self.url)
            .with_context(|| format!("bad --rpc URL {}", self.url))
    }

    fn ws_url(&self) -> String {
        if let Some(rest) = self.url.strip_prefix("http://") {
            format!("ws://{rest}")
        } else if let Some(rest) = self.url.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            self.url.clone()
        }
    }

    pub(crate) async fn request(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        let params: Vec<Value> = params.as_array().cloned().unwrap_or_default();
        self.http()?
            .request::<Value, _>(method, params)
            .await
            .map_err(|e| explain(&self.url, e))
    }

    pub(crate) async fn chain_info(&self) -> anyhow::Result<ChainInfo> {
        let info = self.request("wijk_chainInfo", json!([])).await?;
        Ok(ChainInfo {
            address_prefix: info["addressPrefix"].as_u64().context("no addressPrefix")? as u16,
            genesis_hash: info["genesisHash"]
                .as_str()
                .and_then(Hash::from_hex)
                .context("no genesisHash")?,
            spec_version: info["specVersion"].as_u64().context("no specVersion")? as u32,
        })
    }

    /// Submits and waits for finality; returns the block hash.
    pub(crate) async fn submit_and_watch(&self, encoded: &str) -> anyhow::Result<String> {
        let url = self.ws_url();
        let ws = WsClientBuilder::default()
            .build(&url)
            .await
            .map_err(|e| explain(&url, e))?;
        let mut updates = ws
            .subscribe::<Value, _>(
                "author_submitAndWatchTransaction",
                vec![json!(encoded)],
                "author_unwatchTransaction",
            )
            .await
            .map_err(|e| explain(&url, e))?;
        let wait = async {
            while let Some(update) = updates.next().await {
                let update = update.context("bad update from the node")?;
                if update == json!("ready") {
                    eprintln!("accepted by the node; waiting for finality ...");
                } else if let Some(block) = update.get("finalized").and_then(Value::as_str) {
                    return Ok(block.to_string());
                } else if let Some(reason) = update.get("dropped").and_then(Value::as_str) {
                    bail!("the transaction was dropped: {reason}");
                }
            }
            bail!("the node closed the connection before the transaction was final")
        };
        tokio::time::timeout(FINALITY_TIMEOUT, wait)
            .await
            .map_err(|_| {
                anyhow!("not final after {FINALITY_TIMEOUT:?}; check later with `wijk tx`")
            })?
    }
}

/// One line per transaction, in plain words.
pub(crate) fn describe_transaction(tx: &Value) -> String {
    let call = &tx["call"];
    let what = match call["call"].as_str() {
        Some("transfer") => format!(
            "{} -> {}  {}",
            short(&tx["signer"]),
            short(&call["to"]),
            call["amount"].as_str().unwrap_or("?")
        ),
        Some("mint") => format!(
            "mint {} to {} (deposit {})",
            call["amount"].as_str().unwrap_or("?"),
            short(&call["to"]),
            call["depositRef"].as_str().unwrap_or("")
        ),
        Some("redeem") => format!(
            "redeem {} by {}",
            call["amount"].as_str().unwrap_or("?"),
            short(&tx["signer"])
        ),
        Some("scheduleChange") => format!(
            "validator set of {} scheduled from block #{} by {}",
            call["validators"].as_array().map_or(0, |v| v.len()),
            call["activatesAt"],
            short(&tx["signer"])
        ),
        Some("reportEquivocation") => format!(
            "equivocation by {} in view {} reported by {}",
            short(&call["first"]["signer"]),
            call["first"]["view"],
            short(&tx["signer"])
        ),
        _ => call.to_string(),
    };
    let outcome = if tx["outcome"]["success"] == json!(true) {
        "ok".to_string()
    } else {
        format!("FAILED: {}", tx["outcome"]["error"].as_str().unwrap_or("?"))
    };
    format!(
        "#{}  {}  {}  [{}]",
        tx["blockNumber"],
        tx["hash"].as_str().unwrap_or("?"),
        what,
        outcome
    )
}

fn short(address: &Value) -> String {
    let text = address.as_str().unwrap_or("?");
    if text.len() > 14 {
        format!("{}..{}", &text[..6], &text[text.len() - 6..])
    } else {
        text.to_string()
    }
}

fn hex_field(value: &Value, field: &str) -> anyhow::Result<Vec<u8>> {
    let text = value[field]
        .as_str()
        .with_context(|| format!("missing {field}"))?;
    hex::decode(text.trim_start_matches("0x")).with_context(|| format!("{field} is not hex"))
}

/// Fetches the finalized header, its certificate and a balance proof, and checks all of
/// it here: header hash, certificate against the validator set (itself proven from the
/// same state root), and the balance against the state root.
pub(crate) async fn prove_balance(
    client: &Client,
    address: &str,
    json_output: bool,
) -> anyhow::Result<()> {
    let info = client.chain_info().await?;
    let account = Address::parse(address, info.address_prefix)?;
    let head = client.request("chain_getFinalizedHead", json!([])).await?;
    let head_hash = head
        .as_str()
        .and_then(Hash::from_hex)
        .context("no finalized head")?;
    let header_json = client
        .request("chain_getHeader", json!([head_hash.to_hex()]))
        .await?;
    use parity_scale_codec::Decode;
    let header = Header::decode(&mut &hex_field(&header_json, "encoded")?[..])
        .context("the node's header does not decode")?;
    if header.hash() != head_hash {
        bail!("the node's header does not hash to the block hash it named: do not trust this node");
    }
    let account_key = wijk_system::ACCOUNTS.key(&account);
    let validators_key = wijk_validators::CURRENT.key();
    let scheduled_key = wijk_validators::PENDING.key();
    let keys = json!([
        format!("0x{}", hex::encode(&account_key)),
        format!("0x{}", hex::encode(&validators_key)),
        format!("0x{}", hex::encode(&scheduled_key))
    ]);
    let read = client
        .request("state_getReadProof", json!([keys, head_hash.to_hex()]))
        .await?;
    let proofs = read["proofs"].as_array().context("no proofs")?;
    let mut values = Vec::new();
    if proofs.len() != 3 {
        bail!("the node sent {} proofs for 3 keys", proofs.len());
    }
    for (key, proof) in [&account_key, &validators_key, &scheduled_key]
        .into_iter()
        .zip(proofs)
    {
        let value = proof["value"]
            .as_str()
            .map(|v| hex::decode(v.trim_start_matches("0x")))
            .transpose()?;
        wijk_runtime::state_tree::verify_proof(
            header.state_root,
            key,
            value.as_deref(),
            &hex_field(proof, "proof")?,
        )
        .context("the proof does not match the state root: do not trust this node")?;
        values.push(value);
    }
    let validators: Vec<wijk_primitives::AccountId> = match &values[1] {
        Some(bytes) => Decode::decode(&mut &bytes[..])?,
        None => bail!("no validator set in state"),
    };
    let certificate_json = client
        .request("chain_getFinalityCertificate", json!([head_hash.to_hex()]))
        .await?;
    let certificate = wijk_primitives::FinalityCertificate::decode(
        &mut &hex_field(&certificate_json, "encoded")?[..],
    )?;
    // The last block of a validator set's epoch may be final through a closing block.
    let scheduled: Option<wijk_validators::ScheduledChange> = values[2]
        .as_ref()
        .map(|bytes| Decode::decode(&mut &bytes[..]))
        .transpose()?;
    let client = wijk_light_client::LightClient::new(wijk_light_client::TrustedState {
        genesis_hash: info.genesis_hash,
        epoch: wijk_primitives::epoch_of_view(certificate.view),
        validators: validators.clone(),
        height: 0,
        block_hash: info.genesis_hash,
        scheduled: scheduled.map(|scheduled| scheduled.change),
    });
    client
        .check(std::slice::from_ref(&header), &certificate)
        .context("the finality certificate does not verify: do not trust this node")?;
    let record: wijk_system::AccountInfo = match &values[0] {
        Some(bytes) => Decode::decode(&mut &bytes[..])?,
        None => wijk_system::AccountInfo::default(),
    };
    let cents = record.balance_cents;
    let result = json!({
        "address": address,
        "balance": wijk_primitives::format_cents(cents),
        "nonce": record.nonce,
        "block": header.height,
        "blockHash": head_hash.to_hex(),
        "stateRoot": header.state_root.to_hex(),
        "certificateSigners": certificate.signatures.len(),
        "verified": true,
    });
    if json_output {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        println!(
            "balance {} at block #{} - verified here: Merkle proof against state root {}, block finalized by {} of {} validators",
            wijk_primitives::format_cents(cents),
            header.height,
            header.state_root,
            certificate.signatures.len(),
            validators.len()
        );
    }
    Ok(())
}
