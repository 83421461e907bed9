//! Chain specifications: the JSON a cooperative publishes so every node starts from the
//! same genesis, and so a wallet can pin the chain (its genesis hash and first validator
//! set) without trusting any node.
//!
//! The `genesis` object has one section per pallet, named as the runtime composes them
//! (`system`, `coin`, `validators`, ...); each section is optional and defaults field by
//! field, and an unknown section or field is refused with its path
//! (`genesis.coin.issur: unknown field`). Accounts are addresses of the spec's own
//! `addressPrefix`; amounts are euros (`"100.00"`).
//!
//! Owns: the spec's format, parsing it with errors that name the field, the dev chain's
//! spec, and building the genesis a spec describes.
//! Must never: do I/O beyond reading the spec file it is asked to load, or know about the
//! network (peer ids in `allowedNodes` are checked by the node).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use serde::{Deserialize, Serialize};
use std::path::Path;
use wijk_primitives::json::with_address_prefix;
use wijk_primitives::{AccountId, Keypair};
use wijk_runtime::state_tree::MemoryTree;
use wijk_runtime::{Genesis, GenesisError, RuntimeGenesis};
use wijk_support::{ProposalKind, Role, RoleSet};

/// Address prefix of the dev and local chains.
pub const DEV_ADDRESS_PREFIX: u16 = 42;

/// A chain specification (serialised as camelCase JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainSpec {
    /// Human name, e.g. "Wijk Rabot".
    pub name: String,
    /// Identifier used for the database folder, e.g. "wijk_rabot".
    pub id: String,
    /// "Development", "Local" or "Live".
    pub chain_type: String,
    /// Prefix of this chain's addresses.
    pub address_prefix: u16,
    /// The coin's name as the wijk chose it.
    pub coin_name: String,
    /// Its symbol.
    pub coin_symbol: String,
    /// Target time between blocks.
    pub block_time_ms: u64,
    /// Network addresses of nodes to connect to first
    /// (`/ip4/10.0.0.1/tcp/30333/p2p/12D3Koo...`).
    pub bootnodes: Vec<String>,
    /// The nodes allowed on this chain's network, validators' and full nodes' alike: a
    /// peer whose node key is not listed is refused at connection time.
    #[serde(default)]
    pub allowed_nodes: Vec<AllowedNode>,
    /// The genesis state, by pallet.
    pub genesis: RuntimeGenesis,
}

/// A node allowed on the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowedNode {
    /// Who runs it, for people (e.g. "Cooperative Rabot, validator 1").
    pub name: String,
    /// Its peer id (from `wijk-node key inspect-node-key`).
    pub peer_id: String,
}

/// Why a chain spec is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ChainSpecError {
    /// The file could not be read.
    #[error("cannot read chain spec {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not JSON at all.
    #[error("chain spec is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A field is missing, unknown or malformed; the path names it (`genesis.coin.issuer`).
    #[error("chain spec field {path}: {message}")]
    Field {
        /// Where in the spec.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The genesis it describes cannot be built (no validators, balances that overflow).
    #[error("chain spec genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// `--chain` named nothing we know.
    #[error("unknown chain `{name}`: use dev, local, or a path to a chain spec JSON file")]
    Unknown {
        /// What was asked.
        name: String,
    },
}

/// The well-known development accounts, registered as members of the dev and local chains.
pub const DEV_NAMES: [&str; 6] = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];

fn member(account: AccountId, roles: &[Role]) -> wijk_membership::GenesisMember {
    wijk_membership::GenesisMember {
        account,
        roles: RoleSet::of(roles),
        tag: None,
        place: None,
    }
}

/// A realistic starting catalogue of valued activities, from what community currencies pay
/// (Torekes in Ghent pays 25 Torekes, 2.50 euros, per volunteer hour): the values are a
/// proposal for the members, who change them by vote.
pub fn starting_catalogue() -> Vec<wijk_activities::GenesisActivity> {
    let activity =
        |name: &str, unit: &str, category: &str, value, cap| wijk_activities::GenesisActivity {
            name: name.into(),
            unit: unit.into(),
            category: category.into(),
            value,
            max_units_per_period: cap,
        };
    vec![
        activity(
            "an hour of neighbourhood help",
            "hour",
            "neighbourhood-help",
            250,
            Some(40),
        ),
        activity("a facade garden planted", "garden", "green", 1_500, Some(2)),
        activity(
            "half an hour of Dutch practice with a newcomer",
            "half hour",
            "language",
            150,
            Some(40),
        ),
        activity(
            "an hour of exercise with seniors",
            "hour",
            "care",
            250,
            Some(30),
        ),
        activity(
            "an hour of litter picking",
            "hour",
            "clean-streets",
            250,
            Some(20),
        ),
        activity(
            "an hour at the repair café",
            "hour",
            "neighbourhood-help",
            250,
            Some(20),
        ),
        activity(
            "a meal cooked for a neighbour in need",
            "meal",
            "care",
            300,
            Some(20),
        ),
    ]
}

/// The categories of [`starting_catalogue`], each once.
pub fn catalogue_categories() -> Vec<String> {
    let mut categories: Vec<String> = starting_catalogue()
        .into_iter()
        .map(|activity| activity.category)
        .collect();
    categories.sort();
    categories.dedup();
    categories
}

impl ChainSpec {
    /// The development chain: one validator (//Alice, also the exchange office, the board, a
    /// verifier of every activity and a funder with an empty budget), and //Alice, //Bob and
    /// //Charlie pre-funded. No other node is expected.
    pub fn dev() -> ChainSpec {
        Self::with_validators("Wijk Dev", "wijk_dev", "Development", &["Alice"])
    }

    /// A spec of dev keys: `validators` (dev names) finalize blocks, //Alice is the exchange
    /// office and the board, //Alice, //Bob and //Charlie are funded. Allows no nodes (add them).
    pub fn with_validators(
        name: &str,
        id: &str,
        chain_type: &str,
        validators: &[&str],
    ) -> ChainSpec {
        let dev = |name: &str| Keypair::dev(name).account_id();
        let validators: Vec<AccountId> = validators.iter().map(|v| dev(v)).collect();
        let funded: Vec<(AccountId, u128)> =
            [("Alice", 1_000_000), ("Bob", 10_000), ("Charlie", 10_000)]
                .iter()
                .map(|(who, cents)| (dev(who), *cents))
                .collect();
        let mut genesis = wijk_runtime::simple_genesis(&validators, &funded);
        genesis.system.board = vec![dev("Alice")];
        // The well-known accounts are members: //Alice runs the cooperative (board,
        // exchange office, intermediary), //Bob to //Ferdie are residents, and every
        // validator is also a partner organisation. Only the dev chain is open to every
        // account.
        genesis.membership.open_accounts = chain_type == "Development";
        let mut members: Vec<(AccountId, Vec<Role>)> = DEV_NAMES
            .iter()
            .map(|name| {
                let roles = if *name == "Alice" {
                    vec![
                        Role::Board,
                        Role::ExchangeOffice,
                        Role::Intermediary,
                        Role::Organisation,
                        Role::Resident,
                        Role::Verifier,
                    ]
                } else {
                    vec![Role::Resident]
                };
                (dev(name), roles)
            })
            .collect();
        for validator in &validators {
            match members.iter_mut().find(|(account, _)| account == validator) {
                Some((_, roles)) if !roles.contains(&Role::Organisation) => {
                    roles.push(Role::Organisation)
                }
                Some(_) => {}
                None => members.push((*validator, vec![Role::Organisation])),
            }
        }
        genesis.membership.members = members
            .iter()
            .map(|(account, roles)| member(*account, roles))
            .collect();
        // Development and local testnets decide in a minute, not a week: every track votes
        // for 30 blocks and takes effect 5 blocks after, with the default quorums.
        let quick = |kind| wijk_governance::Track {
            voting_blocks: 30,
            enactment_blocks: 5,
            ..wijk_governance::default_track(kind)
        };
        genesis.governance.tracks = wijk_governance::Tracks {
            activity_value: quick(ProposalKind::ActivityValue),
            activity_catalogue: quick(ProposalKind::ActivityCatalogue),
            parameter: quick(ProposalKind::Parameter),
            board: quick(ProposalKind::Board),
            validator_set: quick(ProposalKind::ValidatorSet),
            spend: quick(ProposalKind::Spend),
            goal: quick(ProposalKind::Goal),
        };
        // The starting catalogue; //Alice verifies every category and funds a budget for
        // every activity (opened empty: `wijk budget fund 0 AMOUNT --from //Alice`).
        genesis.activities.catalogue = starting_catalogue();
        genesis.activities.verifiers = catalogue_categories()
            .into_iter()
            .map(|category| wijk_activities::GenesisVerifier {
                account: dev("Alice"),
                scope: wijk_activities::VerifierScope::Category(category),
            })
            .collect();
        genesis.activities.budgets = vec![wijk_activities::GenesisBudget {
            funder: dev("Alice"),
            name: "the cooperative's activities budget".into(),
            activities: Vec::new(),
            categories: Vec::new(),
            payout_earmark: None,
        }];
        ChainSpec {
            name: name.into(),
            id: id.into(),
            chain_type: chain_type.into(),
            address_prefix: DEV_ADDRESS_PREFIX,
            coin_name: "Wijkpunt".into(),
            coin_symbol: "WIJK".into(),
            block_time_ms: 1_000,
            bootnodes: Vec::new(),
            allowed_nodes: Vec::new(),
            genesis,
        }
    }

    /// `dev`, or a path to a JSON file (`local` and other generated specs are the node's).
    pub fn load_file(path: &str) -> Result<ChainSpec, ChainSpecError> {
        if !Path::new(path).exists() {
            return Err(ChainSpecError::Unknown { name: path.into() });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ChainSpecError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Parses a chain spec: every account is read as an address of the spec's own prefix,
    /// every amount as euros, and the genesis it describes must build.
    pub fn from_json(text: &str) -> Result<ChainSpec, ChainSpecError> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        let prefix = value
            .get("addressPrefix")
            .and_then(serde_json::Value::as_u64)
            .and_then(|prefix| u16::try_from(prefix).ok())
            .ok_or_else(|| ChainSpecError::Field {
                path: "addressPrefix".into(),
                message: "missing, or not a number from 0 to 65535".into(),
            })?;
        let spec: ChainSpec = with_address_prefix(prefix, || {
            serde_path_to_error::deserialize(value).map_err(|error| ChainSpecError::Field {
                path: error.path().to_string(),
                message: error.into_inner().to_string(),
            })
        })?;
        spec.build_genesis()?;
        Ok(spec)
    }

    /// Pretty JSON with a trailing newline (the form checked into `chain-specs/`).
    pub fn to_json(&self) -> String {
        let mut text = with_address_prefix(self.address_prefix, || {
            serde_json::to_string_pretty(self).unwrap_or_default()
        });
        text.push('\n');
        text
    }

    /// The validators of epoch 0.
    pub fn validators(&self) -> &[AccountId] {
        &self.genesis.validators.set
    }

    /// The genesis block this spec describes: its header (whose hash names the chain),
    /// state and tree nodes.
    pub fn build_genesis(&self) -> Result<Genesis, ChainSpecError> {
        Ok(wijk_runtime::build_genesis(
            &self.genesis,
            &MemoryTree::default(),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_change(
        change: impl FnOnce(&mut serde_json::Value),
    ) -> Result<ChainSpec, ChainSpecError> {
        let mut value: serde_json::Value =
            serde_json::from_str(&ChainSpec::dev().to_json()).unwrap();
        change(&mut value);
        ChainSpec::from_json(&value.to_string())
    }

    #[test]
    fn a_spec_round_trips_through_its_json() {
        let spec = ChainSpec::dev();
        assert_eq!(ChainSpec::from_json(&spec.to_json()).unwrap(), spec);
    }

    #[test]
    fn bad_specs_are_refused_with_the_field() {
        let error =
            with_change(|v| v["genesis"]["coin"]["balances"][0][1] = "12.345".into()).unwrap_err();
        assert!(
            error.to_string().contains("genesis.coin.balances[0]"),
            "{error}"
        );
        assert!(error.to_string().contains("decimals"), "{error}");
        let error =
            with_change(|v| v["genesis"]["system"]["board"][0] = "nonsense".into()).unwrap_err();
        assert!(
            error.to_string().contains("genesis.system.board[0]"),
            "{error}"
        );
        let error = with_change(|v| v["genesis"]["coin"]["issur"] = "x".into()).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `issur`"),
            "{error}"
        );
        let error = with_change(|v| v["genesis"]["bank"] = serde_json::json!({})).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `bank`"),
            "{error}"
        );
        // An address of another chain is refused, and says whose it is.
        let other = Keypair::dev("Bob").account_id().address(7).to_string();
        let error = with_change(|v| v["genesis"]["system"]["board"][0] = other.into()).unwrap_err();
        assert!(error.to_string().contains("prefix 7"), "{error}");
        let error =
            with_change(|v| v["genesis"]["validators"]["set"] = serde_json::json!([])).unwrap_err();
        assert!(
            error.to_string().contains("validator set needs 1"),
            "{error}"
        );
        assert!(matches!(
            ChainSpec::load_file("nowhere"),
            Err(ChainSpecError::Unknown { .. })
        ));
    }

    #[test]
    fn every_section_may_be_left_out_and_defaults() {
        let spec = with_change(|v| {
            let genesis = v["genesis"].as_object_mut().unwrap();
            genesis.remove("system");
            genesis["coin"].as_object_mut().unwrap().remove("balances");
        })
        .unwrap();
        assert_eq!(spec.genesis.system, wijk_system::Genesis::default());
        assert!(spec.genesis.coin.balances.is_empty());
    }
}
