//! The client of a wijk node: typed JSON-RPC calls ([`wijk_rpc_types`]), building and
//! signing transactions, waiting for finality, and checking what a node says against a
//! chain the caller pins ([`verify`]), trusting nothing else.
//!
//! Used by the wallet, the tests, the benchmarks and (to come) the relayer. It links no
//! database and no networking stack beyond HTTP and WebSocket.
//!
//! Owns: how to talk to a node and how to check its answers.
//! Must never: send a secret key anywhere (transactions are signed here and only the signed
//! bytes leave), or accept a node's word for finality or state that it can check itself.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod verify;

use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::core::ClientError as RpcError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::{DecodeAll, Encode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::time::Duration;
use wijk_primitives::json::with_address_prefix;
use wijk_primitives::{AccountId, Address, Hash, Height, Keypair, SigningContext};
/// The interface's types, as this client returns them.
pub use wijk_rpc_types as types;
use wijk_runtime::{RuntimeCall, Transaction};

/// How long a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How many blocks a transaction stays valid for: about ten minutes at one block a second,
/// long enough for a slow network, short enough that a stuck payment cannot surface much
/// later.
pub const VALIDITY_BLOCKS: Height = 600;

/// Why a call to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached.
    #[error("cannot reach the node at {url} ({reason}); is wijk-node running? (--rpc URL)")]
    Unreachable {
        /// Where it was looked for.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The node answered with an error (a refusal says why).
    #[error("{message}")]
    Node {
        /// The JSON-RPC error code.
        code: i32,
        /// The node's words.
        message: String,
    },
    /// The node's answer is not of the expected shape.
    #[error("the node's answer to {method} is malformed: {reason}")]
    Malformed {
        /// The method.
        method: &'static str,
        /// Why.
        reason: String,
    },
    /// The transaction was dropped from the pool before it was final.
    #[error("the transaction was dropped: {reason}")]
    Dropped {
        /// The pool's reason.
        reason: String,
    },
    /// Not final in time (it may still become final).
    #[error("not final after {waited:?}; check later with `wijk tx {hash}`")]
    NotFinalInTime {
        /// How long we waited.
        waited: Duration,
        /// The transaction.
        hash: Hash,
    },
    /// The URL is not one.
    #[error("bad node URL {url}: {reason}")]
    BadUrl {
        /// What was given.
        url: String,
        /// Why.
        reason: String,
    },
}

fn explain(url: &str, error: RpcError) -> ClientError {
    match error {
        RpcError::Call(call) => ClientError::Node {
            code: call.code(),
            message: call.message().to_string(),
        },
        RpcError::Transport(transport) => ClientError::Unreachable {
            url: url.to_string(),
            reason: transport.to_string(),
        },
        RpcError::RequestTimeout => ClientError::Unreachable {
            url: url.to_string(),
            reason: "no answer in time".into(),
        },
        other => ClientError::Unreachable {
            url: url.to_string(),
            reason: other.to_string(),
        },
    }
}

/// Final headers as they come (`chain_subscribeFinalizedHeads`), with the connection
/// that carries them.
pub struct Heads {
    _connection: jsonrpsee::ws_client::WsClient,
    subscription: jsonrpsee::core::client::Subscription<Value>,
}

impl Heads {
    /// The next final header (`None` once the node closed the subscription).
    pub async fn next(&mut self) -> Option<types::Header> {
        loop {
            let raw = self.subscription.next().await?.ok()?;
            match serde_json::from_value(raw) {
                Ok(header) => return Some(header),
                // A header this client cannot read is skipped, not fatal.
                Err(_) => continue,
            }
        }
    }
}

/// A connection to one node of one chain.
#[derive(Clone)]
pub struct Client {
    url: String,
    http: HttpClient,
    info: types::ChainInfo,
}

impl Client {
    /// Connects to the node at `url` (`http://...`) and learns its chain.
    pub async fn connect(url: &str) -> Result<Client, ClientError> {
        let http = HttpClientBuilder::default()
            .request_timeout(REQUEST_TIMEOUT)
            .build(url)
            .map_err(|error| ClientError::BadUrl {
                url: url.to_string(),
                reason: error.to_string(),
            })?;
        let raw: Value = http
            .request("wijk_chainInfo", Vec::<Value>::new())
            .await
            .map_err(|error| explain(url, error))?;
        let info: types::ChainInfo =
            serde_json::from_value(raw).map_err(|error| ClientError::Malformed {
                method: "wijk_chainInfo",
                reason: error.to_string(),
            })?;
        Ok(Client {
            url: url.to_string(),
            http,
            info,
        })
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The chain the node says it serves (its word; see [`verify`] to check it).
    pub fn chain(&self) -> &types::ChainInfo {
        &self.info
    }

    /// What transactions of this chain sign.
    pub fn signing_context(&self) -> SigningContext {
        SigningContext {
            genesis_hash: self.info.genesis_hash,
            spec_version: self.info.spec_version,
        }
    }

    /// `account` as an address of this chain.
    pub fn address(&self, account: &AccountId) -> String {
        account.address(self.info.address_prefix).to_string()
    }

    /// Parses an address of this chain.
    pub fn parse_address(&self, text: &str) -> Result<AccountId, wijk_primitives::AddressError> {
        Address::parse(text, self.info.address_prefix)
    }

    /// Any method, with its answer read as `T` under this chain's address prefix.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: Vec<Value>,
    ) -> Result<T, ClientError> {
        let raw: Value = self
            .http
            .request(method, params)
            .await
            .map_err(|error| explain(&self.url, error))?;
        with_address_prefix(self.info.address_prefix, || serde_json::from_value(raw)).map_err(
            |error| ClientError::Malformed {
                method,
                reason: error.to_string(),
            },
        )
    }

    /// `wijk_account`.
    pub async fn account(&self, account: &AccountId) -> Result<types::Account, ClientError> {
        self.request("wijk_account", vec![json!(self.address(account))])
            .await
    }

    /// `wijk_supply`.
    pub async fn supply(&self) -> Result<types::Supply, ClientError> {
        self.request("wijk_supply", Vec::new()).await
    }

    /// `wijk_member` (`None` if not a member).
    pub async fn member(&self, account: &AccountId) -> Result<Option<types::Member>, ClientError> {
        self.request("wijk_member", vec![json!(self.address(account))])
            .await
    }

    /// `wijk_members`: a page of members, optionally holding `role` (its name).
    pub async fn members(
        &self,
        role: Option<&str>,
        after: Option<&AccountId>,
        limit: usize,
    ) -> Result<types::MembersPage, ClientError> {
        let after = after.map(|account| self.address(account));
        self.request(
            "wijk_members",
            vec![json!(role), json!(after), json!(limit)],
        )
        .await
    }

    /// `wijk_merchants`, optionally of one category, nearest first from `near`
    /// (`LAT,LON`), within `radius_m`.
    pub async fn merchants(
        &self,
        category: Option<&str>,
        near: Option<&str>,
        radius_m: Option<u64>,
    ) -> Result<Vec<types::Merchant>, ClientError> {
        self.request(
            "wijk_merchants",
            vec![json!(category), json!(near), json!(radius_m)],
        )
        .await
    }

    /// `wijk_region`.
    pub async fn region(&self) -> Result<types::Region, ClientError> {
        self.request("wijk_region", Vec::new()).await
    }

    /// `wijk_redemptions`.
    pub async fn redemptions(
        &self,
        owed_only: bool,
        from: u64,
        limit: usize,
    ) -> Result<types::RedemptionsPage, ClientError> {
        self.request(
            "wijk_redemptions",
            vec![json!(owed_only), json!(from), json!(limit)],
        )
        .await
    }

    /// `wijk_history`.
    pub async fn history(
        &self,
        account: &AccountId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<types::HistoryPage, ClientError> {
        self.request(
            "wijk_history",
            vec![json!(self.address(account)), json!(limit), json!(before)],
        )
        .await
    }

    /// `wijk_transaction` (`None` while not final).
    pub async fn transaction(
        &self,
        hash: &Hash,
    ) -> Result<Option<types::FinalTransaction>, ClientError> {
        self.request("wijk_transaction", vec![json!(hash)]).await
    }

    /// `wijk_proposals`: newest first, numbered below `before`.
    pub async fn proposals(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<types::governance::Proposal>, ClientError> {
        self.request("wijk_proposals", vec![json!(before), json!(limit)])
            .await
    }

    /// `wijk_proposal`, with how `member`'s vote counts if given.
    pub async fn proposal(
        &self,
        id: u64,
        member: Option<&AccountId>,
        votes_from: usize,
    ) -> Result<Option<types::governance::ProposalDetail>, ClientError> {
        let member = member.map(|account| self.address(account));
        self.request(
            "wijk_proposal",
            vec![json!(id), json!(member), json!(votes_from)],
        )
        .await
    }

    /// `wijk_delegations` of `account`.
    pub async fn delegations(
        &self,
        account: &AccountId,
    ) -> Result<Option<types::governance::Delegations>, ClientError> {
        self.request("wijk_delegations", vec![json!(self.address(account))])
            .await
    }

    /// `wijk_board`.
    pub async fn board(&self) -> Result<types::governance::Board, ClientError> {
        self.request("wijk_board", Vec::new()).await
    }

    /// `wijk_activities`: the catalogue and the claim rules.
    pub async fn activities(&self) -> Result<types::activities::Catalogue, ClientError> {
        self.request("wijk_activities", Vec::new()).await
    }

    /// `wijk_claims`: newest first, numbered below `before`; of one participant, or only
    /// open ones, if asked.
    pub async fn claims(
        &self,
        participant: Option<&AccountId>,
        only_open: bool,
        before: Option<u64>,
        limit: usize,
    ) -> Result<types::activities::Claims, ClientError> {
        let participant = participant.map(|account| self.address(account));
        self.request(
            "wijk_claims",
            vec![
                json!(participant),
                json!(only_open),
                json!(before),
                json!(limit),
            ],
        )
        .await
    }

    /// `wijk_budgets`, of one funder if given.
    pub async fn budgets(
        &self,
        funder: Option<&AccountId>,
    ) -> Result<types::activities::Budgets, ClientError> {
        let funder = funder.map(|account| self.address(account));
        self.request("wijk_budgets", vec![json!(funder)]).await
    }

    /// `wijk_offers` (`requests: false`) or `wijk_requests`: open listings, nearest first
    /// when `near` (decimal degrees, `51.0585,3.7130`) is given.
    pub async fn listings(
        &self,
        requests: bool,
        near: Option<&str>,
        category: Option<&str>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<types::market::Listings, ClientError> {
        let method = if requests {
            "wijk_requests"
        } else {
            "wijk_offers"
        };
        self.request(
            method,
            vec![json!(near), json!(category), json!(after), json!(limit)],
        )
        .await
    }

    /// `wijk_listing`.
    pub async fn listing(&self, id: u64) -> Result<Option<types::market::Listing>, ClientError> {
        self.request("wijk_listing", vec![json!(id)]).await
    }

    /// `wijk_deal`.
    pub async fn deal(&self, id: u64) -> Result<Option<types::market::Deal>, ClientError> {
        self.request("wijk_deal", vec![json!(id)]).await
    }

    /// `wijk_deals` of `party`.
    pub async fn deals(
        &self,
        party: &AccountId,
        limit: usize,
    ) -> Result<types::market::Deals, ClientError> {
        let party = self.address(party);
        self.request("wijk_deals", vec![json!(party), json!(limit)])
            .await
    }

    /// `wijk_stats` of periods `from` to `to` (the node's defaults when `None`).
    pub async fn stats(
        &self,
        from: Option<u32>,
        to: Option<u32>,
    ) -> Result<types::stats::Stats, ClientError> {
        self.request("wijk_stats", vec![json!(from), json!(to)])
            .await
    }

    /// `wijk_goals` (retired ones too when `retired`).
    pub async fn goals(&self, retired: bool) -> Result<types::stats::Goals, ClientError> {
        self.request("wijk_goals", vec![json!(retired)]).await
    }

    /// `wijk_validators`.
    pub async fn validators(&self) -> Result<types::Validators, ClientError> {
        self.request("wijk_validators", Vec::new()).await
    }

    /// `wijk_epochs` from `from`.
    pub async fn epochs(&self, from: u64) -> Result<Vec<types::Epoch>, ClientError> {
        self.request("wijk_epochs", vec![json!(from)]).await
    }

    /// `wijk_offences`.
    pub async fn offences(
        &self,
        from: u64,
        limit: u64,
    ) -> Result<types::OffencesPage, ClientError> {
        self.request("wijk_offences", vec![json!(from), json!(limit)])
            .await
    }

    /// The hash of the final block at `height` (the finalized head when `None`).
    pub async fn block_hash(&self, height: Option<Height>) -> Result<Option<Hash>, ClientError> {
        self.request("chain_getBlockHash", vec![json!(height)])
            .await
    }

    /// The last final block's hash.
    pub async fn finalized_head(&self) -> Result<Option<Hash>, ClientError> {
        self.request("chain_getFinalizedHead", Vec::new()).await
    }

    /// A header by block hash.
    pub async fn header(&self, hash: &Hash) -> Result<Option<types::Header>, ClientError> {
        self.request("chain_getHeader", vec![json!(hash)]).await
    }

    /// A final block by hash, decoded from the SCALE bytes the node sends beside its JSON
    /// (the header's hash and each transaction's are checked against what the node named),
    /// ready to be re-executed.
    pub async fn block(&self, hash: &Hash) -> Result<Option<wijk_runtime::Block>, ClientError> {
        let Some(signed) = self
            .request::<Option<types::SignedBlock>>("chain_getBlock", vec![json!(hash)])
            .await?
        else {
            return Ok(None);
        };
        let malformed = |reason: String| ClientError::Malformed {
            method: "chain_getBlock",
            reason,
        };
        let header = wijk_primitives::Header::decode_all(&mut &signed.block.header.encoded.0[..])
            .map_err(|error| malformed(format!("header: {error}")))?;
        if header.hash() != *hash {
            return Err(malformed(format!(
                "asked for block {hash}, the header sent hashes to {}",
                header.hash()
            )));
        }
        let transactions = signed
            .block
            .transactions
            .iter()
            .map(|tx| {
                let decoded = wijk_runtime::decode_transaction(&tx.encoded.0)
                    .map_err(|error| malformed(format!("transaction {}: {error}", tx.hash)))?;
                if decoded.hash() == tx.hash {
                    Ok(decoded)
                } else {
                    Err(malformed(format!(
                        "transaction {} hashes to {}",
                        tx.hash,
                        decoded.hash()
                    )))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(wijk_runtime::Block {
            header,
            transactions,
        }))
    }

    /// The hashes of a final block's transactions, in order.
    pub async fn block_transaction_hashes(
        &self,
        hash: &Hash,
    ) -> Result<Option<Vec<Hash>>, ClientError> {
        self.request("chain_getBlockTransactionHashes", vec![json!(hash)])
            .await
    }

    /// `system_syncState`.
    pub async fn sync_state(&self) -> Result<types::SyncState, ClientError> {
        self.request("system_syncState", Vec::new()).await
    }

    /// Headers of blocks as they become final, over WebSocket.
    pub async fn finalized_heads(&self) -> Result<Heads, ClientError> {
        let url = self.ws_url();
        let ws = WsClientBuilder::default()
            .max_response_size(64 * 1024 * 1024)
            .build(&url)
            .await
            .map_err(|error| explain(&url, error))?;
        let subscription = ws
            .subscribe::<Value, _>(
                "chain_subscribeFinalizedHeads",
                Vec::<Value>::new(),
                "chain_unsubscribeFinalizedHeads",
            )
            .await
            .map_err(|error| explain(&url, error))?;
        Ok(Heads {
            _connection: ws,
            subscription,
        })
    }

    /// The certificate stored with a block.
    pub async fn certificate(
        &self,
        hash: &Hash,
    ) -> Result<Option<types::FinalityCertificate>, ClientError> {
        self.request("chain_getFinalityCertificate", vec![json!(hash)])
            .await
    }

    /// Values of `keys` with proofs at block `at`.
    pub async fn read_proof(
        &self,
        keys: &[Vec<u8>],
        at: &Hash,
    ) -> Result<types::ReadProof, ClientError> {
        let keys: Vec<types::Bytes> = keys.iter().cloned().map(types::Bytes).collect();
        self.request("state_getReadProof", vec![json!(keys), json!(at)])
            .await
    }

    /// The nonce `account`'s next transaction should carry (past its transactions waiting
    /// in the node's pool).
    pub async fn next_nonce(&self, account: &AccountId) -> Result<u64, ClientError> {
        self.request("author_nextNonce", vec![json!(self.address(account))])
            .await
    }

    /// Signs `call` with `key` at `nonce`, valid until `valid_until`.
    pub fn sign(
        &self,
        key: &Keypair,
        nonce: u64,
        valid_until: Height,
        call: RuntimeCall,
    ) -> Transaction {
        Transaction::sign(key, &self.signing_context(), nonce, valid_until, call)
    }

    /// Signs `call` with `key` at the account's next nonce, valid for [`VALIDITY_BLOCKS`]
    /// after the last final block.
    pub async fn sign_next(
        &self,
        key: &Keypair,
        call: RuntimeCall,
    ) -> Result<Transaction, ClientError> {
        let account = self.account(&key.account_id()).await?;
        let nonce = self.next_nonce(&key.account_id()).await?;
        let height = account.at_block.unwrap_or(0);
        Ok(self.sign(key, nonce, height + VALIDITY_BLOCKS, call))
    }

    /// Submits a signed transaction; returns its hash once the pool accepted it.
    pub async fn submit(&self, transaction: &Transaction) -> Result<Hash, ClientError> {
        self.request(
            "author_submitTransaction",
            vec![json!(types::Bytes(transaction.encode()))],
        )
        .await
    }

    /// Submits up to 1,000 signed transactions in one call; one answer each, in order.
    pub async fn submit_batch(
        &self,
        transactions: &[Transaction],
    ) -> Result<Vec<types::Submitted>, ClientError> {
        let encoded: Vec<types::Bytes> = transactions
            .iter()
            .map(|tx| types::Bytes(tx.encode()))
            .collect();
        self.request("author_submitTransactions", vec![json!(encoded)])
            .await
    }

    /// Submits already-encoded transactions (for load generators that sign ahead).
    pub async fn submit_encoded_batch(
        &self,
        encoded: &[types::Bytes],
    ) -> Result<Vec<types::Submitted>, ClientError> {
        self.request("author_submitTransactions", vec![json!(encoded)])
            .await
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

    /// Submits a transaction and waits, up to `timeout`, until it is final; returns the
    /// final block's hash. `on_ready` is called once the node accepted it.
    pub async fn submit_and_wait(
        &self,
        transaction: &Transaction,
        timeout: Duration,
        on_ready: impl FnOnce(),
    ) -> Result<Hash, ClientError> {
        let url = self.ws_url();
        let ws = WsClientBuilder::default()
            .build(&url)
            .await
            .map_err(|error| explain(&url, error))?;
        let mut updates = ws
            .subscribe::<types::TransactionUpdate, _>(
                "author_submitAndWatchTransaction",
                vec![json!(types::Bytes(transaction.encode()))],
                "author_unwatchTransaction",
            )
            .await
            .map_err(|error| explain(&url, error))?;
        let mut on_ready = Some(on_ready);
        let wait = async {
            while let Some(update) = updates.next().await {
                match update.map_err(|error| ClientError::Malformed {
                    method: "author_submitAndWatchTransaction",
                    reason: error.to_string(),
                })? {
                    types::TransactionUpdate::Ready => {
                        if let Some(on_ready) = on_ready.take() {
                            on_ready();
                        }
                    }
                    types::TransactionUpdate::InBlock(_) => {}
                    types::TransactionUpdate::Finalized(block) => return Ok(block),
                    types::TransactionUpdate::Dropped(reason) => {
                        return Err(ClientError::Dropped { reason })
                    }
                }
            }
            Err(ClientError::Unreachable {
                url: url.clone(),
                reason: "the node closed the connection before the transaction was final".into(),
            })
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ClientError::NotFinalInTime {
                waited: timeout,
                hash: transaction.hash(),
            })?
    }

    /// Signs `call` at the next nonce, submits it and waits until it is final; returns the
    /// final transaction with its outcome.
    pub async fn execute(
        &self,
        key: &Keypair,
        call: RuntimeCall,
        timeout: Duration,
    ) -> Result<types::FinalTransaction, ClientError> {
        let transaction = self.sign_next(key, call).await?;
        self.submit_and_wait(&transaction, timeout, || {}).await?;
        self.transaction(&transaction.hash())
            .await?
            .ok_or(ClientError::Malformed {
                method: "wijk_transaction",
                reason: "a transaction reported final is not served as final".into(),
            })
    }
}
