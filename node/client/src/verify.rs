//! Checking a node's answers against a pinned chain.
//!
//! A [`Pin`] is what the caller trusts: a chain's genesis hash and a light client's state
//! ([`wijk_light_client::TrustedState`]), first its genesis validator set. It comes from the
//! chain spec the cooperative publishes ([`Pin::from_genesis`], with the genesis built from
//! the spec), or, trusted on first use, from a node ([`pin_on_first_use`], which still checks
//! that the genesis header hashes to the genesis hash and that the first set is proven
//! against its state root). From then on nothing the node says is taken on its word:
//! [`follow`] moves the pin from epoch to epoch only through announcing headers certified by
//! the set the pin trusts, [`verified_head`] checks the finalized head's certificate, and
//! [`verified_values`] checks state values against that head's state root. A node serving a
//! forged chain (another set, however self-consistent its certificates) is refused.

use crate::{Client, ClientError};
use parity_scale_codec::Decode;
use serde::{Deserialize, Serialize};
use wijk_light_client::{LightClient, LightClientError, TrustedState};
use wijk_primitives::{AccountId, FinalityCertificate, Hash, Header, Height, ValidatorSetChange};

/// Why a node's answer was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Talking to the node failed.
    #[error(transparent)]
    Node(#[from] ClientError),
    /// The node serves another chain than the pinned one.
    #[error("the node serves chain {node}, but this wallet trusts {pinned} ({name}); use a node of that chain, or pin the other one (`wijk chain pin`)")]
    OtherChain {
        /// The pinned genesis hash.
        pinned: Hash,
        /// The pinned chain's name.
        name: String,
        /// What the node says.
        node: Hash,
    },
    /// A header the node sent does not hash to what it claimed, or does not decode.
    #[error("the node's header {what} is forged or corrupt: do not trust this node")]
    BadHeader {
        /// Which header.
        what: String,
    },
    /// The node lacks a block or certificate it should have.
    #[error("the node has no {what}")]
    Missing {
        /// What.
        what: String,
    },
    /// A certificate does not prove what the node claims.
    #[error("the finality of block {height} does not verify: {cause}; do not trust this node")]
    NotFinal {
        /// The block.
        height: Height,
        /// Why.
        cause: LightClientError,
    },
    /// A state value's proof does not check against the verified state root.
    #[error("the proof of state key 0x{key} does not match the verified state root: {reason}; do not trust this node")]
    BadProof {
        /// The key, hex.
        key: String,
        /// Why.
        reason: String,
    },
    /// The node is behind what this wallet has already verified.
    #[error("the node's final block #{node} is behind block #{verified}, which this wallet has verified; use an up-to-date node")]
    Behind {
        /// The node's head.
        node: Height,
        /// What the pin trusts.
        verified: Height,
    },
}

/// A chain this caller trusts, and how far its light client has followed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pin {
    /// The chain's name (for people).
    pub name: String,
    /// Its address prefix.
    pub address_prefix: u16,
    /// Where the trust came from ("chain spec FILE", or the node trusted on first use).
    pub source: String,
    /// The genesis hash.
    pub genesis_hash: Hash,
    /// The epoch the light client follows.
    pub epoch: u64,
    /// That epoch's validators.
    pub validators: Vec<AccountId>,
    /// The last header verified by the light client.
    pub height: Height,
    /// Its hash.
    pub block_hash: Hash,
    /// A change announced and not yet in effect.
    pub scheduled: Option<ValidatorSetChange>,
}

impl Pin {
    /// Trust in the chain whose genesis header and first validator set these are (as
    /// built from its chain spec).
    pub fn from_genesis(
        name: &str,
        address_prefix: u16,
        source: &str,
        genesis: &Header,
        validators: Vec<AccountId>,
    ) -> Pin {
        Pin::from_state(
            name,
            address_prefix,
            source,
            TrustedState::from_genesis(genesis, validators),
        )
    }

    fn from_state(name: &str, address_prefix: u16, source: &str, state: TrustedState) -> Pin {
        Pin {
            name: name.to_string(),
            address_prefix,
            source: source.to_string(),
            genesis_hash: state.genesis_hash,
            epoch: state.epoch,
            validators: state.validators,
            height: state.height,
            block_hash: state.block_hash,
            scheduled: state.scheduled,
        }
    }

    /// The light client this pin describes.
    pub fn light_client(&self) -> LightClient {
        LightClient::new(TrustedState {
            genesis_hash: self.genesis_hash,
            epoch: self.epoch,
            validators: self.validators.clone(),
            height: self.height,
            block_hash: self.block_hash,
            scheduled: self.scheduled.clone(),
        })
    }

    fn trust(&mut self, state: &TrustedState) {
        self.epoch = state.epoch;
        self.validators = state.validators.clone();
        self.height = state.height;
        self.block_hash = state.block_hash;
        self.scheduled = state.scheduled.clone();
    }

    /// Refuses a node of another chain.
    pub fn check_chain(&self, client: &Client) -> Result<(), VerifyError> {
        let node = client.chain().genesis_hash;
        if node != self.genesis_hash {
            return Err(VerifyError::OtherChain {
                pinned: self.genesis_hash,
                name: self.name.clone(),
                node,
            });
        }
        Ok(())
    }
}

/// The header at `height`, checked against the hash the node names for it.
async fn header_at(client: &Client, height: Height) -> Result<(Hash, Header), VerifyError> {
    let hash = client
        .block_hash(Some(height))
        .await?
        .ok_or_else(|| VerifyError::Missing {
            what: format!("block at height {height}"),
        })?;
    Ok((hash, header(client, &hash).await?))
}

/// The header with `hash`: decoded from the node's SCALE bytes and hashed here.
async fn header(client: &Client, hash: &Hash) -> Result<Header, VerifyError> {
    let served = client
        .header(hash)
        .await?
        .ok_or_else(|| VerifyError::Missing {
            what: format!("header {hash}"),
        })?;
    let header =
        Header::decode(&mut served.encoded.0.as_slice()).map_err(|_| VerifyError::BadHeader {
            what: hash.to_string(),
        })?;
    if header.hash() != *hash {
        return Err(VerifyError::BadHeader {
            what: hash.to_string(),
        });
    }
    Ok(header)
}

/// The certificate stored with the block `hash`, decoded from its SCALE bytes.
async fn certificate(client: &Client, hash: &Hash) -> Result<FinalityCertificate, VerifyError> {
    let served = client
        .certificate(hash)
        .await?
        .ok_or_else(|| VerifyError::Missing {
            what: format!("certificate for block {hash}"),
        })?;
    FinalityCertificate::decode(&mut served.encoded.0.as_slice()).map_err(|_| {
        VerifyError::BadHeader {
            what: format!("certificate of {hash}"),
        }
    })
}

/// Checks `keys` at block `at` against `state_root`; returns their values.
async fn proven_values(
    client: &Client,
    at: &Hash,
    state_root: Hash,
    keys: &[Vec<u8>],
) -> Result<Vec<Option<Vec<u8>>>, VerifyError> {
    let proof = client.read_proof(keys, at).await?;
    if proof.proofs.len() != keys.len() {
        return Err(VerifyError::BadProof {
            key: String::new(),
            reason: format!("{} proofs for {} keys", proof.proofs.len(), keys.len()),
        });
    }
    let mut values = Vec::with_capacity(keys.len());
    for (key, item) in keys.iter().zip(proof.proofs) {
        let bad = |reason: String| VerifyError::BadProof {
            key: hex::encode(key),
            reason,
        };
        if item.key.0 != *key {
            return Err(bad("the proof is for another key".into()));
        }
        let value = item.value.map(|bytes| bytes.0);
        wijk_runtime::state_tree::verify_proof(state_root, key, value.as_deref(), &item.proof.0)
            .map_err(|error| bad(error.to_string()))?;
        values.push(value);
    }
    Ok(values)
}

/// Pins the chain a node serves, trusting the node this once: its genesis header must hash
/// to the genesis hash it reports, and the first validator set must be proven against that
/// header's state root.
pub async fn pin_on_first_use(client: &Client) -> Result<Pin, VerifyError> {
    let (hash, genesis) = header_at(client, 0).await?;
    if hash != client.chain().genesis_hash {
        return Err(VerifyError::BadHeader {
            what: "at height 0 (it is not the genesis the node reports)".into(),
        });
    }
    let key = wijk_validators::EPOCHS.key(&0);
    let values = proven_values(
        client,
        &hash,
        genesis.state_root,
        std::slice::from_ref(&key),
    )
    .await?;
    let info: wijk_validators::EpochInfo = values
        .into_iter()
        .next()
        .flatten()
        .and_then(|bytes| Decode::decode(&mut bytes.as_slice()).ok())
        .ok_or_else(|| VerifyError::Missing {
            what: "validator set of epoch 0 in the genesis state".into(),
        })?;
    let chain = client.chain();
    Ok(Pin::from_genesis(
        &chain.name,
        chain.address_prefix,
        &format!("trusted on first use from {}", client.url()),
        &genesis,
        info.validators,
    ))
}

/// Follows every validator-set change the node knows past the pin, through the headers
/// that announced them, each certified by the set the pin trusts. A node that hides a
/// change cannot make the pin trust anything: the next certificate of the new set simply
/// fails to verify.
pub async fn follow(client: &Client, pin: &mut Pin) -> Result<(), VerifyError> {
    pin.check_chain(client)?;
    loop {
        // The epoch whose announcement the pin has seen last (a change it holds as
        // scheduled counts as seen).
        let known = pin.epoch.saturating_add(u64::from(pin.scheduled.is_some()));
        let next = known.saturating_add(1);
        let epochs = client.epochs(next).await?;
        let Some(epoch) = epochs.into_iter().find(|e| e.epoch == next) else {
            return Ok(());
        };
        let announced_at = match epoch.announced_at {
            Some(height) if height > pin.height => height,
            _ => {
                return Err(VerifyError::Missing {
                    what: format!(
                        "announcement of epoch {next} above the verified block #{}",
                        pin.height
                    ),
                })
            }
        };
        let (hash, announcing) = header_at(client, announced_at).await?;
        let certificate = certificate(client, &hash).await?;
        // The run from the announcing header to the block the certificate names, never
        // past the old epoch's last block (a closing certificate names a placeholder).
        let last = certificate
            .height
            .min(epoch.starts_at.saturating_sub(1))
            .max(announced_at);
        let mut run = vec![announcing];
        for height in announced_at + 1..=last {
            run.push(header_at(client, height).await?.1);
        }
        let verified = pin
            .light_client()
            .check(&run, &certificate)
            .map_err(|cause| VerifyError::NotFinal {
                height: announced_at,
                cause,
            })?;
        if verified.announced.is_none() {
            return Err(VerifyError::BadHeader {
                what: format!("#{announced_at}, which announces no validator-set change"),
            });
        }
        pin.trust(&verified.trusted_after);
    }
}

/// The finalized head, verified: a header whose certificate the pin's light client accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHead {
    /// The header.
    pub header: Header,
    /// Its hash.
    pub hash: Hash,
    /// How many validators signed its certificate.
    pub signers: usize,
    /// Of how many in its epoch's set.
    pub validators: usize,
}

/// Follows the chain ([`follow`]) and verifies the node's finalized head against the pin.
pub async fn verified_head(client: &Client, pin: &mut Pin) -> Result<VerifiedHead, VerifyError> {
    follow(client, pin).await?;
    let hash = client
        .finalized_head()
        .await?
        .ok_or_else(|| VerifyError::Missing {
            what: "finalized head".into(),
        })?;
    let head = header(client, &hash).await?;
    if head.height < pin.height {
        return Err(VerifyError::Behind {
            node: head.height,
            verified: pin.height,
        });
    }
    let light = pin.light_client();
    let (_, validators, _) = light.state().epoch_at(head.height.max(1));
    if head.height == pin.height {
        if hash != pin.block_hash {
            return Err(VerifyError::NotFinal {
                height: head.height,
                cause: LightClientError::Fork {
                    height: head.height,
                    claimed: hash,
                    trusted_height: pin.height,
                    trusted: pin.block_hash,
                },
            });
        }
        return Ok(VerifiedHead {
            header: head,
            hash,
            signers: 0,
            validators: validators.len(),
        });
    }
    let certificate = certificate(client, &hash).await?;
    let verified = light
        .check(std::slice::from_ref(&head), &certificate)
        .map_err(|cause| VerifyError::NotFinal {
            height: head.height,
            cause,
        })?;
    Ok(VerifiedHead {
        header: head,
        hash,
        signers: verified.signers,
        validators: verified.trusted_after.validators.len(),
    })
}

/// The values of `keys` at a verified head, each checked against its state root.
pub async fn verified_values(
    client: &Client,
    head: &VerifiedHead,
    keys: &[Vec<u8>],
) -> Result<Vec<Option<Vec<u8>>>, VerifyError> {
    proven_values(client, &head.hash, head.header.state_root, keys).await
}
