//! Test helpers: a short chain of real blocks with certificates, built in memory.

use wijk_primitives::{FinalityCertificate, Keypair, SigningContext};
use wijk_runtime::{
    Block, GenesisConfig, MemoryChain, RuntimeCall, Transaction, VerifiedTransaction,
};

pub(crate) struct TestChain {
    pub(crate) config: GenesisConfig,
    pub(crate) signing: SigningContext,
    pub(crate) blocks: Vec<(Block, FinalityCertificate)>,
    pub(crate) validator: Keypair,
}

/// `count` blocks, each with a few transfers among the dev accounts, built in memory.
pub(crate) fn test_chain(count: u64) -> TestChain {
    let validator = Keypair::dev("Alice");
    let people: Vec<Keypair> = ["Alice", "Bob", "Charlie"]
        .iter()
        .map(|name| Keypair::dev(name))
        .collect();
    let config = GenesisConfig {
        timestamp_ms: 0,
        validators: vec![validator.account_id()],
        validator_admin: validator.account_id(),
        coin: wijk_coin::GenesisConfig {
            issuer: validator.account_id(),
            balances: people.iter().map(|p| (p.account_id(), 1_000_000)).collect(),
        },
    };
    let mut memory = MemoryChain::new(&config).unwrap();
    let signing = memory.signing();
    let mut blocks = Vec::new();
    for height in 1..=count {
        let candidates = people.iter().enumerate().map(|(i, from)| {
            let to = people[(i + 1) % people.len()].account_id();
            let call = RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: 100 });
            let tx = Transaction::sign(from, &signing, height - 1, u64::MAX, call);
            VerifiedTransaction::verify(tx, &signing).unwrap()
        });
        let built = memory
            .build_next(height * 1_000, validator.account_id(), candidates)
            .unwrap();
        assert_eq!(built.block.transactions.len(), people.len());
        let certificate = FinalityCertificate::sign_single(
            &validator,
            signing.genesis_hash,
            height,
            height,
            built.block.header.hash(),
        );
        blocks.push((built.block, certificate));
    }
    TestChain {
        config,
        signing,
        blocks,
        validator,
    }
}
