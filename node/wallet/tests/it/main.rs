//! The `wijk` wallet, every subcommand, run as a process against a dev node in this test
//! process; and a node that serves a forged chain, which the wallet refuses.

mod forged;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use wijk_primitives::Keypair;
use wijk_rpc::RpcConfig;
use wijk_tests::{dev_address, start_dev_node};

/// A dev node (50 ms blocks), its URL, and a wallet folder of its own.
struct Setup {
    _dir: tempfile::TempDir,
    _node: wijk_service::RunningNode,
    url: String,
    wallet: PathBuf,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let node = start_dev_node(&dir.path().join("node"), 50, RpcConfig::default()).await;
    let url = format!("http://{}", node.rpc_addr.unwrap());
    let wallet = dir.path().join("wallet");
    Setup {
        _dir: dir,
        _node: node,
        url,
        wallet,
    }
}

/// Runs `wijk --rpc URL --wallet-dir W ARGS`.
async fn wijk(url: &str, wallet: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_wijk"))
        .arg("--rpc")
        .arg(url)
        .arg("--wallet-dir")
        .arg(wallet)
        .args(args)
        .output()
        .await
        .expect("wijk runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Succeeds, or fails the test with what the wallet said.
fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "wijk failed: {}{}",
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// Fails, with a message on stderr containing `expected`.
fn refused(output: Output, expected: &str) -> String {
    assert!(
        !output.status.success(),
        "wijk should fail: {}",
        stdout(&output)
    );
    let said = stderr(&output);
    assert!(said.contains(expected), "expected `{expected}` in: {said}");
    said
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_balances_payments_and_their_history() {
    let Setup { url, wallet, .. } = &setup().await;
    let bob = dev_address("Bob");

    // A new account saved to a keystore only its owner can read.
    let keystore = wallet.join("carol.key");
    std::fs::create_dir_all(wallet).unwrap();
    let created = ok(wijk(
        url,
        wallet,
        &["account", "new", "--save", keystore.to_str().unwrap()],
    )
    .await);
    assert!(created.contains("Secret phrase:"), "{created}");
    let carol = created
        .lines()
        .find_map(|line| line.strip_prefix("Address:"))
        .unwrap()
        .trim()
        .to_string();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&keystore).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let from_file = format!("file:{}", keystore.display());
    let inspected = ok(wijk(url, wallet, &["account", "inspect", &from_file]).await);
    assert!(inspected.contains(&carol), "{inspected}");
    let inspected = ok(wijk(url, wallet, &["account", "inspect", "//Bob"]).await);
    assert!(inspected.contains(&bob), "{inspected}");
    refused(
        wijk(url, wallet, &["account", "inspect", "not a phrase"]).await,
        "BIP39",
    );

    let balance = ok(wijk(url, wallet, &["balance", &bob]).await);
    assert!(balance.contains("balance 100.00"), "{balance}");
    let balance = json(&ok(wijk(url, wallet, &["--json", "balance", &bob]).await));
    assert_eq!(balance["balance"], "100.00");

    // A payment waits until final and says so.
    let sent = ok(wijk(
        url,
        wallet,
        &[
            "send", "--from", "//Bob", "--to", &carol, "--amount", "12.50",
        ],
    )
    .await);
    assert!(sent.contains("final in block #"), "{sent}");
    assert!(sent.contains("coin.transfer"), "{sent}");
    assert!(ok(wijk(url, wallet, &["balance", &carol]).await).contains("balance 12.50"));
    // Two payments sent without waiting get consecutive nonces.
    for _ in 0..2 {
        let accepted = ok(wijk(
            url,
            wallet,
            &[
                "send",
                "--from",
                "//Bob",
                "--to",
                &carol,
                "--amount",
                "1",
                "--no-wait",
            ],
        )
        .await);
        assert!(accepted.starts_with("accepted 0x"), "{accepted}");
    }
    // The refusal of an overdraft names the account by its address.
    let said = refused(
        wijk(
            url,
            wallet,
            &[
                "send", "--from", "//Bob", "--to", &carol, "--amount", "1000",
            ],
        )
        .await,
        "insufficient funds",
    );
    assert!(
        said.contains(&bob),
        "the refusal names Bob's address: {said}"
    );
    refused(
        wijk(
            url,
            wallet,
            &[
                "send", "--from", "//Bob", "--to", "nonsense", "--amount", "1",
            ],
        )
        .await,
        "is not an address",
    );

    // Minting against a deposit, once per reference; redeeming from the keystore.
    let mint = |from: &'static str, amount: &'static str, deposit_ref: &'static str| {
        let carol = carol.clone();
        async move {
            wijk(
                url,
                wallet,
                &[
                    "mint",
                    "--from",
                    from,
                    "--to",
                    &carol,
                    "--amount",
                    amount,
                    "--deposit-ref",
                    deposit_ref,
                ],
            )
            .await
        }
    };
    let minted = ok(mint("//Alice", "100", "BANK-1").await);
    assert!(minted.contains("coin.mint"), "{minted}");
    refused(
        mint("//Alice", "100", "BANK-1").await,
        "deposit reference was already used",
    );
    refused(
        mint("//Bob", "1", "BANK-2").await,
        "is not allowed to mint: exchangeOffice only",
    );
    ok(wijk(
        url,
        wallet,
        &[
            "redeem",
            "--from",
            &from_file,
            "--amount",
            "20.00",
            "--payout-to",
            "BE71 0961 2345 6769",
        ],
    )
    .await);
    let supply = ok(wijk(url, wallet, &["supply"]).await);
    assert!(supply.contains("(balanced)"), "{supply}");

    // History, newest first, a page at a time; one transaction by its hash.
    let history = ok(wijk(url, wallet, &["history", &carol]).await);
    assert!(history.contains("coin.requestRedemption"), "{history}");
    assert!(history.contains("coin.mint"), "{history}");
    let first_page = ok(wijk(url, wallet, &["history", &carol, "--limit", "1"]).await);
    let cursor = first_page
        .lines()
        .find_map(|line| line.strip_prefix("more: --before "))
        .expect("a cursor to the next page");
    let second_page = ok(wijk(
        url,
        wallet,
        &["history", &carol, "--limit", "1", "--before", cursor],
    )
    .await);
    assert_ne!(first_page, second_page);
    let page = json(&ok(wijk(url, wallet, &["--json", "history", &carol]).await));
    let hash = page["entries"][0]["hash"].as_str().unwrap().to_string();
    let shown = ok(wijk(url, wallet, &["tx", &hash]).await);
    assert!(
        shown.contains("coin.RedemptionRequested"),
        "the events are listed: {shown}"
    );
    let unknown = format!("0x{}", "ab".repeat(32));
    refused(
        wijk(url, wallet, &["tx", &unknown]).await,
        "no final transaction",
    );
}

/// The output's first `0x` hash (a registration tag).
fn first_hex(text: &str) -> String {
    text.split_whitespace()
        .find(|word| word.starts_with("0x") && word.len() == 66)
        .unwrap_or_else(|| panic!("no 0x hash in: {text}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_guardians_earmarks_pools_redemptions_and_places() {
    let Setup { url, wallet, .. } = &setup().await;
    std::fs::create_dir_all(wallet).unwrap();
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        wijk(url, wallet, &args).await
    };
    let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<String>>();
    let dave = dev_address("Dirk");
    let eve = dev_address("Els");
    let alice = dev_address("Alice");

    // The registration tag, computed here from the cooperative's secret.
    let secret = wallet.join("coop.secret");
    std::fs::write(&secret, b"a cooperative secret of the dev chain").unwrap();
    let secret = secret.to_str().unwrap().to_string();
    let tag = first_hex(&ok(run(args(&[
        "member",
        "tag",
        "--secret-file",
        &secret,
        "--identity",
        "85.07.30-033.28",
    ]))
    .await));
    let same = first_hex(&ok(run(args(&[
        "member",
        "tag",
        "--secret-file",
        &secret,
        "--identity",
        "85073003328",
    ]))
    .await));
    assert_eq!(
        tag, same,
        "the same person, spelled differently, is one tag"
    );

    // //Alice (intermediary and board on the dev chain) registers Dave as a resident;
    // registering the same person again as Eve is refused.
    let registered = ok(run(args(&[
        "member", "register", "--from", "//Alice", "--who", &dave, "--roles", "resident", "--tag",
        &tag,
    ]))
    .await);
    assert!(registered.contains("membership.register"), "{registered}");
    refused(
        run(args(&[
            "member",
            "register",
            "--from",
            "//Alice",
            "--who",
            &eve,
            "--secret-file",
            &secret,
            "--identity",
            "85073003328",
        ]))
        .await,
        "already registered",
    );
    refused(
        run(args(&[
            "member", "register", "--from", "//Bob", "--who", &eve, "--tag", &tag,
        ]))
        .await,
        "neither an intermediary nor the board",
    );
    let shown = ok(run(args(&["member", "show", &dave])).await);
    assert!(
        shown.contains("resident") && shown.contains("active"),
        "{shown}"
    );
    let listed = ok(run(args(&["members", "--role", "resident"])).await);
    assert!(listed.contains(&dave), "{listed}");

    // A merchant with a place, found near a point.
    ok(run(args(&[
        "member",
        "register",
        "--from",
        "//Alice",
        "--who",
        &eve,
        "--roles",
        "merchant",
        "--tag",
        &format!("0x{}", "ee".repeat(32)),
        "--location",
        "51.0630,3.7120",
        "--category",
        "food",
    ]))
    .await);
    let near = ok(run(args(&[
        "merchants",
        "--near",
        "51.0625,3.7150",
        "--radius-m",
        "1000",
        "--category",
        "food",
    ]))
    .await);
    assert!(near.contains(&eve) && near.contains(" m away"), "{near}");
    let far = ok(run(args(&[
        "merchants",
        "--near",
        "52.0,4.0",
        "--radius-m",
        "100",
    ]))
    .await);
    assert!(far.contains("no merchants"), "{far}");
    refused(
        run(args(&["merchants", "--radius-m", "100"])).await,
        "--near",
    );
    let region = ok(run(args(&["region"])).await);
    assert!(region.contains("borderless"), "{region}");

    // A guardian pays for Bob within the day's cap.
    ok(run(args(&[
        "member",
        "guardian",
        "--from",
        "//Bob",
        "--guardian",
        &alice,
        "--daily-cap",
        "5.00",
    ]))
    .await);
    let paid = ok(run(args(&[
        "send",
        "--from",
        "//Alice",
        "--on-behalf-of",
        &dev_address("Bob"),
        "--to",
        &dave,
        "--amount",
        "3.00",
    ]))
    .await);
    assert!(paid.contains("(for "), "{paid}");
    refused(
        run(args(&[
            "send",
            "--from",
            "//Alice",
            "--on-behalf-of",
            &dev_address("Bob"),
            "--to",
            &dave,
            "--amount",
            "3.00",
        ]))
        .await,
        "a day for",
    );
    ok(run(args(&[
        "member",
        "revoke-guardian",
        "--from",
        "//Bob",
        "--member",
        &dev_address("Bob"),
    ]))
    .await);

    // A rekey, cancelled by the old key.
    let new_key = dev_address("Frank");
    ok(run(args(&[
        "member", "rekey", "--from", "//Alice", "--who", &dave, "--new", &new_key,
    ]))
    .await);
    let pending = ok(run(args(&["member", "show", &dave])).await);
    assert!(pending.contains("moving to new key"), "{pending}");
    ok(run(args(&[
        "member",
        "cancel-rekey",
        "--from",
        "//Dirk",
        "--who",
        &dave,
    ]))
    .await);

    // Suspension, reinstatement, removal.
    ok(run(args(&[
        "member", "suspend", "--from", "//Alice", "--who", &dave, "--reason", "test",
    ]))
    .await);
    assert!(ok(run(args(&["member", "show", &dave])).await).contains("SUSPENDED: test"));
    ok(run(args(&[
        "member",
        "reinstate",
        "--from",
        "//Alice",
        "--who",
        &dave,
    ]))
    .await);

    // A funder's earmark pays the merchant; a pool receives a gift and pays a member.
    ok(run(args(&[
        "earmark",
        "--from",
        "//Alice",
        "--to",
        &dave,
        "--amount",
        "4.00",
        "--categories",
        "food",
        "--label",
        "voeding",
    ]))
    .await);
    let account = json(&ok(run(args(&["--json", "balance", &dave])).await));
    assert_eq!(account["earmarked"][0]["amount"], "4.00", "{account}");
    ok(run(args(&[
        "send", "--from", "//Dirk", "--to", &eve, "--amount", "4.00",
    ]))
    .await);
    ok(run(args(&[
        "pool",
        "create",
        "--from",
        "//Alice",
        "--name",
        "zorg",
        "--monthly-cap",
        "10.00",
    ]))
    .await);
    let pool = ok(run(args(&["pool", "address", "zorg"])).await);
    ok(run(args(&[
        "gift",
        "--from",
        "//Bob",
        "--to",
        "pool:zorg",
        "--amount",
        "8.00",
    ]))
    .await);
    assert!(ok(run(args(&["balance", pool.trim()])).await).contains("balance 8.00"));
    ok(run(args(&[
        "pool", "pay", "--from", "//Alice", "--pool", "zorg", "--to", &dave, "--amount", "6.00",
    ]))
    .await);
    refused(
        run(args(&[
            "pool", "pay", "--from", "//Alice", "--pool", "zorg", "--to", &dave, "--amount", "5.00",
        ]))
        .await,
        "a month",
    );

    // A redemption owed, then paid by the exchange office.
    ok(run(args(&[
        "redeem",
        "--from",
        "//Els",
        "--amount",
        "4.00",
        "--payout-to",
        "NL91ABNA0417164300",
    ]))
    .await);
    let owed = ok(run(args(&["redemptions", "--owed"])).await);
    assert!(
        owed.contains("OWED") && owed.contains("owed in all: 4.00"),
        "{owed}"
    );
    let id = owed
        .lines()
        .find_map(|line| line.strip_prefix('#'))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    ok(run(args(&[
        "redemption",
        "pay",
        "--from",
        "//Alice",
        "--id",
        &id,
        "--bank-ref",
        "SEPA-1",
    ]))
    .await);
    assert!(ok(run(args(&["redemptions", "--owed"])).await).contains("owed in all: 0.00"));
    let supply = ok(run(args(&["supply"])).await);
    assert!(
        supply.contains("(balanced)") && supply.contains("redemptions owed 0.00"),
        "{supply}"
    );

    // Removal frees the tag.
    ok(run(args(&[
        "member",
        "remove",
        "--from",
        "//Alice",
        "--who",
        &dave,
        "--reason",
        "moved away",
    ]))
    .await);
    assert!(ok(run(args(&["member", "show", &dave])).await).contains("is not a member"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_is_checked_against_the_pinned_chain() {
    let Setup { url, wallet, .. } = &setup().await;
    let bob = dev_address("Bob");
    // First use: the wallet pins the chain and says it did.
    let proof = wijk(url, wallet, &["proof", &bob]).await;
    assert!(
        stderr(&proof).contains("on first use"),
        "{}",
        stderr(&proof)
    );
    let text = ok(proof);
    assert!(text.contains("balance 100.00"), "{text}");
    assert!(text.contains("verified here"), "{text}");
    let shown = ok(wijk(url, wallet, &["chain", "show"]).await);
    assert!(shown.contains("Wijk Dev"), "{shown}");
    assert!(shown.contains("trusted on first use"), "{shown}");

    // Pinned from the chain spec instead: the genesis is built from the spec here.
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../chain-specs/dev.json");
    let pinned = ok(wijk(url, wallet, &["chain", "pin", "--spec", spec]).await);
    assert!(pinned.contains("chain spec"), "{pinned}");
    let proof = json(&ok(wijk(url, wallet, &["--json", "proof", &bob]).await));
    assert_eq!(proof["verified"], true);
    assert_eq!(proof["balance"], "100.00");
    assert!(proof["trustedFrom"]
        .as_str()
        .unwrap()
        .contains("chain spec"));

    // A node of another chain is refused once a chain is pinned.
    let other_spec = {
        let mut spec = wijk_chain_spec::ChainSpec::dev();
        spec.genesis.system.timestamp_ms = 1;
        let path = wallet.join("other.json");
        std::fs::write(&path, spec.to_json()).unwrap();
        path
    };
    let other = tempfile::tempdir().unwrap();
    let mut spec = wijk_chain_spec::ChainSpec::load_file(other_spec.to_str().unwrap()).unwrap();
    spec.id = "wijk_other".into();
    let node = wijk_tests::start_node_of(other.path(), spec).await;
    let other_url = format!("http://{}", node.rpc_addr.unwrap());
    refused(
        wijk(&other_url, wallet, &["proof", &bob]).await,
        "the node serves chain",
    );

    let show = json(&ok(wijk(url, wallet, &["--json", "chain", "show"]).await));
    let pinned_genesis = show[0]["genesisHash"].as_str().unwrap().to_string();
    ok(wijk(url, wallet, &["chain", "forget", &pinned_genesis]).await);
    assert!(ok(wijk(url, wallet, &["chain", "show"]).await).contains("no chain pinned"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_offences_and_a_closed_output_pipe() {
    let Setup { url, wallet, .. } = &setup().await;
    let shown = ok(wijk(url, wallet, &["validators", "show"]).await);
    assert!(shown.contains("epoch 0"), "{shown}");
    assert!(shown.contains(&dev_address("Alice")), "{shown}");
    assert!(shown.contains("board"), "{shown}");
    refused(
        wijk(
            url,
            wallet,
            &[
                "validators",
                "schedule",
                "--from",
                "//Bob",
                "--set",
                &dev_address("Bob"),
                "--at",
                "100000",
            ],
        )
        .await,
        "only the members (by an enacted vote) may do this",
    );
    assert!(ok(wijk(url, wallet, &["offences"]).await).contains("no offences recorded"));

    // Two conflicting votes of the dev validator, reported by Bob, are recorded once.
    let alice = Keypair::dev("Alice");
    let genesis = wijk_client::Client::connect(url)
        .await
        .unwrap()
        .chain()
        .genesis_hash;
    let vote = |byte: u8| {
        let vote = wijk_primitives::Vote {
            view: 1_000_000,
            kind: wijk_primitives::VoteKind::Notarize {
                block: wijk_primitives::BlockRef {
                    hash: wijk_primitives::Hash([byte; 32]),
                    height: 5,
                    parent: wijk_primitives::Hash::ZERO,
                },
                parent_view: 999_999,
            },
        }
        .sign(&alice, genesis);
        format!(
            "0x{}",
            hex::encode(parity_scale_codec::Encode::encode(&vote))
        )
    };
    let (first, second) = (vote(1), vote(2));
    let reported = ok(wijk(
        url,
        wallet,
        &[
            "validators",
            "report-equivocation",
            "--from",
            "//Bob",
            "--first",
            &first,
            "--second",
            &second,
        ],
    )
    .await);
    assert!(
        reported.contains("validators.reportEquivocation"),
        "{reported}"
    );
    let offences = ok(wijk(url, wallet, &["offences"]).await);
    assert!(offences.contains("1 in all"), "{offences}");
    assert!(offences.contains(&dev_address("Alice")), "{offences}");
    refused(
        wijk(
            url,
            wallet,
            &[
                "validators",
                "report-equivocation",
                "--from",
                "//Bob",
                "--first",
                &first,
                "--second",
                &second,
            ],
        )
        .await,
        "already recorded",
    );

    // Whoever reads the output may stop early: the wallet ends quietly, no panic.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wijk"))
        .args(["--rpc", url, "--wallet-dir"])
        .arg(wallet)
        .args(["validators", "show"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_node_is_a_clear_error() {
    let wallet = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    refused(
        wijk(&url, wallet.path(), &["supply"]).await,
        "is wijk-node running?",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_propose_vote_delegate_and_the_decision_is_enacted() {
    let Setup { url, wallet, .. } = &setup().await;
    let (alice, dave) = (dev_address("Alice"), dev_address("Dave"));
    let board = ok(wijk(url, wallet, &["board"]).await);
    assert!(board.contains(&alice), "{board}");
    assert!(board.contains("stop a proposal in an emergency"), "{board}");

    let text = wallet.join("shorter-goal-votes.txt");
    std::fs::create_dir_all(wallet).unwrap();
    std::fs::write(&text, "Goal votes take ten blocks.").unwrap();
    let proposed = ok(wijk(
        url,
        wallet,
        &[
            "propose",
            "--from",
            "//Bob",
            "--title",
            "Shorter goal votes",
            "--text",
            text.to_str().unwrap(),
            "track",
            "--kind",
            "goal",
            "--quorum-per-mille",
            "100",
            "--approval-per-mille",
            "500",
            "--voting-blocks",
            "10",
            "--enactment-blocks",
            "1",
        ],
    )
    .await);
    assert!(proposed.contains("governance.propose"), "{proposed}");
    // Without a text there is nothing for members to read: refused before anything is sent.
    refused(
        wijk(
            url,
            wallet,
            &[
                "propose",
                "--from",
                "//Bob",
                "--title",
                "t",
                "remove-board-member",
                &alice,
            ],
        )
        .await,
        "give the proposal's full text",
    );
    for (who, choice) in [("//Alice", "yes"), ("//Bob", "yes"), ("//Charlie", "no")] {
        ok(wijk(url, wallet, &["vote", "0", choice, "--from", who]).await);
    }
    ok(wijk(url, wallet, &["delegate", &alice, "--from", "//Dave"]).await);
    refused(
        wijk(url, wallet, &["vote", "0", "perhaps", "--from", "//Eve"]).await,
        "say yes, no or abstain",
    );
    let shown = ok(wijk(url, wallet, &["proposal", "0", "--member", &dave]).await);
    assert!(shown.contains("yes 3 / no 1 / abstain 0"), "{shown}");
    assert!(
        shown.contains(&format!("counted as yes through {alice}")),
        "{shown}"
    );
    assert!(shown.contains("the same tally"), "{shown}");
    let listed = ok(wijk(url, wallet, &["proposals"]).await);
    assert!(
        listed.contains("#0 [parameter] Shorter goal votes"),
        "{listed}"
    );
    let delegations = ok(wijk(url, wallet, &["delegations", &dave]).await);
    assert!(
        delegations.contains(&format!("delegates all to {alice}")),
        "{delegations}"
    );

    // Voting closes after 30 blocks, the change takes effect 5 blocks later.
    let detail = json(&ok(wijk(url, wallet, &["--json", "proposal", "0"]).await));
    let closes_at = detail["proposal"]["closesAt"].as_u64().unwrap();
    wijk_tests::wait_finalized(url, closes_at + 6, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let detail = json(&ok(wijk(url, wallet, &["--json", "proposal", "0"]).await));
    assert_eq!(
        detail["proposal"]["status"]["status"], "enacted",
        "{detail}"
    );
    let shown = ok(wijk(url, wallet, &["proposal", "0"]).await);
    assert!(shown.contains("enacted in block"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_claims_hours_a_verifier_attests_and_the_funders_budget_pays_once_funded() {
    let Setup { url, wallet, .. } = &setup().await;
    let bob = dev_address("Bob");
    let listed = ok(wijk(url, wallet, &["activity", "list"]).await);
    assert!(
        listed.contains("an hour of neighbourhood help — 2.50 WIJK per hour"),
        "{listed}"
    );
    let evidence = wallet.join("sheet.txt");
    std::fs::create_dir_all(wallet).unwrap();
    std::fs::write(&evidence, "Bob helped at the repair café, signed: Alice").unwrap();
    let claim = |units: &'static str| {
        let evidence = evidence.to_str().unwrap().to_string();
        async move {
            wijk(
                url,
                wallet,
                &[
                    "activity",
                    "claim",
                    "--from",
                    "//Bob",
                    "--activity",
                    "0",
                    "--units",
                    units,
                    "--evidence",
                    &evidence,
                ],
            )
            .await
        }
    };
    ok(claim("3").await);
    // The budget is empty: the attestation stands and the claim waits for funds.
    ok(wijk(
        url,
        wallet,
        &["activity", "attest", "0", "--from", "//Alice"],
    )
    .await);
    let waiting = ok(wijk(url, wallet, &["activity", "claims", "--open"]).await);
    assert!(waiting.contains("waiting for funds"), "{waiting}");
    refused(
        wijk(url, wallet, &["activity", "pay", "0", "--from", "//Bob"]).await,
        "no budget for activity 0 holds 7.50",
    );
    let shown = ok(wijk(url, wallet, &["budget", "show"]).await);
    assert!(
        shown.contains("1 attested claim(s) wait for 7.50"),
        "{shown}"
    );
    ok(wijk(
        url,
        wallet,
        &["budget", "fund", "0", "100.00", "--from", "//Alice"],
    )
    .await);
    let before = json(&ok(wijk(url, wallet, &["--json", "balance", &bob]).await));
    ok(wijk(url, wallet, &["activity", "pay", "0", "--from", "//Bob"]).await);
    let after = json(&ok(wijk(url, wallet, &["--json", "balance", &bob]).await));
    let cents = |account: &serde_json::Value| {
        account["balanceCents"]
            .as_str()
            .unwrap()
            .parse::<u128>()
            .unwrap()
    };
    assert_eq!(cents(&after), cents(&before) + 750);
    // Paid once; a rejection says why.
    refused(
        wijk(
            url,
            wallet,
            &["activity", "attest", "0", "--from", "//Alice"],
        )
        .await,
        "is paid",
    );
    ok(claim("2").await);
    ok(wijk(
        url,
        wallet,
        &[
            "activity",
            "reject",
            "1",
            "--reason",
            "no signed sheet",
            "--from",
            "//Alice",
        ],
    )
    .await);
    let mine = ok(wijk(url, wallet, &["activity", "claims", "--participant", &bob]).await);
    assert!(mine.contains("rejected by"), "{mine}");
    assert!(mine.contains("no signed sheet"), "{mine}");
    assert!(mine.contains("paid from budget 0"), "{mine}");
    let shown = ok(wijk(url, wallet, &["budget", "show"]).await);
    assert!(
        shown.contains("92.50 WIJK left of 100.00 put in; 7.50 paid out"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_is_bought_into_escrow_confirmed_disputed_and_resolved_from_the_wallet() {
    let Setup { url, wallet, .. } = &setup().await;
    let (bob, charlie) = (dev_address("Bob"), dev_address("Charlie"));
    let cents = |address: &str| {
        let address = address.to_string();
        async move {
            json(&ok(
                wijk(url, wallet, &["--json", "balance", &address]).await
            ))["balanceCents"]
                .as_str()
                .unwrap()
                .parse::<u128>()
                .unwrap()
        }
    };
    ok(wijk(
        url,
        wallet,
        &[
            "offer",
            "Bike repair",
            "--category",
            "repairs",
            "--price",
            "15",
            "--per-hour",
            "--at",
            "51.0620,3.7100",
            "--from",
            "//Bob",
        ],
    )
    .await);
    let near = ok(wijk(url, wallet, &["offers", "--near", "51.0610,3.7130"]).await);
    assert!(near.contains("Bike repair — 15.00 WIJK an hour"), "{near}");
    assert!(near.contains("m away"), "{near}");
    // Hours are needed for a price per hour; the buyer's coins go into escrow.
    refused(
        wijk(url, wallet, &["accept", "0", "--from", "//Charlie"]).await,
        "must say how many hours",
    );
    let (bob_before, charlie_before) = (cents(&bob).await, cents(&charlie).await);
    ok(wijk(
        url,
        wallet,
        &["accept", "0", "--hours", "2", "--from", "//Charlie"],
    )
    .await);
    assert_eq!(cents(&charlie).await, charlie_before - 3_000);
    refused(
        wijk(url, wallet, &["complete", "0", "--from", "//Bob"]).await,
        "is not the buyer of deal 0",
    );
    ok(wijk(url, wallet, &["start", "0", "--from", "//Bob"]).await);
    ok(wijk(url, wallet, &["complete", "0", "--from", "//Charlie"]).await);
    assert_eq!(cents(&bob).await, bob_before + 3_000);
    refused(
        wijk(url, wallet, &["complete", "0", "--from", "//Charlie"]).await,
        "is completed",
    );
    // A second deal, disputed and split by an intermediary with no stake in it.
    ok(wijk(
        url,
        wallet,
        &["accept", "0", "--hours", "1", "--from", "//Charlie"],
    )
    .await);
    refused(
        wijk(
            url,
            wallet,
            &["dispute", "1", "--reason", "meddling", "--from", "//Dave"],
        )
        .await,
        "is not a party of deal 1",
    );
    ok(wijk(
        url,
        wallet,
        &[
            "dispute",
            "1",
            "--reason",
            "only half done",
            "--from",
            "//Charlie",
        ],
    )
    .await);
    ok(wijk(
        url,
        wallet,
        &[
            "resolve",
            "1",
            "--to-sellers",
            "5.00",
            "--reason",
            "a third was done",
            "--from",
            "//Alice",
        ],
    )
    .await);
    let deal = ok(wijk(url, wallet, &["deal", "1"]).await);
    assert!(
        deal.contains("5.00 to the sellers, 10.00 back to the buyer — a third was done"),
        "{deal}"
    );
    assert_eq!(cents(&charlie).await, charlie_before - 3_000 - 500);
    let deals = ok(wijk(url, wallet, &["deals", &charlie]).await);
    assert!(
        deals.contains("the market holds 0.00 WIJK in escrow"),
        "{deals}"
    );
    ok(wijk(url, wallet, &["unlist", "0", "--from", "//Bob"]).await);
    assert!(ok(wijk(url, wallet, &["offers"]).await).contains("no open offers"));
}
