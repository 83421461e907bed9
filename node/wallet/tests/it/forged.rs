//! A node that lies: it claims the dev chain's genesis hash but serves a chain of its own,
//! with another validator set whose certificates are all consistent (they even sign the
//! real genesis hash). A wallet pinned to the dev chain refuses every answer it gets.

use super::*;
use jsonrpsee::server::{Server, ServerHandle};
use jsonrpsee::RpcModule;
use serde_json::json;
use std::collections::HashMap;
use wijk_primitives::json::with_address_prefix;
use wijk_primitives::{FinalityCertificate, Hash, Header};
use wijk_rpc_types as types;
use wijk_runtime::{MemoryChain, RuntimeCall, Transaction, VerifiedTransaction};

/// What the lying node serves.
struct Forgery {
    headers: Vec<Header>,
    certificates: Vec<FinalityCertificate>,
    /// What it says of epochs past 0.
    epochs: Vec<types::Epoch>,
    chain: MemoryChain,
}

/// A chain of `blocks` blocks validated by //Mallory alone, whose first block (when
/// `announce_takeover`) schedules a change to //Mallory again, announced in its header.
/// Its headers are relinked onto the real genesis header, so the chain of parent hashes
/// is as consistent as the certificates: only who signed them gives it away.
fn forge(real_genesis: &Header, blocks: u64, announce_takeover: bool) -> Forgery {
    let real_genesis_hash = real_genesis.hash();
    let mallory = Keypair::dev("Mallory");
    let funded = [
        (Keypair::dev("Alice").account_id(), 1_000_000),
        (Keypair::dev("Bob").account_id(), 1_000_000_000),
    ];
    let mut chain = MemoryChain::new(&wijk_runtime::simple_genesis(
        &[mallory.account_id()],
        &funded,
    ))
    .unwrap();
    let mut headers = vec![real_genesis.clone()];
    let mut certificates = vec![FinalityCertificate::sign_single(
        &mallory,
        real_genesis_hash,
        0,
        0,
        real_genesis_hash,
    )];
    for height in 1..=blocks {
        let mut candidates = Vec::new();
        if height == 1 && announce_takeover {
            let call = RuntimeCall::Validators(wijk_validators::Call::ScheduleChange {
                validators: vec![mallory.account_id()],
                activates_at: 3,
            });
            let tx = Transaction::sign(&mallory, &chain.signing(), 0, u64::MAX, call);
            candidates.push(VerifiedTransaction::verify(tx, &chain.signing()).unwrap());
        }
        let built = chain
            .build_next(height * 1_000, mallory.account_id(), candidates)
            .unwrap();
        let mut header = built.block.header;
        header.parent_hash = headers.last().map(Header::hash).unwrap_or_default();
        certificates.push(FinalityCertificate::sign_single(
            &mallory,
            real_genesis_hash,
            height,
            height,
            header.hash(),
        ));
        headers.push(header);
    }
    let epochs = if announce_takeover {
        vec![types::Epoch {
            epoch: 1,
            validators: vec![mallory.account_id()],
            starts_at: 3,
            announced_at: Some(1),
        }]
    } else {
        Vec::new()
    };
    Forgery {
        headers,
        certificates,
        epochs,
        chain,
    }
}

/// Serves `forgery` as the dev chain (its genesis hash, name and prefix).
async fn lying_node(forgery: Forgery, real: types::ChainInfo) -> (ServerHandle, String) {
    let prefix = real.address_prefix;
    let render = move |value: &dyn erased::Render| value.render(prefix);
    let by_hash: HashMap<Hash, usize> = forgery
        .headers
        .iter()
        .enumerate()
        .map(|(height, header)| (header.hash(), height))
        .collect();
    let headers: Vec<serde_json::Value> = forgery
        .headers
        .iter()
        .map(|h| render(&types::Header::from(h)))
        .collect();
    let certificates: Vec<serde_json::Value> = forgery
        .certificates
        .iter()
        .map(|c| render(&types::FinalityCertificate::from(c)))
        .collect();
    let hashes: Vec<Hash> = forgery.headers.iter().map(Header::hash).collect();
    let head = *hashes.last().unwrap();
    let epochs = render(&forgery.epochs);
    let info = render(&real);
    // Proofs against the forged state at each height (of the forged chain's tree, whose
    // roots the relinked headers carry).
    let mut proofs: HashMap<(usize, Vec<u8>), serde_json::Value> = HashMap::new();
    let account_keys: Vec<Vec<u8>> = [dev_address("Bob"), dev_address("Alice")]
        .iter()
        .map(|address| {
            wijk_system::ACCOUNTS.key(&wijk_primitives::Address::parse(address, prefix).unwrap())
        })
        .collect();
    for (height, header) in forgery.headers.iter().enumerate() {
        for key in &account_keys {
            let (value, proof) =
                wijk_runtime::state_tree::prove(forgery.chain.tree(), height as u64, key).unwrap();
            proofs.insert(
                (height, key.clone()),
                render(&types::StateProof {
                    key: key.clone().into(),
                    value: value.map(types::Bytes),
                    proof: proof.into(),
                }),
            );
        }
        let _ = header;
    }
    let state_roots: Vec<Hash> = forgery.headers.iter().map(|h| h.state_root).collect();

    let mut module = RpcModule::new(());
    module
        .register_method("wijk_chainInfo", move |_, _, _| info.clone())
        .unwrap();
    module
        .register_method("wijk_epochs", move |_, _, _| epochs.clone())
        .unwrap();
    module
        .register_method("chain_getFinalizedHead", move |_, _, _| json!(head))
        .unwrap();
    let hashes_by_height = hashes.clone();
    module
        .register_method("chain_getBlockHash", move |params, _, _| {
            let height: Option<u64> = params.sequence().optional_next().unwrap_or(None);
            let height = height.map_or(hashes_by_height.len() - 1, |h| h as usize);
            json!(hashes_by_height.get(height))
        })
        .unwrap();
    let index = by_hash.clone();
    module
        .register_method("chain_getHeader", move |params, _, _| {
            let hash: Hash = params.one().unwrap_or_default();
            index
                .get(&hash)
                .map_or(json!(null), |i| headers[*i].clone())
        })
        .unwrap();
    let index = by_hash.clone();
    module
        .register_method("chain_getFinalityCertificate", move |params, _, _| {
            let hash: Hash = params.one().unwrap_or_default();
            index
                .get(&hash)
                .map_or(json!(null), |i| certificates[*i].clone())
        })
        .unwrap();
    module
        .register_method("state_getReadProof", move |params, _, _| {
            let mut sequence = params.sequence();
            let keys: Vec<types::Bytes> = sequence.next().unwrap_or_default();
            let at: Hash = sequence.next().unwrap_or_default();
            let height = by_hash[&at];
            json!({
                "at": at,
                "number": height,
                "stateRoot": state_roots[height],
                "proofs": keys.iter().map(|key| proofs[&(height, key.0.clone())].clone()).collect::<Vec<_>>(),
            })
        })
        .unwrap();
    let server = Server::builder().build("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    (server.start(module), url)
}

/// Rendering under the chain's address prefix, for values of several types.
mod erased {
    pub(super) trait Render {
        fn render(&self, prefix: u16) -> serde_json::Value;
    }

    impl<T: serde::Serialize> Render for T {
        fn render(&self, prefix: u16) -> serde_json::Value {
            super::with_address_prefix(prefix, || serde_json::to_value(self).unwrap())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_serving_a_forged_chain_is_refused() {
    let Setup { url, wallet, .. } = &setup().await;
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../chain-specs/dev.json");
    ok(wijk(url, wallet, &["chain", "pin", "--spec", spec]).await);
    let client = wijk_client::Client::connect(url).await.unwrap();
    let real = client.chain().clone();
    let genesis_hash = client.block_hash(Some(0)).await.unwrap().unwrap();
    let served = client.header(&genesis_hash).await.unwrap().unwrap();
    let real_genesis =
        <Header as parity_scale_codec::Decode>::decode(&mut served.encoded.0.as_slice()).unwrap();
    let bob = dev_address("Bob");

    // Another validator set certifies a chain of its own under the real genesis hash; in
    // its state Bob is rich. The head's certificate is signed by a key the pin never trusted.
    let (server, liar) = lying_node(forge(&real_genesis, 3, false), real.clone()).await;
    let said = refused(
        wijk(&liar, wallet, &["proof", &bob]).await,
        "do not trust this node",
    );
    assert!(said.contains("not a validator"), "{said}");
    server.stop().unwrap();

    // The same, claiming the set changed to the forger's, announced in a header the forger
    // certifies: the announcement itself is refused.
    let (server, liar) = lying_node(forge(&real_genesis, 4, true), real.clone()).await;
    let said = refused(
        wijk(&liar, wallet, &["proof", &bob]).await,
        "do not trust this node",
    );
    assert!(said.contains("finality of block 1"), "{said}");
    assert!(said.contains("not a validator"), "{said}");
    server.stop().unwrap();

    // The honest node still proves, and the pin did not move.
    let proof = json(&ok(wijk(url, wallet, &["--json", "proof", &bob]).await));
    assert_eq!(proof["balance"], "100.00");
    assert_eq!(proof["epoch"], 0);
}
