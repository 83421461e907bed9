//! `wijk-node`: the node a wijk cooperative runs.
//!
//! Owns: command-line parsing ([`cli`]) and carrying out each command ([`command`]).
//! Must never: hold chain logic; it calls the service, storage and runtime crates.

mod cli;
mod command;

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
