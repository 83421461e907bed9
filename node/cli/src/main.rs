//! `wijk-node`: the node a wijk cooperative runs.
//!
//! Owns: command-line parsing ([`cli`]) and carrying out each command ([`command`]).
//! Must never: hold chain logic; it calls the service, storage and runtime crates.

mod cli;
mod command;

/// mimalloc rather than the system allocator: blocks, transactions and their state are
/// many short-lived allocations across threads, where glibc's malloc spends a tenth of a
/// loaded node's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    use clap::Parser;
    let cli = cli::Cli::parse();
    match command::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
