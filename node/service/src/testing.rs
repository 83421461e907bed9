//! Test helpers: a short chain of real blocks with certificates, built in memory.

use wijk_primitives::{FinalityCertificate, Keypair, SigningContext};
use wijk_runtime::{
    simple_genesis, Block, MemoryChain, RuntimeCall, RuntimeGenesis, Transaction,
    VerifiedTransaction,
};

pub(crate) struct TestChain {
    pub(crate) config: RuntimeGenesis,
    pub(crate) signing: SigningContext,
    pub(crate) blocks: Vec<(Block, FinalityCertificate)>,
    pub(crate) validator: Keypair,
}

/// `count` blocks, each with a few transfers among the dev accounts, built in memory.
pub(crate) fn test_chain(count: u64) -> TestChain {
    build_test_chain(count, None)
}

/// Like [`test_chain`], but block 1 also has the admin (//Board) hand the validator set
/// from //Alice to //Bob from height `activates_at`. Blocks from then on are certified by
/// Bob; the last block of Alice's epoch through a closing block, two heights on.
pub(crate) fn test_chain_changing_set(count: u64, activates_at: u64) -> TestChain {
    build_test_chain(count, Some(activates_at))
}

fn build_test_chain(count: u64, set_change_at: Option<u64>) -> TestChain {
    let validator = Keypair::dev("Alice");
    let people: Vec<Keypair> = ["Alice", "Bob", "Charlie"]
        .iter()
        .map(|name| Keypair::dev(name))
        .collect();
    let funded: Vec<_> = people.iter().map(|p| (p.account_id(), 1_000_000)).collect();
    let mut config = simple_genesis(&[validator.account_id()], &funded);
    config.system.board = vec![Keypair::dev("Board").account_id()];
    let mut memory = MemoryChain::new(&config).unwrap();
    let signing = memory.signing();
    let mut blocks = Vec::new();
    let bob = Keypair::dev("Bob");
    for height in 1..=count {
        let mut candidates: Vec<VerifiedTransaction> = people
            .iter()
            .enumerate()
            .map(|(i, from)| {
                let to = people[(i + 1) % people.len()].account_id();
                let call = RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: 100 });
                let tx = Transaction::sign(from, &signing, height - 1, u64::MAX, call);
                VerifiedTransaction::verify(tx, &signing).unwrap()
            })
            .collect();
        if let (Some(activates_at), 1) = (set_change_at, height) {
            let call = RuntimeCall::Validators(wijk_validators::Call::ScheduleChange {
                validators: vec![bob.account_id()],
                activates_at,
            });
            let tx = Transaction::sign(&Keypair::dev("Board"), &signing, 0, u64::MAX, call);
            candidates.push(VerifiedTransaction::verify(tx, &signing).unwrap());
        }
        let expected = candidates.len();
        let built = memory
            .build_next(height * 1_000, validator.account_id(), candidates)
            .unwrap();
        assert_eq!(built.block.transactions.len(), expected);
        let hash = built.block.header.hash();
        let certificate = match set_change_at {
            // Bob's epoch (1) votes in its own views.
            Some(at) if height >= at => FinalityCertificate::sign_single(
                &bob,
                signing.genesis_hash,
                height,
                wijk_primitives::epoch_base_view(1) + height,
                hash,
            ),
            Some(at) if height + 1 == at => FinalityCertificate::sign_single(
                &validator,
                signing.genesis_hash,
                height + 2,
                height,
                wijk_primitives::closing_block_hash(hash, height + 2),
            ),
            _ => FinalityCertificate::sign_single(
                &validator,
                signing.genesis_hash,
                height,
                height,
                hash,
            ),
        };
        blocks.push((built.block, certificate));
    }
    TestChain {
        config,
        signing,
        blocks,
        validator,
    }
}
