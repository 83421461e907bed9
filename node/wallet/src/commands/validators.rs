//! The validators pallet's subcommands: `wijk validators show|schedule|report-equivocation`
//! and `wijk offences`.

use crate::keys::load_key;
use crate::{output, Context};
use anyhow::Context as _;
use clap::Subcommand;
use wijk_primitives::{AccountId, SignedVote};
use wijk_runtime::RuntimeCall;

#[derive(Debug, Subcommand)]
pub(crate) enum ValidatorsCommand {
    /// Show the current set, its epoch and quorum, the board, and any scheduled change.
    Show,
    /// The board (within its limit of validators added and removed per change) or, by an
    /// enacted vote, the members: from height --at on, blocks are certified by --set. A
    /// larger change is proposed to the members: `wijk propose validators`.
    Schedule {
        /// A board member's secret.
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

fn names(prefix: u16, list: &[AccountId]) -> String {
    list.iter()
        .map(|account| format!("  {}", account.address(prefix)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn vote(text: &str) -> anyhow::Result<SignedVote> {
    let bytes = hex::decode(text.trim_start_matches("0x")).context("a vote must be 0x hex")?;
    Ok(wijk_primitives::decode_bounded(
        "signed vote",
        &bytes,
        1024,
    )?)
}

pub(crate) async fn run(context: &Context, command: ValidatorsCommand) -> anyhow::Result<()> {
    match command {
        ValidatorsCommand::Show => {
            let client = context.client().await?;
            let prefix = client.chain().address_prefix;
            let set = client.validators().await?;
            output::show(context.json(), &set, |set| {
                let mut text = format!(
                    "epoch {} at block #{}: {} validators, {} signatures finalize a block\n{}\nboard (may change the set within its limit):\n{}\noffences recorded: {}",
                    set.epoch,
                    set.at_block.unwrap_or(0),
                    set.validators.len(),
                    set.quorum,
                    names(prefix, &set.validators),
                    names(prefix, &set.board),
                    set.offences,
                );
                if let Some(scheduled) = &set.scheduled {
                    text.push_str(&format!(
                        "\nscheduled from block #{}:\n{}",
                        scheduled.activates_at,
                        names(prefix, &scheduled.validators)
                    ));
                }
                text
            })
        }
        ValidatorsCommand::Schedule { from, set, at } => {
            let client = context.client().await?;
            let validators = set
                .iter()
                .map(|address| client.parse_address(address.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            let call = RuntimeCall::Validators(wijk_validators::Call::ScheduleChange {
                validators,
                activates_at: at,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        ValidatorsCommand::ReportEquivocation {
            from,
            first,
            second,
        } => {
            let call = RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
                first: Box::new(vote(&first)?),
                second: Box::new(vote(&second)?),
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
    }
}

/// `wijk offences`.
pub(crate) async fn offences(context: &Context, from: u64, limit: u64) -> anyhow::Result<()> {
    let client = context.client().await?;
    let prefix = client.chain().address_prefix;
    let page = client.offences(from, limit).await?;
    output::show(context.json(), &page, |page| {
        let mut lines: Vec<String> = page
            .offences
            .iter()
            .map(|o| {
                format!(
                    "{} signed conflicting {} and {} votes in view {} (epoch {}); reported by {}, recorded in block #{}",
                    o.offender.address(prefix),
                    o.first["kind"].as_str().unwrap_or("?"),
                    o.second["kind"].as_str().unwrap_or("?"),
                    o.view,
                    o.epoch,
                    o.reporter.address(prefix),
                    o.recorded_at,
                )
            })
            .collect();
        if lines.is_empty() {
            lines.push("no offences recorded".into());
        }
        lines.push(format!("{} in all", page.count));
        lines.join("\n")
    })
}
