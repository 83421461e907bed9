//! The command line, following Substrate node conventions.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// A wijk-chain node: a permissioned chain for a neighbourhood's euro-pegged social coin.
#[derive(Debug, Parser)]
#[command(name = "wijk-node", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    #[command(flatten)]
    pub(crate) run: RunArgs,
}

/// Which chain and where its data lives; shared by every command that opens a database.
#[derive(Debug, Args, Clone)]
pub(crate) struct ChainArgs {
    /// Development chain: one validator (//Alice), blocks final at once, data in a temporary
    /// folder unless --base-path is given. Implies --validator with the //Alice key.
    #[arg(long, global = true)]
    pub(crate) dev: bool,

    /// The chain: `dev`, `local`, or the path of a chain spec JSON file.
    #[arg(long, value_name = "CHAIN", global = true)]
    pub(crate) chain: Option<String>,

    /// Folder for the node's data (database under chains/<id>/db).
    #[arg(long, short = 'd', value_name = "PATH", global = true)]
    pub(crate) base_path: Option<PathBuf>,
}

/// Options for running the node.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) chain: ChainArgs,

    /// Author blocks as a validator (needs --key unless --dev).
    #[arg(long)]
    pub(crate) validator: bool,

    /// The validator's secret: a BIP39 phrase, //Name for dev keys, or 0x seed.
    #[arg(
        long,
        value_name = "SECRET",
        env = "WIJK_VALIDATOR_KEY",
        hide_env_values = true
    )]
    pub(crate) key: Option<String>,

    /// JSON-RPC port (HTTP and WebSocket).
    #[arg(long, default_value_t = 9944)]
    pub(crate) rpc_port: u16,

    /// Listen for JSON-RPC on all interfaces instead of 127.0.0.1 only.
    #[arg(long)]
    pub(crate) rpc_external: bool,

    /// Most concurrent JSON-RPC connections.
    #[arg(long, default_value_t = 100)]
    pub(crate) rpc_max_connections: u32,

    /// Most concurrent JSON-RPC connections from one client address (raise it behind a
    /// reverse proxy, where every client shares one address).
    #[arg(long, default_value_t = 25)]
    pub(crate) rpc_max_connections_per_ip: u32,

    /// Largest JSON-RPC request, in KiB.
    #[arg(long, default_value_t = 512)]
    pub(crate) rpc_max_request_kib: u32,

    /// Most subscriptions per WebSocket connection.
    #[arg(long, default_value_t = 64)]
    pub(crate) rpc_max_subscriptions: u32,

    /// Peer-to-peer TCP port. Default 30333; with --dev the node runs alone unless --port
    /// is given.
    #[arg(long)]
    pub(crate) port: Option<u16>,

    /// Listen for peers on all interfaces instead of 127.0.0.1 only.
    #[arg(long)]
    pub(crate) p2p_external: bool,

    /// Peers to connect to at start, as multiaddrs
    /// (`/ip4/127.0.0.1/tcp/30333/p2p/12D3Koo...`), in addition to the chain spec's.
    #[arg(long, value_name = "MULTIADDR", num_args = 1..)]
    pub(crate) bootnodes: Vec<String>,

    /// The node's network key: 64 hex characters, or //Name for a well-known dev key.
    /// Default: the file network/node_key in the chain's folder (created if missing).
    #[arg(
        long,
        value_name = "KEY",
        env = "WIJK_NODE_KEY",
        hide_env_values = true
    )]
    pub(crate) node_key: Option<String>,

    /// Run without the peer-to-peer network (a single validator, or an offline copy).
    #[arg(long)]
    pub(crate) no_network: bool,

    /// Serve Prometheus metrics on this port (`/metrics`); off unless given.
    #[arg(long)]
    pub(crate) prometheus_port: Option<u16>,

    /// Serve metrics on all interfaces instead of 127.0.0.1 only.
    #[arg(long)]
    pub(crate) prometheus_external: bool,

    /// Most peer connections.
    #[arg(long, default_value_t = 64)]
    pub(crate) max_peers: u32,

    /// Time between blocks in milliseconds (50 or more); defaults to the chain spec's.
    #[arg(long, value_parser = clap::value_parser!(u64).range(50..))]
    pub(crate) block_time_ms: Option<u64>,

    /// Log filter, e.g. `info` or `info,author=debug,txpool=debug`.
    #[arg(long, short = 'l', default_value = "info")]
    pub(crate) log: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Key management.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Print a chain specification as JSON.
    ExportChainSpec {
        /// Number of validators for `--chain local`.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Number of allowed full nodes (//Full1, //Full2...) for `--chain local`.
        #[arg(long, default_value_t = 0)]
        full_nodes: usize,
    },
    /// Write the finalized blocks, with their certificates, to a file.
    ExportBlocks {
        /// The file to write.
        #[arg(long, short = 'o')]
        output: PathBuf,
        /// First height (default 1).
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// Last height (default: the finalized head).
        #[arg(long)]
        to: Option<u64>,
    },
    /// Import blocks from a file: every certificate checked, every block re-executed and its
    /// roots compared before it is committed.
    ImportBlocks {
        /// The file to read.
        #[arg(long, short = 'i')]
        input: PathBuf,
    },
    /// Audit finality with nothing but the chain spec: every certificate against the
    /// validator set, every parent link back to the spec's genesis, every body against its
    /// header. Reads a block file (--input) or this node's database.
    VerifyCertificates {
        /// A block file made by export-blocks (default: the database at --base-path).
        #[arg(long, short = 'i')]
        input: Option<PathBuf>,
    },
    /// Delete the chain's database.
    PurgeChain {
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Generate a new key: prints a 12-word recovery phrase and its address.
    Generate {
        /// Address prefix to show the address with.
        #[arg(long, default_value_t = 42)]
        prefix: u16,
    },
    /// Generate a node (network) key: writes it to --file (never overwriting) or prints
    /// it, and prints its peer id - the id a chain spec's allowedNodes lists.
    GenerateNodeKey {
        /// Where to write the key (e.g. BASE/chains/ID/network/node_key).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Print the peer id of a node key (a key file, 64 hex characters, or //Name).
    InspectNodeKey {
        /// The key file.
        #[arg(long, conflicts_with = "key")]
        file: Option<PathBuf>,
        /// The key itself.
        key: Option<String>,
    },
    /// Show the address and public key of a secret (phrase, //Name or 0x seed).
    Inspect {
        /// The secret.
        secret: String,
        /// Address prefix.
        #[arg(long, default_value_t = 42)]
        prefix: u16,
    },
}
