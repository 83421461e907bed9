//! `wijk`: the command-line wallet. Talks to a node over JSON-RPC through `wijk-client`;
//! keys never leave this process (transactions are signed here and only the signed bytes
//! are sent).
//!
//! Owns: key handling for users (phrases, keystore files), the chains this wallet trusts
//! (pinned genesis and light-client state, in the wallet's folder), and showing chain data
//! in plain words. Each pallet's subcommands live in their own module under [`commands`].
//! Must never: trust the node for anything it can check itself (proofs and finality are
//! verified here, against the pinned chain), or print with a macro that panics when the
//! output pipe closes (`wijk validators show | head -3`).
#![deny(clippy::print_stdout)]

mod commands;
mod describe;
mod keys;
mod output;
mod store;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The wijk wallet: accounts, balances, payments, minting and redemption, proofs.
#[derive(Debug, Parser)]
#[command(name = "wijk", version, about)]
pub(crate) struct Cli {
    /// The node's JSON-RPC address.
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:9944",
        env = "WIJK_RPC"
    )]
    rpc: String,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The wallet's folder: the chains it trusts (default `~/.wijk`).
    #[arg(long, global = true, env = "WIJK_HOME")]
    wallet_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create or inspect keys.
    #[command(subcommand)]
    Account(commands::account::AccountCommand),
    /// The chains this wallet trusts: pin one from its chain spec, show, forget.
    #[command(subcommand)]
    Chain(commands::chain::ChainCommand),
    #[command(flatten)]
    System(commands::system::SystemCommand),
    #[command(flatten)]
    Coin(commands::coin::CoinCommand),
    #[command(flatten)]
    Governance(commands::governance::GovernanceCommand),
    #[command(flatten)]
    Market(commands::market::MarketCommand),
    /// Valued activities: the catalogue, claims for work done, attestations, payouts.
    #[command(subcommand)]
    Activity(commands::activities::ActivityCommand),
    /// Funders' budgets for activities: open, fund, take back, show.
    #[command(subcommand)]
    Budget(commands::activities::BudgetCommand),
    /// Members: register, rekey a lost phone, guardians, suspension, show, registration tags.
    #[command(subcommand)]
    Member(commands::membership::MemberCommand),
    /// Members a page at a time, optionally only those holding a role.
    Members {
        /// Only members with this role (resident, merchant, exchange-office, ...).
        #[arg(long)]
        role: Option<String>,
        /// Continue after this address (the `more:` line of the previous page).
        #[arg(long)]
        after: Option<String>,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Merchants and where they trade; "offers near me" with --near.
    Merchants {
        /// LAT,LON in decimal degrees: nearest first.
        #[arg(long)]
        near: Option<String>,
        /// With --near: only merchants within this many metres.
        #[arg(long)]
        radius_m: Option<u64>,
        /// Only this category.
        #[arg(long)]
        category: Option<String>,
    },
    /// The wijk's region and whether the coin is local-only.
    Region,
    /// The wijk's figures per period: GDP, money, velocity, members, activities, deals.
    Stats(commands::stats::StatsArgs),
    /// The cooperative's SMART goals and each period's progress against its line.
    Goals {
        /// Also retired goals.
        #[arg(long)]
        retired: bool,
    },
    /// Set or retire a goal (the board).
    #[command(subcommand)]
    Goal(commands::stats::GoalCommand),
    /// The validator set: who finalizes blocks now, and any scheduled change.
    #[command(subcommand)]
    Validators(commands::validators::ValidatorsCommand),
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

/// What every command runs with.
pub(crate) struct Context {
    rpc: String,
    json: bool,
    wallet_dir: PathBuf,
    /// The address prefix of the node's chain, once connected: errors name accounts by
    /// their addresses of that chain.
    address_prefix: std::sync::OnceLock<u16>,
}

impl Context {
    /// A connection to the node.
    pub(crate) async fn client(&self) -> anyhow::Result<wijk_client::Client> {
        let client = wijk_client::Client::connect(&self.rpc).await?;
        let _ = self.address_prefix.set(client.chain().address_prefix);
        Ok(client)
    }

    /// Whether to print JSON.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// The store of trusted chains.
    pub(crate) fn store(&self) -> store::Store {
        store::Store::new(&self.wallet_dir)
    }
}

fn default_wallet_dir() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".wijk"),
        None => PathBuf::from(".wijk"),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let context = Context {
        rpc: cli.rpc,
        json: cli.json,
        wallet_dir: cli.wallet_dir.unwrap_or_else(default_wallet_dir),
        address_prefix: std::sync::OnceLock::new(),
    };
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
    let result = runtime.block_on(async {
        match cli.command {
            Command::Account(command) => commands::account::run(&context, command).await,
            Command::Chain(command) => commands::chain::run(&context, command).await,
            Command::System(command) => commands::system::run(&context, command).await,
            Command::Coin(command) => commands::coin::run(&context, command).await,
            Command::Governance(command) => commands::governance::run(&context, command).await,
            Command::Market(command) => commands::market::run(&context, command).await,
            Command::Stats(args) => commands::stats::stats(&context, args).await,
            Command::Goals { retired } => commands::stats::goals(&context, retired).await,
            Command::Goal(command) => commands::stats::goal(&context, command).await,
            Command::Validators(command) => commands::validators::run(&context, command).await,
            Command::Activity(command) => commands::activities::run(&context, command).await,
            Command::Budget(command) => commands::activities::run_budget(&context, command).await,
            Command::Member(command) => commands::membership::run(&context, command).await,
            Command::Members { role, after, limit } => {
                commands::membership::list(&context, role, after, limit).await
            }
            Command::Merchants {
                near,
                radius_m,
                category,
            } => commands::geo::merchants(&context, near, radius_m, category).await,
            Command::Region => commands::geo::region(&context).await,
            Command::Offences { from, limit } => {
                commands::validators::offences(&context, from, limit).await
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // Whoever reads our output stopped reading (`| head`): that is not an error.
        Err(error) if output::is_closed_pipe(&error) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let text = match context.address_prefix.get() {
                Some(prefix) => {
                    wijk_primitives::json::with_address_prefix(*prefix, || format!("{error:#}"))
                }
                None => format!("{error:#}"),
            };
            eprintln!("Error: {text}");
            std::process::ExitCode::FAILURE
        }
    }
}
