//! Chain specifications: the JSON a cooperative publishes so every node starts from the
//! same genesis.

use serde::{Deserialize, Serialize};
use std::path::Path;
use wijk_primitives::{format_cents, parse_cents, AccountId, Address, Keypair};
use wijk_runtime::GenesisConfig;

/// Address prefix of the dev and local chains.
pub const DEV_ADDRESS_PREFIX: u16 = 42;

/// A chain specification (serialised as camelCase JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The genesis state.
    pub genesis: GenesisSpec,
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

/// Genesis as written in a chain spec: addresses and euro amounts as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisSpec {
    /// Genesis timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Validator addresses.
    pub validators: Vec<String>,
    /// The issuer's address.
    pub issuer: String,
    /// Who may schedule validator-set changes (the cooperative's board account, until
    /// members vote on them).
    pub validator_admin: String,
    /// Initial balances: address and euro amount (e.g. "100.00"), each backed by a
    /// genesis euro deposit.
    pub balances: Vec<(String, String)>,
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
    /// Not valid chain-spec JSON.
    #[error("chain spec is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// An address in the spec is wrong.
    #[error("chain spec field {field}: {source}")]
    Address {
        /// Which field.
        field: String,
        /// Why.
        source: wijk_primitives::AddressError,
    },
    /// An amount in the spec is wrong.
    #[error("chain spec balance for {address}: {source}")]
    Amount {
        /// Whose balance.
        address: String,
        /// Why.
        source: wijk_primitives::AmountError,
    },
    /// An allowed node's peer id is not one.
    #[error("chain spec allowedNodes entry {name}: `{peer_id}` is not a peer id")]
    PeerId {
        /// The entry's name.
        name: String,
        /// What was written.
        peer_id: String,
    },
    /// `--chain` named nothing we know.
    #[error("unknown chain `{name}`: use dev, local, or a path to a chain spec JSON file")]
    Unknown {
        /// What was asked.
        name: String,
    },
}

impl ChainSpec {
    fn address(&self, account: AccountId) -> String {
        Address {
            prefix: self.address_prefix,
            account,
        }
        .to_string()
    }

    /// The development chain: one validator (//Alice, also the issuer), and //Alice,
    /// //Bob and //Charlie pre-funded. No other node is expected.
    pub fn dev() -> ChainSpec {
        Self::with_validators("Wijk Dev", "wijk_dev", "Development", &["Alice"])
    }

    /// A local testnet of `validators` validators (//Alice, //Bob, ... then //V5, //V6...)
    /// and `full_nodes` allowed full nodes (//Full1, //Full2, ...), each node with the
    /// dev node key of its name.
    pub fn local(validators: usize, full_nodes: usize) -> ChainSpec {
        let names: Vec<String> = (0..validators.max(1)).map(dev_validator_name).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut spec = Self::with_validators("Wijk Local Testnet", "wijk_local", "Local", &names);
        let full: Vec<String> = (1..=full_nodes).map(|i| format!("Full{i}")).collect();
        spec.allowed_nodes = names
            .iter()
            .copied()
            .chain(full.iter().map(String::as_str))
            .map(|name| AllowedNode {
                name: name.to_string(),
                peer_id: crate::NodeKey::dev(name).peer_id().to_string(),
            })
            .collect();
        spec
    }

    /// The peer ids allowed on the network.
    pub fn allowed_peers(&self) -> Result<Vec<wijk_network::PeerId>, ChainSpecError> {
        self.allowed_nodes
            .iter()
            .map(|node| {
                node.peer_id.parse().map_err(|_| ChainSpecError::PeerId {
                    name: node.name.clone(),
                    peer_id: node.peer_id.clone(),
                })
            })
            .collect()
    }

    fn with_validators(name: &str, id: &str, chain_type: &str, validators: &[&str]) -> ChainSpec {
        let mut spec = ChainSpec {
            name: name.into(),
            id: id.into(),
            chain_type: chain_type.into(),
            address_prefix: DEV_ADDRESS_PREFIX,
            coin_name: "Wijkpunt".into(),
            coin_symbol: "WIJK".into(),
            block_time_ms: 1_000,
            bootnodes: Vec::new(),
            allowed_nodes: Vec::new(),
            genesis: GenesisSpec {
                timestamp_ms: 0,
                validators: Vec::new(),
                issuer: String::new(),
                validator_admin: String::new(),
                balances: Vec::new(),
            },
        };
        let dev = |name: &str| Keypair::dev(name).account_id();
        spec.genesis.validators = validators.iter().map(|v| spec.address(dev(v))).collect();
        spec.genesis.issuer = spec.address(dev("Alice"));
        spec.genesis.validator_admin = spec.address(dev("Alice"));
        spec.genesis.balances = [("Alice", 1_000_000), ("Bob", 10_000), ("Charlie", 10_000)]
            .iter()
            .map(|(who, cents)| (spec.address(dev(who)), format_cents(*cents)))
            .collect();
        spec
    }

    /// `dev`, `local`, or a path to a JSON file.
    pub fn load(name: &str) -> Result<ChainSpec, ChainSpecError> {
        match name {
            "dev" => Ok(Self::dev()),
            "local" => Ok(Self::local(4, 0)),
            path if Path::new(path).exists() => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ChainSpecError::Read {
                        path: path.into(),
                        source,
                    })?;
                Self::from_json(&text)
            }
            other => Err(ChainSpecError::Unknown { name: other.into() }),
        }
    }

    /// Parses a chain spec and checks every address and amount in it.
    pub fn from_json(text: &str) -> Result<ChainSpec, ChainSpecError> {
        let spec: ChainSpec = serde_json::from_str(text)?;
        spec.genesis_config()?;
        spec.allowed_peers()?;
        Ok(spec)
    }

    /// Pretty JSON with a trailing newline (the form checked into `chain-specs/`).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    fn parse_address(&self, field: &str, text: &str) -> Result<AccountId, ChainSpecError> {
        Address::parse(text, self.address_prefix).map_err(|source| ChainSpecError::Address {
            field: field.into(),
            source,
        })
    }

    /// The validator accounts.
    pub fn validators(&self) -> Result<Vec<AccountId>, ChainSpecError> {
        self.genesis
            .validators
            .iter()
            .map(|v| self.parse_address("genesis.validators", v))
            .collect()
    }

    /// The runtime's genesis configuration.
    pub fn genesis_config(&self) -> Result<GenesisConfig, ChainSpecError> {
        let balances = self
            .genesis
            .balances
            .iter()
            .map(|(address, amount)| {
                let account = self.parse_address("genesis.balances", address)?;
                let cents = parse_cents(amount).map_err(|source| ChainSpecError::Amount {
                    address: address.clone(),
                    source,
                })?;
                Ok((account, cents))
            })
            .collect::<Result<Vec<_>, ChainSpecError>>()?;
        Ok(GenesisConfig {
            timestamp_ms: self.genesis.timestamp_ms,
            validators: self.validators()?,
            validator_admin: self
                .parse_address("genesis.validatorAdmin", &self.genesis.validator_admin)?,
            coin: wijk_coin::GenesisConfig {
                issuer: self.parse_address("genesis.issuer", &self.genesis.issuer)?,
                balances,
            },
        })
    }
}

/// Names of local-testnet validators: the well-known dev names, then `V<n>`.
pub fn dev_validator_name(index: usize) -> String {
    const NAMES: [&str; 6] = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];
    NAMES
        .get(index)
        .map(|n| n.to_string())
        .unwrap_or_else(|| format!("V{}", index + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `chain-specs/dev.json` is generated; this fails if it drifts. Regenerate with
    /// `WIJK_WRITE_CHAIN_SPECS=1 cargo test -p wijk-service chain_spec`.
    #[test]
    fn checked_in_dev_spec_matches_the_generated_one() {
        let generated = ChainSpec::dev().to_json();
        if std::env::var_os("WIJK_WRITE_CHAIN_SPECS").is_some() {
            // `cargo test` sets the variable when it runs the test, for this clone; the
            // compile-time value may name another clone that shares the target folder.
            let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
            let path = Path::new(&manifest_dir).join("../../chain-specs/dev.json");
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let checked_in = include_str!("../../../chain-specs/dev.json");
        assert_eq!(
            checked_in, generated,
            "chain-specs/dev.json drifted; regenerate with WIJK_WRITE_CHAIN_SPECS=1"
        );
        assert_eq!(ChainSpec::from_json(checked_in).unwrap(), ChainSpec::dev());
    }

    #[test]
    fn bad_specs_are_refused_with_the_field() {
        let mut spec = ChainSpec::dev();
        spec.genesis.balances[0].1 = "12.345".into();
        let error = ChainSpec::from_json(&spec.to_json()).unwrap_err();
        assert!(error.to_string().contains("balance"), "{error}");
        let mut spec = ChainSpec::dev();
        spec.genesis.issuer = "nonsense".into();
        let error = ChainSpec::from_json(&spec.to_json()).unwrap_err();
        assert!(error.to_string().contains("genesis.issuer"), "{error}");
        assert!(matches!(
            ChainSpec::load("nowhere"),
            Err(ChainSpecError::Unknown { .. })
        ));
    }

    #[test]
    fn local_spec_has_the_asked_number_of_validators() {
        assert_eq!(ChainSpec::local(4, 0).validators().unwrap().len(), 4);
        assert_eq!(ChainSpec::local(7, 0).genesis.validators.len(), 7);
        let spec = ChainSpec::local(4, 2);
        assert_eq!(spec.allowed_peers().unwrap().len(), 6);
        assert_eq!(
            spec.allowed_nodes[4].peer_id,
            crate::NodeKey::dev("Full1").peer_id().to_string()
        );
        let mut bad = spec.clone();
        bad.allowed_nodes[0].peer_id = "nobody".into();
        assert!(matches!(
            ChainSpec::from_json(&bad.to_json()),
            Err(ChainSpecError::PeerId { .. })
        ));
    }
}
