//! `wijk`: the command-line wallet. Talks to a node over JSON-RPC; keys never leave this
//! process (transactions are signed here and only the signed bytes are sent).
//!
//! Owns: key handling for users (phrases, keystore files), building and signing
//! transactions, and showing chain data in plain words.
//! Must never: trust the node for anything it can check itself (proofs are verified
//! locally against the finalized state root).

mod client;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use client::Client;
use serde_json::{json, Value};
use std::path::PathBuf;
use wijk_coin::Call as CoinCall;
use wijk_primitives::{parse_cents, Address, Keypair};
use wijk_runtime::RuntimeCall;

/// The wijk wallet: accounts, balances, payments, minting and redemption.
#[derive(Debug, Parser)]
#[command(name = "wijk", version, about)]
struct Cli {
    /// The node's JSON-RPC address.
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:9944",
        env = "WIJK_RPC"
    )]
    rpc: String,
    /// Print raw JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create or inspect keys.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Show the balance and nonce of an address.
    Balance {
        /// The address.
        address: String,
    },
    /// Pay (or give) coins to someone; waits until the payment is final.
    Send {
        /// Your secret: recovery phrase, //Name (dev), 0x seed, or file:PATH of a keystore file.
        #[arg(long)]
        from: String,
        /// The recipient's address.
        #[arg(long)]
        to: String,
        /// Amount in euros, e.g. 12.50.
        #[arg(long)]
        amount: String,
        /// Return once the node accepted it instead of waiting for finality. Payments sent
        /// one after another this way get consecutive nonces (the node counts the ones in
        /// its pool).
        #[arg(long)]
        no_wait: bool,
    },
    /// Issuer only: mint coins against a euro deposit.
    Mint {
        /// The issuer's secret.
        #[arg(long)]
        from: String,
        /// Who receives the coins.
        #[arg(long)]
        to: String,
        /// Amount in euros deposited.
        #[arg(long)]
        amount: String,
        /// The deposit's reference (bank transfer id); each can be used once.
        #[arg(long)]
        deposit_ref: String,
    },
    /// Redeem coins for euros (they are burned; the receipt is the transaction).
    Redeem {
        /// Your secret.
        #[arg(long)]
        from: String,
        /// Amount in euros.
        #[arg(long)]
        amount: String,
    },
    /// Total supply and the euro reserve (they must be equal).
    Supply,
    /// An address's transactions, newest first.
    History {
        /// The address.
        address: String,
        /// Entries per page.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Continue from this cursor (printed at the end of a page).
        #[arg(long)]
        before: Option<String>,
    },
    /// Show one transaction.
    Tx {
        /// Its hash.
        hash: String,
    },
    /// Check an address's balance with a Merkle proof against the finalized state root,
    /// without trusting the node's answer.
    Proof {
        /// The address.
        address: String,
    },
    /// The validator set: who finalizes blocks now, and any scheduled change.
    #[command(subcommand)]
    Validators(ValidatorsCommand),
    /// Equivocations (a validator signing two conflicting votes) recorded on chain.
    Offences {
        /// The first offence to show (0 is the oldest).
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
}

#[derive(Debug, Subcommand)]
enum ValidatorsCommand {
    /// Show the current set, its epoch and quorum, the admin, and any scheduled change.
    Show,
    /// Validator admin only: from height --at on, blocks are certified by --set.
    Schedule {
        /// The admin's secret.
        #[arg(long)]
        from: String,
        /// The new set's addresses, in leader order, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        set: Vec<String>,
        /// The first height the new set certifies (at least 2 blocks ahead).
        #[arg(long)]
        at: u64,
    },
    /// Submit evidence that a validator signed two conflicting votes (each the 0x SCALE
    /// encoding of a signed vote); anyone may.
    ReportEquivocation {
        /// Your secret (the reporter).
        #[arg(long)]
        from: String,
        /// One signed vote, 0x hex.
        #[arg(long)]
        first: String,
        /// The conflicting signed vote, 0x hex.
        #[arg(long)]
        second: String,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create a new account: prints its recovery phrase and address.
    New {
        /// Also save the key to this keystore file (readable by you only).
        #[arg(long)]
        save: Option<PathBuf>,
        /// Address prefix (default: ask the node; 42 when offline).
        #[arg(long)]
        prefix: Option<u16>,
    },
    /// Show the address of a secret.
    Inspect {
        /// Phrase, //Name, 0x seed or file:PATH.
        secret: String,
        /// Address prefix.
        #[arg(long)]
        prefix: Option<u16>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Error: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Reads a secret: a keystore file (`file:PATH`) or a secret URI.
fn load_key(secret: &str) -> anyhow::Result<Keypair> {
    if let Some(path) = secret.strip_prefix("file:") {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read keystore {path}"))?;
        let stored: Value = serde_json::from_str(&text)
            .with_context(|| format!("{path} is not a keystore file"))?;
        let phrase = stored["secretPhrase"]
            .as_str()
            .with_context(|| format!("{path} has no secretPhrase"))?;
        return Ok(Keypair::from_secret_uri(phrase)?);
    }
    Ok(Keypair::from_secret_uri(secret)?)
}

fn print(cli_json: bool, value: &Value, text: impl FnOnce(&Value) -> String) {
    if cli_json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        println!("{}", text(value));
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let client = Client::new(&cli.rpc);
    match cli.command {
        Command::Account(AccountCommand::New { save, prefix }) => {
            let prefix = match prefix {
                Some(prefix) => prefix,
                None => client
                    .chain_info()
                    .await
                    .map(|i| i.address_prefix)
                    .unwrap_or(42),
            };
            let mut entropy = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut entropy);
            let (phrase, pair) = Keypair::mnemonic_from_entropy(&entropy)?;
            let address = Address {
                prefix,
                account: pair.account_id(),
            }
            .to_string();
            if let Some(path) = save {
                write_keystore(&path, &phrase, &address)?;
                println!(
                    "Saved to:       {} (use --from file:{})",
                    path.display(),
                    path.display()
                );
            }
            println!("Secret phrase:  {phrase}");
            println!("Address:        {address}");
            println!("Write the phrase down and keep it private: it is the only way to recover the account.");
        }
        Command::Account(AccountCommand::Inspect { secret, prefix }) => {
            let pair = load_key(&secret)?;
            let prefix = match prefix {
                Some(prefix) => prefix,
                None => client
                    .chain_info()
                    .await
                    .map(|i| i.address_prefix)
                    .unwrap_or(42),
            };
            println!("Address:        {}", pair.account_id().address(prefix));
            println!("Public key:     0x{}", hex::encode(pair.account_id().0));
        }
        Command::Balance { address } => {
            let account = client.request("wijk_account", json!([address])).await?;
            print(cli.json, &account, |a| {
                format!(
                    "{}  balance {} ({} transactions sent)",
                    a["address"].as_str().unwrap_or(""),
                    a["balance"].as_str().unwrap_or("?"),
                    a["nonce"]
                )
            });
        }
        Command::Send {
            from,
            to,
            amount,
            no_wait,
        } => {
            let info = client.chain_info().await?;
            let to = Address::parse(&to, info.address_prefix)?;
            let call = RuntimeCall::Coin(CoinCall::Transfer {
                to,
                amount: parse_cents(&amount)?,
            });
            submit(&client, &info, &load_key(&from)?, call, !no_wait, cli.json).await?;
        }
        Command::Mint {
            from,
            to,
            amount,
            deposit_ref,
        } => {
            let info = client.chain_info().await?;
            let to = Address::parse(&to, info.address_prefix)?;
            let call = RuntimeCall::Coin(CoinCall::Mint {
                to,
                amount: parse_cents(&amount)?,
                deposit_ref: deposit_ref.into_bytes(),
            });
            submit(&client, &info, &load_key(&from)?, call, true, cli.json).await?;
        }
        Command::Redeem { from, amount } => {
            let info = client.chain_info().await?;
            let call = RuntimeCall::Coin(CoinCall::Redeem {
                amount: parse_cents(&amount)?,
            });
            submit(&client, &info, &load_key(&from)?, call, true, cli.json).await?;
        }
        Command::Supply => {
            let supply = client.request("wijk_supply", json!([])).await?;
            print(cli.json, &supply, |s| {
                format!(
                    "total supply {}  euro reserve {}  {}",
                    s["total_supply"].as_str().unwrap_or("?"),
                    s["euro_reserve"].as_str().unwrap_or("?"),
                    if s["balanced"] == json!(true) {
                        "(balanced)"
                    } else {
                        "(NOT BALANCED: report this)"
                    }
                )
            });
        }
        Command::History {
            address,
            limit,
            before,
        } => {
            let page = client
                .request("wijk_history", json!([address, limit, before]))
                .await?;
            print(cli.json, &page, |page| {
                let mut lines: Vec<String> = page["entries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(client::describe_transaction)
                    .collect();
                if lines.is_empty() {
                    lines.push("no transactions".into());
                }
                if let Some(next) = page["next"].as_str() {
                    lines.push(format!("more: --before {next}"));
                }
                lines.join("\n")
            });
        }
        Command::Tx { hash } => {
            let tx = client.request("wijk_transaction", json!([hash])).await?;
            if tx.is_null() {
                bail!("no final transaction with hash {hash} (it may still be pending)");
            }
            print(cli.json, &tx, client::describe_transaction);
        }
        Command::Proof { address } => client::prove_balance(&client, &address, cli.json).await?,
        Command::Validators(ValidatorsCommand::Show) => {
            let set = client.request("wijk_validators", json!([])).await?;
            print(cli.json, &set, |set| {
                let names = |list: &Value| -> String {
                    list.as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| format!("  {}", v.as_str().unwrap_or("?")))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                let mut text = format!(
                    "epoch {} at block #{}: {} validators, {} signatures finalize a block\n{}\nboard (may change the set):\n{}\noffences recorded: {}",
                    set["epoch"],
                    set["atBlock"],
                    set["validators"].as_array().map_or(0, |v| v.len()),
                    set["quorum"],
                    names(&set["validators"]),
                    names(&set["board"]),
                    set["offences"],
                );
                if !set["scheduled"].is_null() {
                    text.push_str(&format!(
                        "\nscheduled from block #{}:\n{}",
                        set["scheduled"]["activatesAt"],
                        names(&set["scheduled"]["validators"])
                    ));
                }
                text
            });
        }
        Command::Validators(ValidatorsCommand::Schedule { from, set, at }) => {
            let info = client.chain_info().await?;
            let validators = set
                .iter()
                .map(|address| Address::parse(address.trim(), info.address_prefix))
                .collect::<Result<Vec<_>, _>>()?;
            let call = RuntimeCall::Validators(wijk_validators::Call::ScheduleChange {
                validators,
                activates_at: at,
            });
            submit(&client, &info, &load_key(&from)?, call, true, cli.json).await?;
        }
        Command::Validators(ValidatorsCommand::ReportEquivocation {
            from,
            first,
            second,
        }) => {
            let info = client.chain_info().await?;
            let vote = |text: &str| -> anyhow::Result<wijk_primitives::SignedVote> {
                let bytes =
                    hex::decode(text.trim_start_matches("0x")).context("a vote must be 0x hex")?;
                Ok(wijk_primitives::decode_bounded(
                    "signed vote",
                    &bytes,
                    1024,
                )?)
            };
            let call = RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
                first: Box::new(vote(&first)?),
                second: Box::new(vote(&second)?),
            });
            submit(&client, &info, &load_key(&from)?, call, true, cli.json).await?;
        }
        Command::Offences { from, limit } => {
            let page = client
                .request("wijk_offences", json!([from, limit]))
                .await?;
            print(cli.json, &page, |page| {
                let mut lines: Vec<String> = page["offences"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| {
                        format!(
                            "{} signed conflicting {} and {} votes in view {} (epoch {}); reported by {}, recorded in block #{}",
                            o["offender"].as_str().unwrap_or("?"),
                            o["first"]["kind"].as_str().unwrap_or("?"),
                            o["second"]["kind"].as_str().unwrap_or("?"),
                            o["view"],
                            o["epoch"],
                            o["reporter"].as_str().unwrap_or("?"),
                            o["recordedAt"],
                        )
                    })
                    .collect();
                if lines.is_empty() {
                    lines.push("no offences recorded".into());
                }
                lines.push(format!("{} in all", page["count"]));
                lines.join("\n")
            });
        }
    }
    Ok(())
}

fn write_keystore(path: &std::path::Path, phrase: &str, address: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (does it exist already?)", path.display()))?;
    let stored = json!({ "address": address, "secretPhrase": phrase, "scheme": "bip39+blake3-hard-junctions/ed25519" });
    writeln!(file, "{}", serde_json::to_string_pretty(&stored)?)?;
    Ok(())
}

async fn submit(
    client: &Client,
    info: &client::ChainInfo,
    key: &Keypair,
    call: RuntimeCall,
    wait: bool,
    json_output: bool,
) -> anyhow::Result<()> {
    let signer = Address {
        prefix: info.address_prefix,
        account: key.account_id(),
    }
    .to_string();
    let account = client.request("wijk_account", json!([signer])).await?;
    // Counting this account's payments still waiting in the pool: the last one sent with
    // --no-wait may not be final yet, and signing its nonce again would get this refused.
    let nonce = client
        .request("author_nextNonce", json!([signer]))
        .await?
        .as_u64()
        .context("node returned no nonce")?;
    let height = account["atBlock"].as_u64().unwrap_or(0);
    // Valid for about ten minutes at one block a second; long enough for a slow network,
    // short enough that a stuck payment cannot surface much later.
    let valid_until = height + 600;
    let tx =
        wijk_runtime::Transaction::sign(key, &info.signing_context(), nonce, valid_until, call);
    let hash = tx.hash();
    use parity_scale_codec::Encode;
    let encoded = format!("0x{}", hex::encode(tx.encode()));
    if !wait {
        let accepted = client
            .request("author_submitTransaction", json!([encoded]))
            .await?;
        println!("accepted {}", accepted.as_str().unwrap_or(&hash.to_hex()));
        return Ok(());
    }
    let block_hash = client.submit_and_watch(&encoded).await?;
    let final_tx = client
        .request("wijk_transaction", json!([hash.to_hex()]))
        .await?;
    print(json_output, &final_tx, |tx| {
        format!(
            "final in block #{} ({block_hash})\n{}",
            tx["blockNumber"],
            client::describe_transaction(tx)
        )
    });
    if final_tx["outcome"]["success"] == json!(false) {
        bail!(
            "the transaction is final but its call failed: {}",
            final_tx["outcome"]["error"].as_str().unwrap_or("?")
        );
    }
    Ok(())
}
