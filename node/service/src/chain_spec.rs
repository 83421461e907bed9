//! The chains a node knows by name (`dev`, `local`), on top of the chain-spec format of
//! [`wijk_chain_spec`], and what only the node checks in a spec: that every allowed node
//! is a peer id.

use std::path::Path;
pub use wijk_chain_spec::{AllowedNode, ChainSpec, ChainSpecError, DEV_ADDRESS_PREFIX};

/// An allowed node's peer id is not one.
#[derive(Debug, thiserror::Error)]
#[error("chain spec allowedNodes entry {name}: `{peer_id}` is not a peer id")]
pub struct BadPeerId {
    /// The entry's name.
    pub name: String,
    /// What was written.
    pub peer_id: String,
}

/// A local testnet of `validators` validators (//Alice, //Bob, ... then //V5, //V6...)
/// and `full_nodes` allowed full nodes (//Full1, //Full2, ...), each node with the dev
/// node key of its name.
pub fn local(validators: usize, full_nodes: usize) -> ChainSpec {
    let names: Vec<String> = (0..validators.max(1)).map(dev_validator_name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut spec = ChainSpec::with_validators("Wijk Local Testnet", "wijk_local", "Local", &names);
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

/// `dev`, `local`, or a path to a JSON file.
pub fn load(name: &str) -> Result<ChainSpec, ChainSpecError> {
    match name {
        "dev" => Ok(ChainSpec::dev()),
        "local" => Ok(local(4, 0)),
        path if Path::new(path).exists() => ChainSpec::load_file(path),
        other => Err(ChainSpecError::Unknown { name: other.into() }),
    }
}

/// The peer ids allowed on the network.
pub fn allowed_peers(spec: &ChainSpec) -> Result<Vec<wijk_network::PeerId>, BadPeerId> {
    spec.allowed_nodes
        .iter()
        .map(|node| {
            node.peer_id.parse().map_err(|_| BadPeerId {
                name: node.name.clone(),
                peer_id: node.peer_id.clone(),
            })
        })
        .collect()
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
    fn unknown_chains_are_refused() {
        assert!(matches!(
            load("nowhere"),
            Err(ChainSpecError::Unknown { .. })
        ));
    }

    #[test]
    fn local_spec_has_the_asked_number_of_validators() {
        assert_eq!(local(4, 0).validators().len(), 4);
        assert_eq!(local(7, 0).genesis.validators.set.len(), 7);
        let spec = local(4, 2);
        assert_eq!(allowed_peers(&spec).unwrap().len(), 6);
        assert_eq!(
            spec.allowed_nodes[4].peer_id,
            crate::NodeKey::dev("Full1").peer_id().to_string()
        );
        let mut bad = spec.clone();
        bad.allowed_nodes[0].peer_id = "nobody".into();
        assert!(allowed_peers(&bad).is_err());
    }
}
