//! The JSON-RPC interface of a wijk node as types: what every method takes and returns.
//! The server renders these, [`wijk-client`] reads them, and the OpenRPC document that
//! `rpc_discover` serves ([`openrpc`]) is generated from them, so the three cannot drift.
//!
//! Shapes: bytes are `0x` hex, hashes `0x` hex of 32 bytes, accounts addresses of the
//! node's chain, amounts euros as decimal strings (`"12.50"`, with `...Cents` integer
//! strings beside them where a program needs exact arithmetic), heights and nonces JSON
//! numbers. Accounts are written and read under the chain's address prefix
//! ([`wijk_primitives::json::with_address_prefix`]).
//!
//! Owns: the types and the method table. Must never: do I/O or hold chain rules.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod activities;
pub mod governance;
pub mod market;
pub mod openrpc;
pub mod stats;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wijk_primitives::{AccountId, Hash, Height};

/// Bytes as `0x` hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Bytes(
    #[serde(with = "wijk_primitives::json::hex_bytes")]
    #[schemars(with = "wijk_primitives::json::HexBytes")]
    pub Vec<u8>,
);

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

/// `wijk_chainInfo`: what a wallet signs against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// The chain's name (e.g. "Wijk Rabot").
    pub name: String,
    /// Its id (e.g. "wijk_rabot").
    pub chain_id: String,
    /// The prefix of its addresses.
    pub address_prefix: u16,
    /// The coin's symbol.
    pub coin_symbol: String,
    /// The genesis hash, which every signature binds.
    pub genesis_hash: Hash,
    /// The runtime spec version transactions are signed under.
    pub spec_version: u32,
}

/// `system_properties`: the chain's facts in Substrate's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemProperties {
    /// The chain id.
    pub chain_id: String,
    /// The address prefix.
    pub address_prefix: u16,
    /// The coin's symbol.
    pub token_symbol: String,
    /// Decimals of the coin (2: cents).
    pub token_decimals: u8,
    /// The genesis hash.
    pub genesis_hash: Hash,
    /// The runtime spec version.
    pub spec_version: u32,
}

/// `system_health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Connected peers.
    pub peers: usize,
    /// Whether the node is downloading blocks it is behind on.
    pub is_syncing: bool,
    /// Whether this node is expected to have peers (false for a lone dev node).
    pub should_have_peers: bool,
}

/// One entry of `system_peers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// The peer's libp2p id.
    pub peer_id: String,
}

/// `system_syncState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    /// The last final block.
    pub finalized_block: Height,
    /// The highest block executed here (final or not).
    pub current_block: Height,
    /// The highest block a peer said it has.
    pub highest_block: Height,
    /// The consensus view this node is in.
    pub view: u64,
}

/// A validator-set change announced in a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetChange {
    /// The first height the new set certifies.
    pub activates_at: Height,
    /// The new set, in leader order.
    pub validators: Vec<AccountId>,
}

/// A block header; `encoded` is its SCALE encoding, whose blake3 hash is `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// The block hash.
    pub hash: Hash,
    /// The parent's hash.
    pub parent_hash: Hash,
    /// The height.
    pub number: Height,
    /// The proposer's timestamp, ms since the Unix epoch.
    pub timestamp: u64,
    /// The state root after the block.
    pub state_root: Hash,
    /// The Merkle root of its transaction hashes.
    pub transactions_root: Hash,
    /// The Merkle root of its receipts and hook events.
    pub receipts_root: Hash,
    /// The validator that proposed it.
    pub proposer: AccountId,
    /// A validator-set change it announced.
    pub validator_set_change: Option<SetChange>,
    /// The SCALE encoding.
    pub encoded: Bytes,
}

/// A transaction; `encoded` is its SCALE encoding, whose blake3 hash is `hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// The transaction hash.
    pub hash: Hash,
    /// Who signed it.
    pub signer: AccountId,
    /// Its nonce.
    pub nonce: u64,
    /// The last height it was valid at.
    pub valid_until: Height,
    /// What it does.
    #[schemars(with = "wijk_runtime::RuntimeCall")]
    pub call: serde_json::Value,
    /// The SCALE encoding.
    pub encoded: Bytes,
}

/// `chain_getBlock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SignedBlock {
    /// The block.
    pub block: Block,
}

/// A block: its header and transactions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, in order.
    pub transactions: Vec<Transaction>,
}

/// What a final transaction did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Whether its call succeeded (a failed call still used its nonce).
    pub success: bool,
    /// Its events, when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<wijk_runtime::RuntimeEvent>>")]
    pub events: Option<Vec<serde_json::Value>>,
    /// Why it failed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A final transaction with where it is and what it did (`wijk_transaction`, history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FinalTransaction {
    /// The transaction.
    #[serde(flatten)]
    pub transaction: Transaction,
    /// Its block's height.
    pub block_number: Height,
    /// Its block's hash.
    pub block_hash: Hash,
    /// Its position in the block.
    pub index: u32,
    /// Its block's timestamp.
    pub timestamp: u64,
    /// Always true: only final transactions are served.
    pub finalized: bool,
    /// What it did.
    pub outcome: Outcome,
}

/// One validator's signature in a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSignature {
    /// The validator.
    pub validator: AccountId,
    /// Its signature over the finality vote.
    pub signature: Bytes,
}

/// `chain_getFinalityCertificate`: the signatures that made a block final (its own, or a
/// descendant's that finalized it as an ancestor; `height` says which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FinalityCertificate {
    /// The height of the block the signatures name.
    pub height: Height,
    /// The consensus view (its epoch is `view >> 40`).
    pub view: u64,
    /// The block the signatures name (a closing block's derived hash at an epoch's end).
    pub block_hash: Hash,
    /// The signatures.
    pub signatures: Vec<CertificateSignature>,
    /// The SCALE encoding.
    pub encoded: Bytes,
}

/// `chain_getReceipts`: a block's receipts and hook events as SCALE bytes, so a verifier
/// can recompute the header's receipts root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Receipts {
    /// The block's hash.
    pub block_hash: Hash,
    /// Its height.
    pub number: Height,
    /// SCALE of `(Vec<Receipt>, HookEvents)` (see docs/PROTOCOL.md).
    pub encoded: Bytes,
}

/// One key of a read proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateProof {
    /// The state key.
    pub key: Bytes,
    /// Its value, or null when it is absent (the proof then shows the absence).
    pub value: Option<Bytes>,
    /// The proof against the block's state root (jmt's sparse Merkle proof, borsh).
    pub proof: Bytes,
}

/// `state_getReadProof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadProof {
    /// The block the proofs are at.
    pub at: Hash,
    /// Its height.
    pub number: Height,
    /// Its state root, which every proof is against.
    pub state_root: Hash,
    /// One per key asked, in order.
    pub proofs: Vec<StateProof>,
}

/// Why one of `author_submitTransactions`' transactions was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RefusalDetail {
    /// The JSON-RPC error code (1010 refused, 1011 pool full, ...).
    pub code: i32,
    /// Why, in words.
    pub message: String,
}

/// What became of one transaction of `author_submitTransactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Submitted {
    /// Accepted into the pool.
    Accepted {
        /// Its hash.
        hash: Hash,
    },
    /// Refused.
    Refused {
        /// Why.
        error: RefusalDetail,
    },
}

/// An update of `author_submitAndWatchTransaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TransactionUpdate {
    /// In the pool, waiting for a block.
    Ready,
    /// In this block.
    InBlock(Hash),
    /// Final in this block.
    Finalized(Hash),
    /// Dropped from the pool, with the reason.
    Dropped(String),
}

/// `wijk_account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The address.
    pub address: AccountId,
    /// Its public key, 0x hex.
    pub public_key: Bytes,
    /// Its free balance in euros.
    pub balance: String,
    /// The same in cents.
    pub balance_cents: String,
    /// The nonce its next transaction must carry.
    pub nonce: u64,
    /// Coins held under earmarks (apart from the free balance), each with its rule.
    pub earmarked: Vec<EarmarkHolding>,
    /// Free and earmarked coins together, euros.
    pub total: String,
    /// Its membership, if it is a member.
    pub member: Option<Member>,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// Coins an account holds under one earmark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarmarkHolding {
    /// The earmark's id.
    pub earmark: Hash,
    /// Its rule in words (`food; Rabot-Blaisantvest only; until block 90000`).
    pub rule: String,
    /// The funder, to whom what is left returns at the expiry.
    pub funder: AccountId,
    /// The categories it may pay (empty: any).
    pub categories: Vec<String>,
    /// Only merchants inside the region.
    pub region_only: bool,
    /// When what is left returns to the funder.
    pub expires_at: Option<Height>,
    /// Euros held.
    pub amount: String,
    /// The same in cents.
    pub amount_cents: String,
}

/// `wijk_member`: what the chain keeps of a member (no personal data: the tag is a keyed
/// hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The member's address.
    pub address: AccountId,
    /// Their roles (`resident`, `merchant`, `exchangeOffice` ...).
    pub roles: Vec<String>,
    /// `active` or `suspended`.
    pub status: String,
    /// Why they are suspended, if they are.
    pub suspension_reason: Option<String>,
    /// Their registration tag.
    pub tag: Hash,
    /// The intermediary who registered them (none for genesis members and the board's).
    pub registered_by: Option<AccountId>,
    /// When they were registered.
    pub since: Height,
    /// A merchant's place.
    pub place: Option<MerchantPlace>,
    /// Their guardian, if they have one.
    pub guardian: Option<Guardian>,
    /// A move to a new key waiting for its delay.
    pub pending_rekey: Option<PendingRekey>,
}

/// Where a merchant trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantPlace {
    /// `[latitude, longitude]` in microdegrees.
    pub location: (i32, i32),
    /// The same in decimal degrees, `51.062100,3.716500`.
    pub degrees: String,
    /// What they sell.
    pub category: String,
    /// Whether the shop lies in the wijk's region (on its boundary counts as inside).
    pub inside_region: bool,
}

/// A member's guardian.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Guardian {
    /// The intermediary who may sign for the member.
    pub guardian: AccountId,
    /// Most they may move for the member in a day, euros.
    pub daily_cap: String,
    /// Moved today, euros.
    pub spent_today: String,
}

/// A rekey waiting for its delay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingRekey {
    /// The new key.
    pub new: AccountId,
    /// When it takes effect, unless the old key cancels it first.
    pub due: Height,
    /// The intermediary who asked (none for the board).
    pub requested_by: Option<AccountId>,
}

/// `wijk_members`: a page of members in address order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembersPage {
    /// The members.
    pub entries: Vec<Member>,
    /// Pass as `after` for the next page; null at the end.
    pub next: Option<AccountId>,
}

/// One merchant of `wijk_merchants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Merchant {
    /// The merchant's address.
    pub address: AccountId,
    /// Where they trade.
    pub place: MerchantPlace,
    /// Metres from the point asked about, if one was (great-circle, rounded).
    pub distance_m: Option<u64>,
}

/// `wijk_region`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// The wijk's name.
    pub name: String,
    /// Each polygon's corners, `[latitude, longitude]` in microdegrees.
    pub polygons: Vec<Vec<(i32, i32)>>,
    /// No region: every place is inside.
    pub borderless: bool,
    /// Whether every payment must stay in the wijk (the coin is local-only).
    pub local_only: bool,
}

/// One redemption of `wijk_redemptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Redemption {
    /// Its id (to pay it).
    pub id: u64,
    /// The holder owed.
    pub who: AccountId,
    /// Burned and owed, euros.
    pub amount: String,
    /// The same in cents.
    pub amount_cents: String,
    /// Paid to the fund, euros.
    pub fee: String,
    /// blake3 of the bank reference the euros go to.
    pub payout_to: Hash,
    /// When it was asked for.
    pub requested_at: Height,
    /// The payout, once made.
    pub paid: Option<RedemptionPayout>,
}

/// An exchange office's payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedemptionPayout {
    /// The exchange office.
    pub by: AccountId,
    /// blake3 of the bank transfer's reference.
    pub bank_ref: Hash,
    /// When.
    pub at: Height,
}

/// `wijk_redemptions`: a page of redemptions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedemptionsPage {
    /// The redemptions.
    pub entries: Vec<Redemption>,
    /// Pass as `from` for the next page; null at the end.
    pub next: Option<u64>,
    /// Euros owed in all.
    pub owed: String,
}

/// `wijk_supply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Supply {
    /// Coins in existence, euros.
    pub total_supply: String,
    /// Euros in reserve.
    pub euro_reserve: String,
    /// Coins in existence, cents.
    pub total_supply_cents: String,
    /// Euros in reserve, cents.
    pub euro_reserve_cents: String,
    /// Euros owed for redemptions not yet paid out.
    pub redemptions_owed: String,
    /// The same in cents.
    pub redemptions_owed_cents: String,
    /// Whether total supply == euro reserve - redemptions owed (it always must).
    pub balanced: bool,
    /// The final block this is read at.
    #[serde(rename = "atBlock")]
    pub at_block: Option<Height>,
}

/// `wijk_history`: transactions newest first, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryPage {
    /// The transactions.
    pub entries: Vec<FinalTransaction>,
    /// Pass as `before` for older entries; null at the end.
    pub next: Option<String>,
}

/// `wijk_validators`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validators {
    /// The current epoch.
    pub epoch: u64,
    /// Its set, in leader order.
    pub validators: Vec<AccountId>,
    /// Signatures that finalize a block.
    pub quorum: usize,
    /// The accounts that decide for the board (who may schedule a change).
    pub board: Vec<AccountId>,
    /// The change scheduled, if any.
    pub scheduled: Option<SetChange>,
    /// Offences recorded.
    pub offences: u64,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// One epoch of the validator set (`wijk_epochs`), what a light client follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Epoch {
    /// The epoch.
    pub epoch: u64,
    /// Its set.
    pub validators: Vec<AccountId>,
    /// The first height it certifies.
    pub starts_at: Height,
    /// The block whose header announced it (null for epoch 0).
    pub announced_at: Option<Height>,
}

/// A recorded equivocation (`wijk_offences`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Offence {
    /// Who signed both votes.
    pub offender: AccountId,
    /// In which view.
    pub view: u64,
    /// In which epoch.
    pub epoch: u64,
    /// Who reported it.
    pub reporter: AccountId,
    /// The block that recorded it.
    pub recorded_at: Height,
    /// One vote.
    #[schemars(with = "wijk_primitives::SignedVote")]
    pub first: serde_json::Value,
    /// The vote conflicting with it.
    #[schemars(with = "wijk_primitives::SignedVote")]
    pub second: serde_json::Value,
}

/// `wijk_offences`: offences oldest first, and how many there are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OffencesPage {
    /// The offences asked for.
    pub offences: Vec<Offence>,
    /// All recorded.
    pub count: u64,
}

/// `rpc_methods`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Methods {
    /// Every method name, sorted.
    pub methods: Vec<String>,
}

impl From<&wijk_primitives::Header> for Header {
    fn from(header: &wijk_primitives::Header) -> Header {
        use parity_scale_codec::Encode;
        Header {
            hash: header.hash(),
            parent_hash: header.parent_hash,
            number: header.height,
            timestamp: header.timestamp_ms,
            state_root: header.state_root,
            transactions_root: header.transactions_root,
            receipts_root: header.receipts_root,
            proposer: header.proposer,
            validator_set_change: header.validator_set_change.as_ref().map(SetChange::from),
            encoded: header.encode().into(),
        }
    }
}

impl From<&wijk_primitives::ValidatorSetChange> for SetChange {
    fn from(change: &wijk_primitives::ValidatorSetChange) -> SetChange {
        SetChange {
            activates_at: change.activates_at,
            validators: change.validators.clone(),
        }
    }
}

impl From<&wijk_primitives::FinalityCertificate> for FinalityCertificate {
    fn from(certificate: &wijk_primitives::FinalityCertificate) -> FinalityCertificate {
        use parity_scale_codec::Encode;
        FinalityCertificate {
            height: certificate.height,
            view: certificate.view,
            block_hash: certificate.block_hash,
            signatures: certificate
                .signatures
                .iter()
                .map(|(validator, signature)| CertificateSignature {
                    validator: *validator,
                    signature: signature.0.to_vec().into(),
                })
                .collect(),
            encoded: certificate.encode().into(),
        }
    }
}
