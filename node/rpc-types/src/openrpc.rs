//! The node's OpenRPC document (<https://spec.open-rpc.org>), served by `rpc_discover` and
//! checked in as `docs/openrpc.json`: every method with its parameters and result, their
//! schemas generated from the very types the server renders ([`crate`]) and the runtime's
//! calls and events. Subscriptions are described with an `x-subscription` extension (the
//! notification's name, the unsubscribe method and the item schema), as OpenRPC has no
//! standard form for them.

use crate::*;
use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};

/// A parameter of a method.
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// What it is.
    pub summary: &'static str,
    /// Whether it must be given.
    pub required: bool,
    schema: fn(&mut SchemaGenerator) -> Schema,
}

/// A method of the node's interface.
pub struct Method {
    /// Its name.
    pub name: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Its parameters, in order.
    pub params: Vec<Param>,
    result_name: &'static str,
    result: fn(&mut SchemaGenerator) -> Schema,
    subscription: Option<Subscription>,
}

struct Subscription {
    notification: &'static str,
    unsubscribe: &'static str,
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn param<T: JsonSchema>(name: &'static str, summary: &'static str, required: bool) -> Param {
    Param {
        name,
        summary,
        required,
        schema: schema_of::<T>,
    }
}

fn method<R: JsonSchema>(
    name: &'static str,
    summary: &'static str,
    params: Vec<Param>,
    result_name: &'static str,
) -> Method {
    Method {
        name,
        summary,
        params,
        result_name,
        result: schema_of::<R>,
        subscription: None,
    }
}

fn subscription<I: JsonSchema>(
    name: &'static str,
    summary: &'static str,
    params: Vec<Param>,
    notification: &'static str,
    unsubscribe: &'static str,
) -> Method {
    Method {
        name,
        summary,
        params,
        result_name: "item",
        result: schema_of::<I>,
        subscription: Some(Subscription {
            notification,
            unsubscribe,
        }),
    }
}

fn unsubscribe(name: &'static str) -> Method {
    method::<bool>(
        name,
        "Ends a subscription.",
        vec![param::<String>(
            "subscription",
            "The subscription id.",
            true,
        )],
        "ended",
    )
}

fn block_hash() -> Param {
    param::<Hash>(
        "hash",
        "A block hash; the last final block when left out.",
        false,
    )
}

/// Every method the node serves.
pub fn methods() -> Vec<Method> {
    vec![
        method::<Methods>("rpc_methods", "The names of every method.", vec![], "methods"),
        method::<Value>(
            "rpc_discover",
            "This document: every method with its parameters and result (OpenRPC).",
            vec![],
            "openrpc",
        ),
        method::<String>("system_chain", "The chain's name.", vec![], "name"),
        method::<String>("system_name", "The node implementation's name.", vec![], "name"),
        method::<String>("system_version", "The node implementation's version.", vec![], "version"),
        method::<SystemProperties>(
            "system_properties",
            "The chain's facts: id, address prefix, coin symbol and decimals, genesis hash, spec version.",
            vec![],
            "properties",
        ),
        method::<Health>(
            "system_health",
            "Connected peers, and whether the node is syncing.",
            vec![],
            "health",
        ),
        method::<Vec<PeerInfo>>("system_peers", "The connected peers.", vec![], "peers"),
        method::<Option<String>>(
            "system_localPeerId",
            "This node's peer id (null without a network).",
            vec![],
            "peerId",
        ),
        method::<SyncState>(
            "system_syncState",
            "Finalized, current and highest known height, and the consensus view.",
            vec![],
            "state",
        ),
        method::<Option<Hash>>(
            "chain_getBlockHash",
            "The hash of the final block at a height.",
            vec![param::<Height>(
                "number",
                "A height; the last final block when left out.",
                false,
            )],
            "hash",
        ),
        method::<Option<Hash>>(
            "chain_getFinalizedHead",
            "The hash of the last final block.",
            vec![],
            "hash",
        ),
        method::<Option<Header>>("chain_getHeader", "A final block's header.", vec![block_hash()], "header"),
        method::<Option<SignedBlock>>(
            "chain_getBlock",
            "A final block: its header and transactions.",
            vec![block_hash()],
            "block",
        ),
        method::<Option<Vec<Hash>>>(
            "chain_getBlockTransactionHashes",
            "The hashes of a final block's transactions, in order.",
            vec![block_hash()],
            "hashes",
        ),
        method::<Option<FinalityCertificate>>(
            "chain_getFinalityCertificate",
            "The validators' signatures that made a block final.",
            vec![block_hash()],
            "certificate",
        ),
        method::<Option<Receipts>>(
            "chain_getReceipts",
            "A final block's receipts and hook events as SCALE bytes, to recompute its receipts root.",
            vec![block_hash()],
            "receipts",
        ),
        subscription::<Header>(
            "chain_subscribeNewHeads",
            "Headers of blocks as they are committed.",
            vec![],
            "chain_newHead",
            "chain_unsubscribeNewHeads",
        ),
        unsubscribe("chain_unsubscribeNewHeads"),
        subscription::<Header>(
            "chain_subscribeFinalizedHeads",
            "Headers of blocks as they become final.",
            vec![],
            "chain_finalizedHead",
            "chain_unsubscribeFinalizedHeads",
        ),
        unsubscribe("chain_unsubscribeFinalizedHeads"),
        method::<ReadProof>(
            "state_getReadProof",
            "Values of state keys with Merkle proofs against a final block's state root.",
            vec![
                param::<Vec<Bytes>>("keys", "Up to 64 state keys.", true),
                block_hash(),
            ],
            "proof",
        ),
        method::<Hash>(
            "author_submitTransaction",
            "Submits a SCALE-encoded signed transaction; returns its hash, or an error that says why it was refused.",
            vec![param::<Bytes>("transaction", "The signed transaction.", true)],
            "hash",
        ),
        method::<Vec<Submitted>>(
            "author_submitTransactions",
            "Submits up to 1,000 signed transactions, their signatures checked as one batch; one answer per transaction, in order.",
            vec![param::<Vec<Bytes>>("transactions", "The signed transactions.", true)],
            "answers",
        ),
        method::<u64>(
            "author_nextNonce",
            "The nonce an account's next transaction should carry, past its transactions in this node's pool.",
            vec![param::<AccountId>("address", "The account.", true)],
            "nonce",
        ),
        subscription::<TransactionUpdate>(
            "author_submitAndWatchTransaction",
            "Submits a transaction and reports it ready, in a block, final, or dropped with the reason.",
            vec![param::<Bytes>("transaction", "The signed transaction.", true)],
            "author_transactionUpdate",
            "author_unwatchTransaction",
        ),
        unsubscribe("author_unwatchTransaction"),
        method::<ChainInfo>(
            "wijk_chainInfo",
            "Name, id, address prefix, coin symbol, genesis hash and spec version: what a wallet signs against.",
            vec![],
            "info",
        ),
        method::<Account>(
            "wijk_account",
            "An account's free balance, earmarked coins by rule, nonce and membership at the last final block.",
            vec![param::<AccountId>("address", "The account.", true)],
            "account",
        ),
        method::<Option<Member>>(
            "wijk_member",
            "A member's roles, status, place, guardian and pending rekey (null if not a member).",
            vec![param::<AccountId>("address", "The account.", true)],
            "member",
        ),
        method::<MembersPage>(
            "wijk_members",
            "Members in address order, a page at a time, optionally only those holding a role.",
            vec![
                param::<String>("role", "Only members with this role (resident, merchant, exchangeOffice, ...).", false),
                param::<AccountId>("after", "The `next` of the previous page.", false),
                param::<u64>("limit", "Entries per page (1 to 100; 20 when left out).", false),
            ],
            "page",
        ),
        method::<Vec<Merchant>>(
            "wijk_merchants",
            "Merchants with their places, nearest first when a point is given.",
            vec![
                param::<String>("category", "Only this category.", false),
                param::<String>("near", "LAT,LON in decimal degrees: sort by distance from it.", false),
                param::<u64>("radiusM", "With `near`: only merchants within this many metres.", false),
            ],
            "merchants",
        ),
        method::<Region>(
            "wijk_region",
            "The wijk's region (polygons in microdegrees) and whether the coin is local-only.",
            vec![],
            "region",
        ),
        method::<RedemptionsPage>(
            "wijk_redemptions",
            "Redemptions oldest first with their payouts, optionally only those still owed.",
            vec![
                param::<bool>("owed", "Only redemptions not yet paid out.", false),
                param::<u64>("from", "The first id (0 when left out).", false),
                param::<u64>("limit", "Entries per page (1 to 100; 20 when left out).", false),
            ],
            "page",
        ),
        method::<HistoryPage>(
            "wijk_history",
            "An account's final transactions, newest first, a page at a time.",
            vec![
                param::<AccountId>("address", "The account.", true),
                param::<u64>("limit", "Entries per page (1 to 100; 20 when left out).", false),
                param::<String>(
                    "before",
                    "The `next` cursor of the previous page (HEIGHT:INDEX).",
                    false,
                ),
            ],
            "page",
        ),
        method::<Option<FinalTransaction>>(
            "wijk_transaction",
            "A final transaction with its block, outcome and events (null if not final).",
            vec![param::<Hash>("hash", "The transaction hash.", true)],
            "transaction",
        ),
        method::<Supply>(
            "wijk_supply",
            "Total supply, euro reserve and redemptions owed: supply always equals reserve minus owed.",
            vec![],
            "supply",
        ),
        method::<Validators>(
            "wijk_validators",
            "The current validator set, its epoch and quorum, the board, any scheduled change and the number of offences.",
            vec![],
            "validators",
        ),
        method::<Vec<Epoch>>(
            "wijk_epochs",
            "The validator set of every epoch, with where it starts and which block announced it: what a light client follows.",
            vec![
                param::<u64>("from", "The first epoch (0 when left out).", false),
                param::<u64>("limit", "Epochs per page (1 to 100; 100 when left out).", false),
            ],
            "epochs",
        ),
        method::<OffencesPage>(
            "wijk_offences",
            "Recorded equivocations, oldest first, with both signed votes.",
            vec![
                param::<u64>("from", "The first offence (0 is the oldest).", false),
                param::<u64>("limit", "Offences per page (1 to 100; 20 when left out).", false),
            ],
            "page",
        ),
        method::<Vec<governance::Proposal>>(
            "wijk_proposals",
            "Proposals, newest first: kind, frozen track and electorate, running tally and status.",
            vec![
                param::<u64>("before", "Only proposals numbered below this (the newest when left out).", false),
                param::<u64>("limit", "Proposals per page (1 to 100; 20 when left out).", false),
            ],
            "proposals",
        ),
        method::<Option<governance::ProposalDetail>>(
            "wijk_proposal",
            "One proposal with its direct votes (every vote is public), a recount from the chain's votes and delegations beside the running tally, and how one member's vote counts (directly or through whom); null if there is no such proposal.",
            vec![
                param::<u64>("id", "The proposal's number.", true),
                param::<String>("member", "An address: show how this member's vote counts.", false),
                param::<u64>("votesFrom", "Skip this many votes (paging; 500 per page).", false),
            ],
            "proposal",
        ),
        method::<Option<governance::Delegations>>(
            "wijk_delegations",
            "A member's delegations, the delegate in force per kind with the weight reaching them, and who delegates to them; null if not a member.",
            vec![param::<String>("address", "The member's address.", true)],
            "delegations",
        ),
        method::<governance::Board>(
            "wijk_board",
            "Who sits on the board, the board's powers in one list, and its limit on validator changes.",
            vec![],
            "board",
        ),
        method::<activities::Catalogue>(
            "wijk_activities",
            "The catalogue of valued activities: unit, category, value per unit now and every value it had (set only by the members' vote), caps, verifiers; and the claim rules.",
            vec![],
            "catalogue",
        ),
        method::<activities::Claims>(
            "wijk_claims",
            "Claims for work done, newest first: units, the value in force when the work was done, status (pending, rejected, withdrawn, awaitingFunds, paid), who decided and which budget paid.",
            vec![
                param::<String>("participant", "An address: only this member's claims.", false),
                param::<bool>("open", "Only claims pending a verifier or awaiting funds.", false),
                param::<u64>("before", "Only claims numbered below this (the newest when left out).", false),
                param::<u64>("limit", "Claims per page (1 to 200; 50 when left out).", false),
            ],
            "claims",
        ),
        method::<activities::Budgets>(
            "wijk_budgets",
            "Funders' budgets: what each pays for, what is in it, paid out and taken back, its payout earmark, and the attested claims waiting for funds it could pay.",
            vec![param::<String>("funder", "An address: only this funder's budgets.", false)],
            "budgets",
        ),
        method::<market::Listings>(
            "wijk_offers",
            "Open offers (goods, services, work for sale): title, category, price (fixed or per hour), place, expiry; nearest first when a place is given, else oldest first.",
            vec![
                param::<String>("near", "Decimal degrees, `51.0585,3.7130`: sort by distance from here.", false),
                param::<String>("category", "Only this category.", false),
                param::<u64>("after", "Only listings numbered after this (paging, oldest first).", false),
                param::<u64>("limit", "Listings per page (1 to 200; 50 when left out).", false),
            ],
            "listings",
        ),
        method::<market::Listings>(
            "wijk_requests",
            "Open requests (what members want done and pay for, the price already in escrow); nearest first when a place is given, else oldest first.",
            vec![
                param::<String>("near", "Decimal degrees, `51.0585,3.7130`: sort by distance from here.", false),
                param::<String>("category", "Only this category.", false),
                param::<u64>("after", "Only listings numbered after this (paging, oldest first).", false),
                param::<u64>("limit", "Listings per page (1 to 200; 50 when left out).", false),
            ],
            "listings",
        ),
        method::<Option<market::Listing>>(
            "wijk_listing",
            "One listing, open or closed; null if none has this number.",
            vec![param::<u64>("id", "The listing's number.", true)],
            "listing",
        ),
        method::<Option<market::Deal>>(
            "wijk_deal",
            "One deal: buyer, sellers, what is in escrow (and how much of it earmarked), its deadlines, and where it stands (accepted, started, disputed, completed, cancelled, timedOut, resolved and the split); null if none has this number.",
            vec![param::<u64>("id", "The deal's number.", true)],
            "deal",
        ),
        method::<market::Deals>(
            "wijk_deals",
            "The deals one member has a part in (buyer, seller or organiser), newest first, and the market's escrow total.",
            vec![
                param::<String>("address", "The member's address.", true),
                param::<u64>("limit", "Deals (1 to 200; 50 when left out).", false),
            ],
            "deals",
        ),
        method::<stats::Stats>(
            "wijk_stats",
            "The wijk's figures per period: GDP (merchant sales, activity payouts, settled market deals; transfers and gifts are not production), coins minted, redeemed, moved, in existence (of which earmarked and set aside), velocity, active and new members, activity units, deals, and each period's breakdown by activity, activity category and market category.",
            vec![
                param::<u32>("from", "The first period (11 before `to` when left out).", false),
                param::<u32>("to", "The last period (the current one when left out; at most 120 periods).", false),
            ],
            "stats",
        ),
        method::<stats::Goals>(
            "wijk_goals",
            "The cooperative's SMART goals: metric, baseline, target, deadline, and each complete period's value against the straight line from baseline to target, on track or not.",
            vec![param::<bool>("retired", "Also retired goals (false when left out).", false)],
            "goals",
        ),
    ]
}

/// The OpenRPC document of a node of version `version`.
pub fn document(version: &str) -> Value {
    let mut generator = SchemaSettings::draft07()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.contract = Contract::Serialize;
        })
        .into_generator();
    let methods: Vec<Value> = methods()
        .into_iter()
        .map(|method| {
            let params: Vec<Value> = method
                .params
                .iter()
                .map(|param| {
                    json!({
                        "name": param.name,
                        "summary": param.summary,
                        "required": param.required,
                        "schema": (param.schema)(&mut generator),
                    })
                })
                .collect();
            let result = (method.result)(&mut generator);
            let mut entry = json!({
                "name": method.name,
                "summary": method.summary,
                "params": params,
                "paramStructure": "by-position",
            });
            match &method.subscription {
                Some(subscription) => {
                    entry["result"] = json!({
                        "name": "subscription",
                        "schema": { "type": "string", "description": "The subscription id." },
                    });
                    entry["x-subscription"] = json!({
                        "notification": subscription.notification,
                        "unsubscribe": subscription.unsubscribe,
                        "item": result,
                    });
                }
                None => {
                    entry["result"] = json!({ "name": method.result_name, "schema": result });
                }
            }
            entry
        })
        .collect();
    let schemas = generator.take_definitions(true);
    json!({
        "openrpc": "1.2.6",
        "info": {
            "title": "wijk-node JSON-RPC",
            "version": version,
            "description": "The JSON-RPC interface of a wijk node (HTTP and WebSocket on one port). Bytes are 0x hex; accounts are addresses of the node's chain; amounts are euros as decimal strings. Errors: -32602 bad parameter, -32603 internal, -32600 not a request object, 1010 transaction refused (the message says why), 1011 pool full, 1020 shutting down.",
        },
        "methods": methods,
        "components": { "schemas": schemas },
    })
}
