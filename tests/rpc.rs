//! JSON-RPC end to end against a node started in-process on a free loopback port.

use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::core::ClientError;
use serde_json::{json, Value};
use wijk_primitives::{Address, Hash, Keypair};
use wijk_rpc::{codes, RpcConfig};
use wijk_tests::{
    call, dev_address, signing_context, start_dev_node, start_idle_dev_node, submit_until_final,
    transfer_hex, ws,
};

fn error_code(error: &ClientError) -> (i32, String) {
    match error {
        ClientError::Call(call) => (call.code(), call.message().to_string()),
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
}

/// A dev node (50 ms blocks, default RPC limits) in a fresh folder, and its HTTP URL. The
/// folder lives as long as the returned guard.
async fn dev_node() -> (tempfile::TempDir, wijk_service::RunningNode, String) {
    let dir = tempfile::tempdir().unwrap();
    let node = start_dev_node(dir.path(), 50, RpcConfig::default()).await;
    let url = format!("http://{}", node.rpc_addr.unwrap());
    (dir, node, url)
}

/// The error code and message of a call that must fail.
async fn call_error(url: &str, method: &str, params: Vec<Value>) -> (i32, String) {
    error_code(&call(url, method, params).await.unwrap_err())
}

/// The balance `wijk_account` reports for the dev account `name`.
async fn dev_balance(url: &str, name: &str) -> Value {
    call(url, "wijk_account", vec![json!(dev_address(name))])
        .await
        .unwrap()["balance"]
        .clone()
}

/// `hex` (an encoded transaction) with the last signature bit flipped.
fn tampered(mut hex: String) -> String {
    let flip = if hex.ends_with('0') { "1" } else { "0" };
    hex.replace_range(hex.len() - 1.., flip);
    hex
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_payment_history_and_supply() {
    let (_dir, node, url) = dev_node().await;

    let methods = call(&url, "rpc_methods", vec![]).await.unwrap();
    for method in [
        "rpc_methods",
        "system_health",
        "system_chain",
        "system_version",
        "chain_getBlockHash",
        "chain_getHeader",
        "chain_getBlock",
        "chain_getFinalizedHead",
        "chain_subscribeNewHeads",
        "chain_subscribeFinalizedHeads",
        "state_getReadProof",
        "author_submitTransaction",
        "author_submitTransactions",
        "author_submitAndWatchTransaction",
        "author_nextNonce",
        "wijk_account",
        "wijk_history",
        "wijk_transaction",
        "wijk_supply",
        "wijk_validators",
        "wijk_offences",
        "chain_getBlockTransactionHashes",
    ] {
        assert!(
            methods["methods"]
                .as_array()
                .unwrap()
                .contains(&json!(method)),
            "{method} missing"
        );
    }
    assert_eq!(
        call(&url, "system_chain", vec![]).await.unwrap(),
        json!("Wijk Dev")
    );
    assert_eq!(
        call(&url, "system_health", vec![]).await.unwrap()["isSyncing"],
        json!(false)
    );

    let signing = signing_context(node.genesis_hash);
    let alice = Keypair::dev("Alice");
    let charlie = Keypair::dev("Charlie");
    let client = ws(&url).await;
    let block_hash = submit_until_final(
        &client,
        &transfer_hex(&signing, &alice, 0, 1_000, charlie.account_id(), 1_250),
    )
    .await
    .unwrap();
    let block = call(&url, "chain_getBlock", vec![json!(block_hash)])
        .await
        .unwrap();
    let tx_hash = block["block"]["transactions"][0]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = call(
        &url,
        "chain_getBlockTransactionHashes",
        vec![json!(block_hash)],
    )
    .await
    .unwrap();
    assert_eq!(listed, json!([tx_hash]));
    assert_eq!(
        block["block"]["transactions"][0]["call"]["amount"],
        json!("12.50")
    );

    assert_eq!(dev_balance(&url, "Charlie").await, json!("112.50"));
    let tx = call(&url, "wijk_transaction", vec![json!(tx_hash)])
        .await
        .unwrap();
    assert_eq!(tx["outcome"]["success"], json!(true));
    assert_eq!(tx["blockHash"], json!(block_hash));
    let history = call(&url, "wijk_history", vec![json!(dev_address("Charlie"))])
        .await
        .unwrap();
    assert_eq!(history["entries"][0]["hash"], json!(tx_hash));
    let supply = call(&url, "wijk_supply", vec![]).await.unwrap();
    assert_eq!(supply["total_supply"], supply["euro_reserve"]);
    assert_eq!(supply["total_supply"], json!("10200.00"));

    let head = call(&url, "chain_getFinalizedHead", vec![]).await.unwrap();
    let header = call(&url, "chain_getHeader", vec![head.clone()])
        .await
        .unwrap();
    let number = header["number"].as_u64().unwrap();
    assert_eq!(
        call(&url, "chain_getBlockHash", vec![json!(number)])
            .await
            .unwrap(),
        head
    );
    let certificate = call(&url, "chain_getFinalityCertificate", vec![head])
        .await
        .unwrap();
    assert_eq!(certificate["signatures"].as_array().unwrap().len(), 1);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_clear_errors_and_lose_nothing() {
    let (_dir, node, url) = dev_node().await;
    let signing = signing_context(node.genesis_hash);
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let submit = |encoded: String| {
        let url = url.clone();
        async move { call(&url, "author_submitTransaction", vec![json!(encoded)]).await }
    };

    // Malformed hex and malformed SCALE.
    let (code, _) = error_code(&submit("0xzz".into()).await.unwrap_err());
    assert_eq!(code, codes::INVALID_PARAMS);
    let (code, message) = error_code(&submit("0x0102".into()).await.unwrap_err());
    assert_eq!(code, codes::TRANSACTION_REFUSED);
    assert!(message.contains("not valid SCALE"), "{message}");
    // Signed for another chain (wrong genesis hash).
    let other_chain = signing_context(Hash([9; 32]));
    let (code, message) = error_code(
        &submit(transfer_hex(&other_chain, &alice, 0, 1_000, bob, 1))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, codes::TRANSACTION_REFUSED);
    assert!(message.contains("signature"), "{message}");
    // Bad signature.
    let tampered = tampered(transfer_hex(&signing, &alice, 0, 1_000, bob, 1));
    let (code, message) = error_code(&submit(tampered).await.unwrap_err());
    assert_eq!(code, codes::TRANSACTION_REFUSED);
    assert!(message.contains("signature"), "{message}");
    // Expired.
    let (_, message) = error_code(
        &submit(transfer_hex(&signing, &alice, 0, 0, bob, 1))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("expired"), "{message}");
    // Insufficient funds is refused before it reaches a block.
    let (_, message) = error_code(
        &submit(transfer_hex(
            &signing,
            &Keypair::dev("Bob"),
            0,
            1_000,
            alice.account_id(),
            999_999_999,
        ))
        .await
        .unwrap_err(),
    );
    assert!(message.contains("needs"), "{message}");
    // A good payment, then its replay.
    let good = transfer_hex(&signing, &alice, 0, 1_000, bob, 5);
    let client = ws(&url).await;
    submit_until_final(&client, &good).await.unwrap();
    let (code, message) = error_code(&submit(good).await.unwrap_err());
    assert_eq!(code, codes::TRANSACTION_REFUSED);
    assert!(message.contains("already used"), "{message}");
    // Unknown address and bad hash are parameter errors.
    let (code, _) = call_error(&url, "wijk_account", vec![json!("not-an-address")]).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    let other_prefix = Address {
        prefix: 7,
        account: bob,
    }
    .to_string();
    let (code, message) = call_error(&url, "wijk_account", vec![json!(other_prefix)]).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    assert!(message.contains("prefix"), "{message}");
    assert_eq!(
        call(
            &url,
            "wijk_transaction",
            vec![json!(Hash([1; 32]).to_hex())]
        )
        .await
        .unwrap(),
        Value::Null
    );

    // Nothing lost, the node still works: the next payment goes through.
    submit_until_final(&client, &transfer_hex(&signing, &alice, 1, 1_000, bob, 5))
        .await
        .unwrap();
    assert_eq!(dev_balance(&url, "Bob").await, json!("100.10"));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_and_too_many_subscriptions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = RpcConfig {
        max_request_bytes: 4 * 1024,
        max_subscriptions_per_connection: 3,
        ..RpcConfig::default()
    };
    let node = start_dev_node(dir.path(), 50, config).await;
    let url = format!("http://{}", node.rpc_addr.unwrap());
    let huge = format!("0x{}", "00".repeat(8 * 1024));
    let error = call(&url, "author_submitTransaction", vec![json!(huge)])
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("413") || error.to_string().to_lowercase().contains("too large"),
        "{error}"
    );

    let client = ws(&url).await;
    let mut subscriptions = Vec::new();
    for _ in 0..3 {
        subscriptions.push(
            client
                .subscribe::<Value, _>(
                    "chain_subscribeNewHeads",
                    Vec::<Value>::new(),
                    "chain_unsubscribeNewHeads",
                )
                .await
                .unwrap(),
        );
    }
    let refused = client
        .subscribe::<Value, _>(
            "chain_subscribeNewHeads",
            Vec::<Value>::new(),
            "chain_unsubscribeNewHeads",
        )
        .await;
    assert!(refused.is_err(), "a fourth subscription must be refused");
    // The connection and node keep serving.
    let chain: Value = client
        .request("system_chain", Vec::<Value>::new())
        .await
        .unwrap();
    assert_eq!(chain, json!("Wijk Dev"));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_proofs_verify_offline_against_the_header() {
    let (_dir, node, url) = dev_node().await;
    let bob_key = wijk_system::ACCOUNTS.key(&Keypair::dev("Bob").account_id());
    let nobody_key = wijk_system::ACCOUNTS.key(&Keypair::dev("Nobody").account_id());
    let keys = json!([
        format!("0x{}", hex::encode(&bob_key)),
        format!("0x{}", hex::encode(&nobody_key))
    ]);
    let read = call(&url, "state_getReadProof", vec![keys]).await.unwrap();
    let header = call(&url, "chain_getHeader", vec![read["at"].clone()])
        .await
        .unwrap();
    let root = Hash::from_hex(header["stateRoot"].as_str().unwrap()).unwrap();
    for (key, proof) in [bob_key, nobody_key]
        .iter()
        .zip(read["proofs"].as_array().unwrap())
    {
        let value = proof["value"]
            .as_str()
            .map(|v| hex::decode(&v[2..]).unwrap());
        let bytes = hex::decode(&proof["proof"].as_str().unwrap()[2..]).unwrap();
        wijk_runtime::state_tree::verify_proof(root, key, value.as_deref(), &bytes).unwrap();
        // A lie about the value fails.
        assert!(
            wijk_runtime::state_tree::verify_proof(root, key, Some(&[1, 2, 3]), &bytes).is_err()
        );
    }
    assert!(read["proofs"][1]["value"].is_null());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_transactions_in_one_call_get_one_verdict_each() {
    let (_dir, node, url) = dev_node().await;
    let signing = signing_context(node.genesis_hash);
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let tampered = tampered(transfer_hex(&signing, &alice, 1, 1_000, bob, 1));
    let batch = vec![
        transfer_hex(&signing, &alice, 0, 1_000, bob, 1),
        tampered,
        "0x0102".to_string(),
        transfer_hex(&signing, &alice, 1, 1_000, bob, 1),
    ];
    let answers = call(&url, "author_submitTransactions", vec![json!(batch)])
        .await
        .unwrap();
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 4);
    assert!(answers[0]["hash"].is_string() && answers[3]["hash"].is_string());
    for refused in [&answers[1], &answers[2]] {
        assert_eq!(
            refused["error"]["code"],
            json!(codes::TRANSACTION_REFUSED),
            "{refused}"
        );
    }
    assert!(answers[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("signature"));
    // Bad hex anywhere refuses the whole call, before anything is submitted.
    let (code, _) = call_error(&url, "author_submitTransactions", vec![json!(["0xzz"])]).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    let too_many = vec!["0x00"; 1_001];
    let (code, message) =
        call_error(&url, "author_submitTransactions", vec![json!(too_many)]).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    assert!(message.contains("at most 1000"), "{message}");
    // Both good ones become final.
    let client = ws(&url).await;
    submit_until_final(&client, &transfer_hex(&signing, &alice, 2, 1_000, bob, 1))
        .await
        .unwrap();
    assert_eq!(dev_balance(&url, "Bob").await, json!("100.03"));
    node.stop().await;
}

/// A wallet that pays again before its last payment is final must sign the nonce after
/// the ones waiting in the pool. The node here builds no blocks, so submissions stay
/// pooled and the committed nonce stays 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_nonce_counts_the_accounts_transactions_waiting_in_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_idle_dev_node(dir.path()).await;
    let url = format!("http://{}", node.rpc_addr.unwrap());
    let signing = signing_context(node.genesis_hash);
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let next_nonce = || call(&url, "author_nextNonce", vec![json!(dev_address("Alice"))]);
    assert_eq!(next_nonce().await.unwrap(), json!(0));
    for nonce in 0..2 {
        let payment = transfer_hex(&signing, &alice, nonce, 1_000, bob, 1);
        call(&url, "author_submitTransaction", vec![json!(payment)])
            .await
            .unwrap();
        assert_eq!(next_nonce().await.unwrap(), json!(nonce + 1));
    }
    let account = call(&url, "wijk_account", vec![json!(dev_address("Alice"))])
        .await
        .unwrap();
    assert_eq!(account["nonce"], json!(0), "nothing is final here");
    let (code, _) = call_error(&url, "author_nextNonce", vec![json!("no address")]).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    node.stop().await;
}

/// POSTs `body` to `server` from the loopback address `from` over a plain TCP connection;
/// returns the status line's code and the response body.
async fn raw_post(
    server: std::net::SocketAddr,
    from: std::net::IpAddr,
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nhost: {server}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(wijk_tests::WAIT, stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (code, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_that_is_not_a_request_gets_invalid_request() {
    let (_dir, node, url) = dev_node().await;
    let server = node.rpc_addr.unwrap();
    let loopback: std::net::IpAddr = [127, 0, 0, 1].into();
    for body in [r#""hello""#, "42", "{}", r#"{"jsonrpc":"2.0","id":7}"#] {
        let (status, answer) = raw_post(server, loopback, body).await;
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(
            (status, answer["error"]["code"].clone()),
            (200, json!(-32600)),
            "{body}: {answer}"
        );
    }
    let (_, answer) = raw_post(server, loopback, r#"{"jsonrpc":"2.0","id":7}"#).await;
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["id"],
        json!(7)
    );
    // Not JSON at all is still a parse error; a request is still answered.
    let (_, answer) = raw_post(server, loopback, "nonsense").await;
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["error"]["code"],
        json!(-32700)
    );
    let (_, answer) = raw_post(
        server,
        loopback,
        r#"{"jsonrpc":"2.0","id":1,"method":"system_chain"}"#,
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["result"],
        json!("Wijk Dev")
    );
    let _ = url;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_address_cannot_take_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let config = RpcConfig {
        max_connections_per_ip: 3,
        ..RpcConfig::default()
    };
    let node = start_dev_node(dir.path(), 50, config).await;
    let server = node.rpc_addr.unwrap();
    let url = format!("http://{server}");
    // One client holds three idle WebSocket connections: its address's whole share.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(ws(&url).await);
    }
    let loopback: std::net::IpAddr = [127, 0, 0, 1].into();
    let (status, answer) = raw_post(
        server,
        loopback,
        r#"{"jsonrpc":"2.0","id":1,"method":"system_chain"}"#,
    )
    .await;
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer.contains("too many connections from your address"),
        "{answer}"
    );
    assert!(
        jsonrpsee::ws_client::WsClientBuilder::default()
            .build(url.replace("http://", "ws://"))
            .await
            .is_err(),
        "a fourth WebSocket connection from the same address is refused"
    );
    // Another client (another loopback address) is served all the while.
    let neighbour: std::net::IpAddr = [127, 0, 0, 2].into();
    let (status, answer) = raw_post(
        server,
        neighbour,
        r#"{"jsonrpc":"2.0","id":1,"method":"system_chain"}"#,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("Wijk Dev"), "{answer}");
    // Once the first client lets go of one connection, it is served again.
    drop(idle.pop());
    let deadline = std::time::Instant::now() + wijk_tests::WAIT;
    loop {
        let (status, _) = raw_post(
            server,
            loopback,
            r#"{"jsonrpc":"2.0","id":1,"method":"system_chain"}"#,
        )
        .await;
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the freed connection was never counted back"
        );
        tokio::task::yield_now().await;
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openrpc_document_describes_every_method_and_is_checked_in() {
    let (_dir, node, url) = dev_node().await;
    let document = call(&url, "rpc_discover", vec![]).await.unwrap();
    let served: std::collections::BTreeSet<String> =
        call(&url, "rpc_methods", vec![]).await.unwrap()["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_string())
            .collect();
    let described: std::collections::BTreeSet<String> = document["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        served, described,
        "every served method is described, and no other"
    );
    // Calls and events are described from the pallets' own types.
    let schemas = &document["components"]["schemas"];
    let calls = schemas["Call"]["oneOf"].as_array().unwrap();
    assert!(calls
        .iter()
        .any(|c| c["properties"]["call"]["const"] == "transfer"
            && c["properties"]["pallet"]["const"] == "coin"));
    let events = schemas["Event"]["oneOf"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["properties"]["event"]["const"] == "coin.Transferred"));

    // docs/openrpc.json is this document; regenerate with WIJK_WRITE_DOCS=1.
    let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&manifest).join("../docs/openrpc.json");
    if std::env::var_os("WIJK_WRITE_DOCS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == text,
        "docs/openrpc.json drifted from rpc_discover; regenerate with WIJK_WRITE_DOCS=1 cargo test --release -p wijk-tests --test rpc openrpc"
    );
    node.stop().await;
}
