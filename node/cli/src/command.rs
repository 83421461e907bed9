//! Carrying out each command.

use crate::cli::{ChainArgs, Cli, Command, KeyCommand, RunArgs};
use anyhow::{bail, Context};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Instant;
use wijk_primitives::{Address, Keypair, SigningContext};
use wijk_rpc::RpcConfig;
use wijk_runtime::state_tree::MemoryTree;
use wijk_runtime::{build_genesis, SPEC_VERSION};
use wijk_service::{
    BlockFileReader, BlockFileWriter, ChainSpec, NetworkSettings, NodeConfig, NodeKey,
};
use wijk_storage::Storage;

pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => run_node(cli.run),
        Some(Command::Key(command)) => key(command),
        Some(Command::ExportChainSpec {
            validators,
            full_nodes,
        }) => {
            let spec = match cli.run.chain.chain.as_deref() {
                Some("local") => wijk_service::chain_spec::local(validators, full_nodes),
                Some(name) => wijk_service::chain_spec::load(name)?,
                None => ChainSpec::dev(),
            };
            print!("{}", spec.to_json());
            Ok(())
        }
        Some(Command::ExportBlocks { output, from, to }) => {
            export_blocks(&cli.run.chain, output, from, to)
        }
        Some(Command::ImportBlocks { input }) => import_blocks(&cli.run.chain, input),
        Some(Command::VerifyCertificates { input }) => verify_certificates(&cli.run.chain, input),
        Some(Command::PurgeChain { yes }) => purge_chain(&cli.run.chain, yes),
    }
}

fn chain_spec(args: &ChainArgs) -> anyhow::Result<ChainSpec> {
    match (&args.chain, args.dev) {
        (Some(name), _) => Ok(wijk_service::chain_spec::load(name)?),
        (None, true) => Ok(ChainSpec::dev()),
        (None, false) => bail!("say which chain: --dev, or --chain dev|local|PATH"),
    }
}

/// The base path, and the temporary folder that must live as long as the node when
/// `--dev` runs without `--base-path`.
fn base_path(
    args: &ChainArgs,
    allow_temporary: bool,
) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    if let Some(path) = &args.base_path {
        return Ok((path.clone(), None));
    }
    if args.dev && allow_temporary {
        let dir = tempfile::Builder::new().prefix("wijk-dev-").tempdir()?;
        return Ok((dir.path().to_path_buf(), Some(dir)));
    }
    if args.dev {
        bail!("--dev without --base-path keeps no data; give --base-path to use a database");
    }
    let home = std::env::var_os("HOME").context("HOME is not set; give --base-path")?;
    Ok((PathBuf::from(home).join(".local/share/wijk-node"), None))
}

fn database_path(base: &std::path::Path, spec: &ChainSpec) -> PathBuf {
    base.join("chains").join(&spec.id).join("db")
}

fn init_logging(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("bad --log filter `{filter}`"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    Ok(())
}

fn run_node(args: RunArgs) -> anyhow::Result<()> {
    init_logging(&args.log)?;
    let spec = chain_spec(&args.chain)?;
    let (base, _temporary) = base_path(&args.chain, true)?;
    let validator = match (&args.key, args.validator || args.chain.dev) {
        (Some(secret), _) => Some(Keypair::from_secret_uri(secret).context("--key")?),
        (None, true) if args.chain.dev => Some(Keypair::dev("Alice")),
        (None, true) => {
            bail!("--validator needs --key SECRET (or the WIJK_VALIDATOR_KEY variable)")
        }
        (None, false) => None,
    };
    let ip = if args.rpc_external {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let network = network_settings(&args, &base, &spec)?;
    let prometheus = args.prometheus_port.map(|port| {
        let ip = if args.prometheus_external {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        };
        SocketAddr::new(ip, port)
    });
    let config = NodeConfig {
        network,
        prometheus,
        database_path: database_path(&base, &spec),
        rpc: Some(RpcConfig {
            listen: SocketAddr::new(ip, args.rpc_port),
            max_request_bytes: args.rpc_max_request_kib.saturating_mul(1024),
            max_connections: args.rpc_max_connections,
            max_connections_per_ip: args.rpc_max_connections_per_ip,
            max_subscriptions_per_connection: args.rpc_max_subscriptions,
            ..RpcConfig::default()
        }),
        block_time_ms: args.block_time_ms.unwrap_or(spec.block_time_ms),
        validator,
        pool: wijk_txpool::PoolConfig::default(),
        chain_spec: spec,
    };
    let prefix = config.chain_spec.address_prefix;
    if let Some(key) = &config.validator {
        tracing::info!(
            "validator key {}",
            Address {
                prefix,
                account: key.account_id()
            }
        );
    }
    if _temporary.is_some() {
        tracing::info!(
            "dev chain data in a temporary folder {} (deleted on exit; use --base-path to keep it)",
            base.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("wijk-node")
        .build()?;
    runtime.block_on(async move {
        let mut node = wijk_service::start(config).await?;
        if let Some(addr) = node.rpc_addr {
            tracing::info!("ready: JSON-RPC on http://{addr} and ws://{addr}");
        }
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; stopping"),
            _ = terminate.recv() => tracing::info!("terminated; stopping"),
            error = node.wait_for_failure() => {
                node.stop().await;
                return Err(anyhow::Error::new(error));
            }
        }
        node.stop().await;
        Ok(())
    })
}

/// The network settings, or `None` when the node runs alone (--no-network, or --dev
/// without --port).
fn network_settings(
    args: &RunArgs,
    base: &std::path::Path,
    spec: &ChainSpec,
) -> anyhow::Result<Option<NetworkSettings>> {
    if args.no_network || (args.chain.dev && args.port.is_none()) {
        return Ok(None);
    }
    let node_key = match &args.node_key {
        Some(text) => NodeKey::parse(text).context("--node-key")?,
        None => {
            let path = base.join("chains").join(&spec.id).join("network/node_key");
            let (key, created) = NodeKey::load_or_create(&path)?;
            if created {
                tracing::info!(
                    "generated node key {} (peer id {}); add the peer id to the chain spec's allowedNodes",
                    path.display(),
                    key.peer_id()
                );
            }
            key
        }
    };
    let ip = if args.p2p_external {
        "0.0.0.0"
    } else {
        "127.0.0.1"
    };
    let listen = format!("/ip4/{ip}/tcp/{}", args.port.unwrap_or(30333))
        .parse()
        .context("--port")?;
    let bootnodes = args
        .bootnodes
        .iter()
        .map(|text| {
            text.parse()
                .with_context(|| format!("--bootnodes: `{text}` is not a multiaddr"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(NetworkSettings {
        node_key,
        listen: vec![listen],
        bootnodes,
        max_connections: args.max_peers,
    }))
}

fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::GenerateNodeKey { file } => {
            let key = NodeKey::generate();
            match file {
                Some(path) => {
                    key.write_new(&path)?;
                    eprintln!("wrote {}", path.display());
                }
                None => println!("{}", hex::encode(key.0)),
            }
            eprintln!("Peer id: {}", key.peer_id());
        }
        KeyCommand::InspectNodeKey { file, key } => {
            let key = match (file, key) {
                (Some(path), _) => NodeKey::parse(
                    &std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                )?,
                (None, Some(text)) => NodeKey::parse(&text)?,
                (None, None) => bail!("give --file PATH or the key"),
            };
            println!("{}", key.peer_id());
        }
        KeyCommand::Generate { prefix } => {
            let mut entropy = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut entropy);
            let (phrase, pair) = Keypair::mnemonic_from_entropy(&entropy)?;
            println!("Secret phrase:  {phrase}");
            println!("Address:        {}", pair.account_id().address(prefix));
            println!("Public key:     0x{}", hex::encode(pair.account_id().0));
            println!(
                "Write the phrase down and keep it offline: it is the only way to recover the key."
            );
        }
        KeyCommand::Inspect { secret, prefix } => {
            let pair = Keypair::from_secret_uri(&secret)?;
            println!("Address:        {}", pair.account_id().address(prefix));
            println!("Public key:     0x{}", hex::encode(pair.account_id().0));
        }
    }
    Ok(())
}

fn open_storage(args: &ChainArgs) -> anyhow::Result<(ChainSpec, Storage, SigningContext)> {
    let spec = chain_spec(args)?;
    let (base, _) = base_path(args, false)?;
    let path = database_path(&base, &spec);
    std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let storage = Storage::open(&path)?;
    let genesis = build_genesis(&spec.genesis, &storage)?;
    storage.initialize(&genesis)?;
    let signing = SigningContext {
        genesis_hash: genesis.header.hash(),
        spec_version: SPEC_VERSION,
    };
    Ok((spec, storage, signing))
}

fn export_blocks(
    args: &ChainArgs,
    output: PathBuf,
    from: u64,
    to: Option<u64>,
) -> anyhow::Result<()> {
    let (_, storage, signing) = open_storage(args)?;
    let head = storage.finalized_height()?.unwrap_or(0);
    let to = to.unwrap_or(head).min(head);
    let file = std::fs::File::create(&output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let mut writer = BlockFileWriter::new(std::io::BufWriter::new(file), signing.genesis_hash)?;
    let progress = indicatif::ProgressBar::new(to.saturating_sub(from) + 1);
    progress.set_style(indicatif::ProgressStyle::with_template(
        "exporting {bar:40} {pos}/{len} blocks ({per_sec}, eta {eta})",
    )?);
    for height in from.max(1)..=to {
        let block = storage
            .block(height)?
            .with_context(|| format!("block {height} missing"))?;
        let certificate = storage
            .certificate(height)?
            .with_context(|| format!("certificate {height} missing"))?;
        writer.write(&block, &certificate)?;
        progress.inc(1);
    }
    writer.finish()?;
    progress.finish();
    let head_hash = storage
        .header(to)?
        .map(|h| h.hash().to_hex())
        .unwrap_or_default();
    eprintln!(
        "exported blocks {from}..={to} to {}; head #{to} {head_hash}",
        output.display()
    );
    Ok(())
}

fn import_blocks(args: &ChainArgs, input: PathBuf) -> anyhow::Result<()> {
    let (_, storage, signing) = open_storage(args)?;
    let file =
        std::fs::File::open(&input).with_context(|| format!("cannot open {}", input.display()))?;
    let progress = indicatif::ProgressBar::new(file.metadata()?.len());
    progress.set_style(indicatif::ProgressStyle::with_template(
        "importing {bar:40} {bytes}/{total_bytes} ({eta}) {msg}",
    )?);
    let mut reader = BlockFileReader::new(std::io::BufReader::new(progress.wrap_read(file)))?;
    if reader.genesis_hash != signing.genesis_hash {
        bail!(wijk_service::ImportError::WrongChain {
            expected: signing.genesis_hash,
            found: reader.genesis_hash,
        });
    }
    let started = Instant::now();
    let mut imported_transactions = 0u64;
    let blocks = std::iter::from_fn(move || reader.next_block().transpose());
    let summary = wijk_service::import_blocks(&storage, blocks, &signing, |block| {
        imported_transactions += block.transactions.len() as u64;
        let seconds = started.elapsed().as_secs_f64().max(1e-9);
        progress.set_message(format!(
            "#{}, {:.0} tx/s",
            block.header.height,
            imported_transactions as f64 / seconds
        ));
    })?;
    progress.finish();
    let head = storage.finalized_height()?.unwrap_or(0);
    let head_hash = storage
        .header(head)?
        .map(|h| h.hash().to_hex())
        .unwrap_or_default();
    eprintln!(
        "imported {} blocks ({} transactions) in {:.2?}; {} already present; head is #{head} {head_hash}",
        summary.blocks,
        summary.transactions,
        started.elapsed(),
        summary.skipped,
    );
    Ok(())
}

fn verify_certificates(args: &ChainArgs, input: Option<PathBuf>) -> anyhow::Result<()> {
    let spec = chain_spec(args)?;
    let genesis = build_genesis(&spec.genesis, &MemoryTree::default())?;
    let validators = spec.validators().to_vec();
    let genesis_hash = genesis.header.hash();
    let progress = indicatif::ProgressBar::new_spinner();
    progress.set_style(indicatif::ProgressStyle::with_template(
        "verifying {spinner} {pos} blocks ({per_sec}) {msg}",
    )?);
    let on_checked = |header: &wijk_primitives::Header| {
        progress.inc(1);
        progress.set_message(format!("#{}", header.height));
    };
    let summary = match input {
        Some(path) => {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let mut reader = BlockFileReader::new(std::io::BufReader::new(file))?;
            if reader.genesis_hash != genesis_hash {
                bail!(wijk_service::ImportError::WrongChain {
                    expected: genesis_hash,
                    found: reader.genesis_hash,
                });
            }
            let blocks = std::iter::from_fn(move || reader.next_block().transpose());
            wijk_service::verify_certificates(&genesis.header, &validators, blocks, on_checked)?
        }
        None => {
            let (_, storage, _) = open_storage(args)?;
            let head = storage.finalized_height()?.unwrap_or(0);
            let blocks = (1..=head).map(|height| {
                let missing =
                    |what: &'static str| wijk_service::ImportError::Missing { what, height };
                let block = storage.block(height)?.ok_or_else(|| missing("block"))?;
                let certificate = storage
                    .certificate(height)?
                    .ok_or_else(|| missing("certificate"))?;
                Ok((block, certificate))
            });
            wijk_service::verify_certificates(&genesis.header, &validators, blocks, on_checked)?
        }
    };
    progress.finish_and_clear();
    eprintln!(
        "all {} certificates verify against the {} validators of {} (genesis {genesis_hash}); head #{} {}",
        summary.blocks,
        validators.len(),
        spec.name,
        summary.head_height,
        summary.head
    );
    Ok(())
}

fn purge_chain(args: &ChainArgs, yes: bool) -> anyhow::Result<()> {
    let spec = chain_spec(args)?;
    let (base, _) = base_path(args, false)?;
    let path = database_path(&base, &spec);
    if !path.exists() {
        eprintln!("nothing to purge at {}", path.display());
        return Ok(());
    }
    if !yes {
        eprint!(
            "Delete the database of {} at {}? [y/N] ",
            spec.name,
            path.display()
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("aborted");
            return Ok(());
        }
    }
    std::fs::remove_dir_all(&path).with_context(|| format!("cannot delete {}", path.display()))?;
    eprintln!("deleted {}", path.display());
    Ok(())
}
