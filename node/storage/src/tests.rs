use super::*;
use wijk_primitives::{Keypair, SigningContext};
use wijk_runtime::{
    build_block, build_genesis, simple_genesis, RuntimeCall, RuntimeGenesis, VerifiedTransaction,
    SPEC_VERSION,
};

fn genesis_config() -> RuntimeGenesis {
    let alice = Keypair::dev("Alice").account_id();
    simple_genesis(&[alice], &[(alice, 1_000_000)])
}

fn open_with_genesis(path: &Path) -> (Storage, SigningContext) {
    let storage = Storage::open(path).unwrap();
    let genesis = build_genesis(&genesis_config(), &storage).unwrap();
    storage.initialize(&genesis).unwrap();
    let signing = SigningContext {
        genesis_hash: genesis.header.hash(),
        spec_version: SPEC_VERSION,
    };
    (storage, signing)
}

fn commit_transfers(
    storage: &Storage,
    signing: &SigningContext,
    first_nonce: u64,
    count: u64,
) -> Block {
    commit_transfers_in_view(storage, signing, first_nonce, count, 0)
}

/// Commits a block of `count` transfers from Alice, finalized in consensus view `view`.
fn commit_transfers_in_view(
    storage: &Storage,
    signing: &SigningContext,
    first_nonce: u64,
    count: u64,
    view: u64,
) -> Block {
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let parent = storage.best_header().unwrap().unwrap();
    let candidates = (first_nonce..first_nonce + count).map(|nonce| {
        let tx = Transaction::sign(
            &alice,
            signing,
            nonce,
            1_000,
            RuntimeCall::Coin(wijk_coin::Call::Transfer { to: bob, amount: 1 }),
        );
        VerifiedTransaction::verify(tx, signing).unwrap()
    });
    let built = build_block(
        storage,
        storage,
        &parent,
        signing.genesis_hash,
        parent.timestamp_ms + 1,
        alice.account_id(),
        candidates,
    )
    .unwrap();
    let certificate = FinalityCertificate::sign_single(
        &alice,
        signing.genesis_hash,
        built.block.header.height,
        view,
        built.block.header.hash(),
    );
    storage
        .commit_block(&built.block, &built.executed, &certificate)
        .unwrap();
    built.block
}

#[test]
fn blocks_state_and_indexes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (block_hash, tx_hash) = {
        let (storage, signing) = open_with_genesis(dir.path());
        commit_transfers(&storage, &signing, 0, 3);
        let block = commit_transfers(&storage, &signing, 3, 2);
        (block.header.hash(), block.transactions[1].hash())
    };
    let (storage, _) = open_with_genesis(dir.path());
    assert_eq!(storage.finalized_height().unwrap(), Some(2));
    assert_eq!(storage.height_of(&block_hash).unwrap(), Some(2));
    assert_eq!(
        storage.transaction_location(&tx_hash).unwrap(),
        Some(TxLocation {
            height: 2,
            index: 1
        })
    );
    let bob = Keypair::dev("Bob").account_id();
    assert_eq!(wijk_coin::balance(&storage, &bob).unwrap(), 5);
    assert!(storage.certificate(2).unwrap().is_some());
}

#[test]
fn history_is_newest_first_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, signing) = open_with_genesis(dir.path());
    commit_transfers(&storage, &signing, 0, 3);
    commit_transfers(&storage, &signing, 3, 2);
    let bob = Keypair::dev("Bob").account_id();
    let first = storage.account_history(&bob, None, 3).unwrap();
    let locations: Vec<_> = first
        .iter()
        .map(|e| (e.location.height, e.location.index))
        .collect();
    assert_eq!(locations, vec![(2, 1), (2, 0), (1, 2)]);
    let rest = storage
        .account_history(&bob, Some(first[2].location), 10)
        .unwrap();
    let locations: Vec<_> = rest
        .iter()
        .map(|e| (e.location.height, e.location.index))
        .collect();
    assert_eq!(locations, vec![(1, 1), (1, 0)]);
    assert!(storage
        .account_history(&Keypair::dev("Eve").account_id(), None, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn proofs_at_old_heights_verify_against_old_roots() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, signing) = open_with_genesis(dir.path());
    commit_transfers(&storage, &signing, 0, 1);
    commit_transfers(&storage, &signing, 1, 1);
    let bob_key = wijk_system::ACCOUNTS.key(&Keypair::dev("Bob").account_id());
    for height in 0..=2u64 {
        let header = storage.header(height).unwrap().unwrap();
        let (value, proof) = wijk_runtime::state_tree::prove(&storage, height, &bob_key).unwrap();
        let expected = if height == 0 {
            None
        } else {
            Some(wijk_system::AccountInfo {
                nonce: 0,
                balance_cents: Cents::from(height as u32),
                earmarked: vec![],
            })
        };
        assert_eq!(
            value.map(|v| wijk_system::AccountInfo::decode(&mut &v[..]).unwrap()),
            expected
        );
        wijk_runtime::state_tree::verify_proof(
            header.state_root,
            &bob_key,
            expected.map(|c| c.encode()).as_deref(),
            &proof,
        )
        .unwrap();
    }
}

#[test]
fn another_chain_and_out_of_order_commits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, signing) = open_with_genesis(dir.path());
    let mut other = genesis_config();
    other.system.timestamp_ms = 99;
    let other_genesis =
        build_genesis(&other, &wijk_runtime::state_tree::MemoryTree::default()).unwrap();
    assert!(matches!(
        storage.initialize(&other_genesis),
        Err(StorageError::GenesisMismatch { .. })
    ));
    let block = commit_transfers(&storage, &signing, 0, 1);
    let alice = Keypair::dev("Alice");
    let certificate =
        FinalityCertificate::sign_single(&alice, signing.genesis_hash, 1, 0, block.header.hash());
    let executed = wijk_runtime::ExecutedBlock {
        changes: Default::default(),
        receipts: vec![],
        hook_events: Default::default(),
        tree_batch: Default::default(),
        state_root: Hash::ZERO,
    };
    assert!(matches!(
        storage.commit_block(&block, &executed, &certificate),
        Err(StorageError::OutOfOrder {
            height: 1,
            expected: 2
        })
    ));
}

use wijk_primitives::Cents;

#[test]
fn state_is_listed_in_key_order_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, signing) = open_with_genesis(dir.path());
    commit_transfers(&storage, &signing, 0, 3);
    let page = wijk_system::ACCOUNTS.page(&storage, None, 10).unwrap();
    let mut listed: Vec<_> = page.entries.iter().map(|(account, _)| *account).collect();
    let alice = Keypair::dev("Alice").account_id();
    let bob = Keypair::dev("Bob").account_id();
    let mut expected = vec![alice, bob];
    expected.sort();
    assert_eq!(listed, expected);
    // Paging one at a time lists the same.
    let first = wijk_system::ACCOUNTS.page(&storage, None, 1).unwrap();
    let second = wijk_system::ACCOUNTS
        .page(&storage, first.next.as_ref(), 1)
        .unwrap();
    listed = first
        .entries
        .iter()
        .chain(&second.entries)
        .map(|(account, _)| *account)
        .collect();
    assert_eq!(listed, expected);
    assert!(wijk_coin::audit(&storage).is_ok());
}

#[test]
fn the_vote_log_survives_reopen_and_is_pruned_by_finality() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (storage, _) = open_with_genesis(dir.path());
        for (view, vote) in [
            (5u64, b"five".as_slice()),
            (1, b"one"),
            (2, b"two"),
            (2, b"two'"),
        ] {
            storage.log_vote(view, vote).unwrap();
        }
    }
    let (storage, signing) = open_with_genesis(dir.path());
    let logged = storage.logged_votes().unwrap();
    assert_eq!(logged.len(), 4);
    assert_eq!(logged[0], b"one");
    assert_eq!(logged[3], b"five");
    // Finality in view 2 makes the votes of views 1 and 2 moot.
    commit_transfers_in_view(&storage, &signing, 0, 1, 2);
    assert_eq!(storage.logged_votes().unwrap(), vec![b"five".to_vec()]);
}

#[test]
fn cached_reads_follow_every_commit_and_match_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, signing) = open_with_genesis(dir.path());
    let bob = Keypair::dev("Bob").account_id();
    let alice = Keypair::dev("Alice").account_id();
    // Bob's balance is read (and cached) as absent, then every block changes it.
    assert_eq!(wijk_coin::balance(&storage, &bob).unwrap(), 0);
    for round in 0..3u64 {
        commit_transfers(&storage, &signing, round * 2, 2);
        assert_eq!(
            wijk_coin::balance(&storage, &bob).unwrap(),
            u128::from(round * 2 + 2)
        );
    }
    let root = storage.best_header().unwrap().unwrap().state_root;
    let cached: Vec<_> = [alice, bob]
        .iter()
        .map(|account| wijk_coin::balance(&storage, account).unwrap())
        .collect();
    drop(storage);
    // A fresh process (empty caches) reads the same from disk, and the next block built
    // on either agrees on the tree (its nodes came from the cache before).
    let (reopened, _) = open_with_genesis(dir.path());
    let from_disk: Vec<_> = [alice, bob]
        .iter()
        .map(|account| wijk_coin::balance(&reopened, account).unwrap())
        .collect();
    assert_eq!(cached, from_disk);
    assert_eq!(reopened.best_header().unwrap().unwrap().state_root, root);
    commit_transfers(&reopened, &signing, 6, 1);
}

#[test]
fn a_key_written_twice_in_one_commit_keeps_its_later_write() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path()).unwrap();
    let mut batch = SortedBatch::default();
    batch.put(columns::STATE, b"b".to_vec(), b"first".to_vec());
    batch.put(columns::STATE, b"a".to_vec(), b"kept".to_vec());
    batch.put(columns::STATE, b"b".to_vec(), b"second".to_vec());
    batch.put(columns::STATE, b"c".to_vec(), b"gone".to_vec());
    batch.delete(columns::STATE, b"c".to_vec());
    batch.delete(columns::STATE, b"d".to_vec());
    batch.put(columns::STATE, b"d".to_vec(), b"back".to_vec());
    let (write, cached) = storage.rocksdb_batch(batch);
    storage.write_synced(write).unwrap();
    storage.cache_written(cached);
    let on_disk = |key: &[u8]| storage.db.get_cf(storage.cf(columns::STATE), key).unwrap();
    let expected: [(&[u8], Option<&[u8]>); 4] = [
        (b"a", Some(b"kept")),
        (b"b", Some(b"second")),
        (b"c", None),
        (b"d", Some(b"back")),
    ];
    for (key, value) in expected {
        let value = value.map(<[u8]>::to_vec);
        assert_eq!(on_disk(key), value, "on disk");
        // Read through the state cache, which learned the same writes.
        assert_eq!(StateRead::get(&storage, key).unwrap(), value, "cached");
    }
}

#[test]
fn tree_node_keys_sort_by_version_then_path() {
    // A nibble path as jmt encodes it: the nibble count (u64), then the bytes.
    let path = |nibbles: u64, bytes: &[u8]| -> jmt::storage::NibblePath {
        borsh::from_slice(&borsh::to_vec(&(nibbles, bytes.to_vec())).unwrap()).unwrap()
    };
    let key = |version, nibble_path| {
        tree_node_key(&jmt::storage::NodeKey::new(version, nibble_path)).unwrap()
    };
    // Little-endian first (jmt's own encoding), version 256 would sort before 255.
    assert!(key(255, path(2, &[0xff])) < key(256, path(0, &[])));
    assert!(key(256, path(1, &[0x10])) < key(256, path(2, &[0x12])));
    assert_ne!(key(7, path(2, &[0x10])), key(7, path(2, &[0x12])));
}

#[test]
fn a_database_in_another_storage_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, _) = open_with_genesis(dir.path());
    assert_eq!(storage.format_version().unwrap(), Some(FORMAT_VERSION));
    // As an older node left it: no recorded format.
    storage
        .db
        .delete_cf(storage.cf(columns::META), META_FORMAT_VERSION)
        .unwrap();
    drop(storage);
    let storage = Storage::open(dir.path()).unwrap();
    let genesis = build_genesis(&genesis_config(), &storage).unwrap();
    let refused = storage.initialize(&genesis).unwrap_err();
    assert!(matches!(
        refused,
        StorageError::FormatMismatch {
            expected: FORMAT_VERSION,
            found: 1
        }
    ));
    assert!(refused.to_string().contains("purge-chain"));
}
