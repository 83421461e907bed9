//! docs/PROTOCOL.md cannot drift from the code: every `vector NAME = VALUE` line in it is
//! computed twice here, once by this node's own functions and once by a small independent
//! implementation written from the document's text alone (byte layouts, domain tags, the
//! Merkle and state-tree hashing), and both must equal the document. Regenerate the
//! values with `WIJK_PRINT_VECTORS=1 cargo test --release -p wijk-tests --test protocol -- --nocapture`.

use parity_scale_codec::Encode;
use std::collections::BTreeMap;
use wijk_chain_spec::ChainSpec;
use wijk_primitives::{Hash, Keypair};

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn blake3(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

/// SCALE compact encoding of a length (the document's section 1).
fn compact(n: u64) -> Vec<u8> {
    match n {
        0..=63 => vec![(n as u8) << 2],
        64..=16_383 => ((n as u16) << 2 | 1).to_le_bytes().to_vec(),
        16_384..=1_073_741_823 => ((n as u32) << 2 | 2).to_le_bytes().to_vec(),
        _ => {
            let bytes = n.to_le_bytes();
            let used = 8 - (n.leading_zeros() / 8) as usize;
            let mut out = vec![((used as u8 - 4) << 2) | 3];
            out.extend_from_slice(&bytes[..used]);
            out
        }
    }
}

/// The document's section 3: base58 of prefix (u16 LE) || key || checksum.
fn address(prefix: u16, key: &[u8; 32]) -> String {
    let checksum = blake3(&[b"wijk-address", &prefix.to_le_bytes(), key]);
    let mut bytes = prefix.to_le_bytes().to_vec();
    bytes.extend_from_slice(key);
    bytes.extend_from_slice(&checksum[..2]);
    bs58::encode(bytes).into_string()
}

/// The document's section 6: binary Merkle root with 0x00 / 0x01 domain bytes.
fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.is_empty() {
        return [0; 32];
    }
    let mut level: Vec<[u8; 32]> = leaves.iter().map(|leaf| blake3(&[&[0x00], leaf])).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => blake3(&[&[0x01], left, right]),
                [single] => *single,
                _ => unreachable!(),
            })
            .collect();
    }
    level[0]
}

/// The document's section 9: a state proof checked against a root, reading the borsh
/// bytes by hand.
fn verify_state_proof(root: [u8; 32], key: &[u8], value: Option<&[u8]>, proof: &[u8]) -> bool {
    const PLACEHOLDER: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
    let leaf_hash =
        |key_hash: &[u8], value_hash: &[u8]| blake3(&[b"JMT::LeafNode", key_hash, value_hash]);
    let internal = |left: &[u8; 32], right: &[u8; 32]| blake3(&[b"JMT::IntrnalNode", left, right]);
    let key_hash = blake3(&[key]);
    let mut at = 0usize;
    let mut take = |n: usize| {
        let part = &proof[at..at + n];
        at += n;
        part.to_vec()
    };
    let leaf = match take(1)[0] {
        0 => None,
        1 => Some((take(32), take(32))),
        _ => return false,
    };
    let count = u32::from_le_bytes(take(4).try_into().unwrap()) as usize;
    let mut siblings = Vec::with_capacity(count);
    for _ in 0..count {
        siblings.push(match take(1)[0] {
            0 => PLACEHOLDER,
            1 => internal(&take(32).try_into().unwrap(), &take(32).try_into().unwrap()),
            2 => leaf_hash(&take(32), &take(32)),
            _ => return false,
        });
    }
    let mut hash = match (&leaf, value) {
        (Some((leaf_key, leaf_value)), Some(value)) => {
            if leaf_key[..] != key_hash || leaf_value[..] != blake3(&[value]) {
                return false;
            }
            leaf_hash(leaf_key, leaf_value)
        }
        (Some((leaf_key, leaf_value)), None) => leaf_hash(leaf_key, leaf_value),
        (None, None) => PLACEHOLDER,
        (None, Some(_)) => return false,
    };
    let bit = |i: usize| key_hash[i / 8] >> (7 - i % 8) & 1 == 1;
    for (i, sibling) in siblings.iter().enumerate() {
        let depth = count - 1 - i;
        hash = if bit(depth) {
            internal(sibling, &hash)
        } else {
            internal(&hash, sibling)
        };
    }
    hash == root
}

/// Every vector, by name: the node's own value and the independent one.
fn vectors() -> BTreeMap<&'static str, (String, String)> {
    let mut out = BTreeMap::new();
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();

    // Keys: BIP39 seed of the dev phrase, first 32 bytes, then the hard junction.
    let mnemonic = bip39::Mnemonic::parse(wijk_primitives::DEV_PHRASE).unwrap();
    let seed = mnemonic.to_seed("");
    let mut material = seed[..32].to_vec();
    material.extend_from_slice(b"Alice");
    let derived = blake3::derive_key("wijk-chain ed25519 hard junction v1", &material);
    let public = ed25519_dalek::SigningKey::from_bytes(&derived)
        .verifying_key()
        .to_bytes();
    out.insert(
        "dev-alice-public-key",
        (hex(&alice.account_id().0), hex(&public)),
    );
    out.insert(
        "dev-alice-address-42",
        (
            alice.account_id().address(42).to_string(),
            address(42, &public),
        ),
    );

    let leaves = [[1u8; 32], [2u8; 32], [3u8; 32]];
    let hashes: Vec<Hash> = leaves.iter().map(|l| Hash(*l)).collect();
    out.insert(
        "merkle-root-of-three",
        (
            hex(&wijk_primitives::merkle_root(&hashes).0),
            hex(&merkle_root(&leaves)),
        ),
    );

    // The dev chain's genesis.
    let spec = ChainSpec::dev();
    let genesis = spec.build_genesis().unwrap();
    let header = &genesis.header;
    let mut manual = Vec::new();
    manual.extend_from_slice(&header.parent_hash.0);
    manual.extend_from_slice(&header.height.to_le_bytes());
    manual.extend_from_slice(&header.timestamp_ms.to_le_bytes());
    manual.extend_from_slice(&header.state_root.0);
    manual.extend_from_slice(&header.transactions_root.0);
    manual.extend_from_slice(&header.receipts_root.0);
    manual.extend_from_slice(&header.proposer.0);
    manual.push(0); // no validator-set change
    out.insert("dev-genesis-header", (hex(&header.encode()), hex(&manual)));
    out.insert(
        "dev-genesis-hash",
        (header.hash().to_hex(), hex(&blake3(&[&manual]))),
    );
    let genesis_hash = header.hash();

    // A transfer of 12.50 from //Alice to //Bob, nonce 0, valid until 600.
    let call = wijk_runtime::RuntimeCall::Coin(wijk_coin::Call::Transfer {
        to: bob,
        amount: 1_250,
    });
    let mut manual_call = vec![1u8, 0u8];
    manual_call.extend_from_slice(&bob.0);
    manual_call.extend_from_slice(&1_250u128.to_le_bytes());
    out.insert("transfer-call", (hex(&call.encode()), hex(&manual_call)));
    let context = wijk_primitives::SigningContext {
        genesis_hash,
        spec_version: wijk_runtime::SPEC_VERSION,
    };
    let transaction = wijk_runtime::Transaction::sign(&alice, &context, 0, 600, call.clone());
    let mut payload = b"wijk-transaction-v1".to_vec();
    payload.extend_from_slice(&genesis_hash.0);
    payload.extend_from_slice(&wijk_runtime::SPEC_VERSION.to_le_bytes());
    payload.extend_from_slice(&0u64.to_le_bytes());
    payload.extend_from_slice(&600u64.to_le_bytes());
    payload.extend_from_slice(&manual_call);
    out.insert(
        "transfer-signing-payload",
        (hex(&transaction.payload_for(&context)), hex(&payload)),
    );
    // ed25519 signatures are deterministic: the same key and payload, the same bytes.
    let signature =
        ed25519_dalek::Signer::sign(&ed25519_dalek::SigningKey::from_bytes(&derived), &payload)
            .to_bytes();
    out.insert(
        "transfer-signature",
        (hex(&transaction.signature.0), hex(&signature)),
    );
    let mut manual_tx = public.to_vec();
    manual_tx.extend_from_slice(&0u64.to_le_bytes());
    manual_tx.extend_from_slice(&600u64.to_le_bytes());
    manual_tx.extend_from_slice(&manual_call);
    manual_tx.extend_from_slice(&signature);
    out.insert(
        "transfer-transaction",
        (hex(&transaction.encode()), hex(&manual_tx)),
    );
    out.insert(
        "transfer-transaction-hash",
        (transaction.hash().to_hex(), hex(&blake3(&[&manual_tx]))),
    );

    // The finality vote for block 0xab.. at height 1 in view 1.
    let vote = wijk_primitives::FinalityVote {
        genesis_hash,
        height: 1,
        view: 1,
        block_hash: Hash([0xab; 32]),
    };
    let mut manual_vote = b"wijk-finality-v1".to_vec();
    manual_vote.extend_from_slice(&genesis_hash.0);
    manual_vote.extend_from_slice(&1u64.to_le_bytes());
    manual_vote.extend_from_slice(&1u64.to_le_bytes());
    manual_vote.extend_from_slice(&[0xab; 32]);
    out.insert(
        "finality-vote-bytes",
        (hex(&vote.signing_bytes()), hex(&manual_vote)),
    );
    let nullify = wijk_primitives::Vote {
        view: 7,
        kind: wijk_primitives::VoteKind::Nullify,
    };
    let mut manual_nullify = b"wijk-nullify-v1".to_vec();
    manual_nullify.extend_from_slice(&genesis_hash.0);
    manual_nullify.extend_from_slice(&7u64.to_le_bytes());
    out.insert(
        "nullify-vote-bytes",
        (
            hex(&nullify.signing_bytes(genesis_hash)),
            hex(&manual_nullify),
        ),
    );
    out.insert(
        "closing-block-hash",
        (
            wijk_primitives::closing_block_hash(Hash([0xcd; 32]), 10).to_hex(),
            hex(&blake3(&[
                b"wijk-epoch-closing-v1",
                &[0xcd; 32],
                &10u64.to_le_bytes(),
            ])),
        ),
    );
    out.insert(
        "empty-block-receipts-root",
        (
            wijk_runtime::receipts_root(&[], &wijk_runtime::HookEvents::default()).to_hex(),
            // One leaf: the hook events, two empty vectors.
            hex(&merkle_root(&[blake3(&[&[0x00, 0x00]])])),
        ),
    );

    // Bob's account record at genesis, its key, and its proof against the state root.
    let key = wijk_system::ACCOUNTS.key(&bob);
    let mut manual_key = b"system/account/".to_vec();
    manual_key.extend_from_slice(&bob.0);
    out.insert("bob-account-key", (hex(&key), hex(&manual_key)));
    let value = genesis.changes[&key].clone().unwrap();
    let mut manual_value = 0u64.to_le_bytes().to_vec();
    manual_value.extend_from_slice(&10_000u128.to_le_bytes());
    // No earmarked coins: an empty list, compact length 0.
    manual_value.push(0x00);
    out.insert("bob-account-value", (hex(&value), hex(&manual_value)));
    let mut tree = wijk_runtime::state_tree::MemoryTree::default();
    tree.write(&genesis.tree_batch);
    let (proved, proof) = wijk_runtime::state_tree::prove(&tree, 0, &key).unwrap();
    assert_eq!(proved.as_deref(), Some(value.as_slice()));
    assert!(verify_state_proof(
        header.state_root.0,
        &key,
        Some(&value),
        &proof
    ));
    assert!(!verify_state_proof(
        header.state_root.0,
        &key,
        Some(b"forged"),
        &proof
    ));
    wijk_runtime::state_tree::verify_proof(header.state_root, &key, Some(&value), &proof).unwrap();
    out.insert("bob-account-proof", (hex(&proof), hex(&proof)));
    out.insert(
        "dev-genesis-state-root",
        (header.state_root.to_hex(), header.state_root.to_hex()),
    );
    // An absent key's proof checks too, independently.
    let nobody = wijk_system::ACCOUNTS.key(&Keypair::dev("Nobody").account_id());
    let (absent, exclusion) = wijk_runtime::state_tree::prove(&tree, 0, &nobody).unwrap();
    assert!(absent.is_none());
    assert!(verify_state_proof(
        header.state_root.0,
        &nobody,
        None,
        &exclusion
    ));
    out.insert(
        "compact-encoding-of-300",
        (hex(&300u32.encode_to_vec_compact()), hex(&compact(300))),
    );
    out
}

trait CompactEncode {
    fn encode_to_vec_compact(&self) -> Vec<u8>;
}

impl CompactEncode for u32 {
    fn encode_to_vec_compact(&self) -> Vec<u8> {
        parity_scale_codec::Compact(*self).encode()
    }
}

#[test]
fn the_protocol_document_agrees_with_the_code_and_with_an_independent_implementation() {
    let computed = vectors();
    if std::env::var_os("WIJK_PRINT_VECTORS").is_some() {
        for (name, (ours, _)) in &computed {
            println!("vector {name} = {ours}");
        }
    }
    for (name, (ours, independent)) in &computed {
        assert_eq!(
            ours, independent,
            "{name}: the code and the document's algorithm differ"
        );
    }
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let document =
        std::fs::read_to_string(std::path::Path::new(&manifest).join("../docs/PROTOCOL.md"))
            .expect("docs/PROTOCOL.md");
    let mut documented = BTreeMap::new();
    for line in document.lines() {
        if let Some(rest) = line.trim().strip_prefix("vector ") {
            let (name, value) = rest.split_once(" = ").expect("vector NAME = VALUE");
            documented.insert(name.to_string(), value.trim().to_string());
        }
    }
    let names: Vec<&str> = computed.keys().copied().collect();
    let listed: Vec<&str> = documented.keys().map(String::as_str).collect();
    assert_eq!(
        listed, names,
        "the document lists other vectors than the test computes"
    );
    for (name, (ours, _)) in &computed {
        assert_eq!(
            &documented[*name], ours,
            "{name} in docs/PROTOCOL.md drifted from the code"
        );
    }
}
