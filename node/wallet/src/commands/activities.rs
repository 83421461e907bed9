//! The activities pallet's subcommands: `wijk activity list|claim|attest|reject|withdraw|
//! pay|claims|verifier` and `wijk budget open|fund|defund|show`.

use crate::keys::load_key;
use crate::{output, Context};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use wijk_activities::{Call, VerifierScope};
use wijk_client::types::activities as types;
use wijk_primitives::{format_cents, parse_cents};
use wijk_runtime::RuntimeCall;
use wijk_support::EarmarkTerms;

#[derive(Debug, Subcommand)]
pub(crate) enum ActivityCommand {
    /// The catalogue: what each activity is worth per unit (set by the members' vote), its
    /// history of values, caps and verifiers.
    List,
    /// Claim units of an activity you did (or, as a guardian, that your member did).
    Claim {
        /// Your secret.
        #[arg(long)]
        from: String,
        /// The activity's number (`wijk activity list`).
        #[arg(long)]
        activity: u32,
        /// Units done, whole units of the activity's unit.
        #[arg(long)]
        units: u32,
        /// The day the work was done, YYYY-MM-DD (today when left out). It is paid at the
        /// value in force then.
        #[arg(long)]
        on: Option<String>,
        /// The evidence (a signed attendance sheet, a photo), a file kept off chain: its
        /// blake3 hash goes on chain for the verifier to check against.
        #[arg(long, conflicts_with = "evidence_hash")]
        evidence: Option<std::path::PathBuf>,
        /// Or the evidence's hash, 0x hex.
        #[arg(long)]
        evidence_hash: Option<String>,
        /// As a guardian: claim for this member.
        #[arg(long)]
        on_behalf_of: Option<String>,
    },
    /// Verifiers: attest a claim; it is paid at once from a matching budget if one holds
    /// enough, else it waits for funds.
    Attest {
        /// The claim's number.
        claim: u64,
        /// Your secret (a verifier registered for the activity or its category).
        #[arg(long)]
        from: String,
    },
    /// Verifiers: reject a claim, with a reason the participant reads.
    Reject {
        /// The claim's number.
        claim: u64,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Your secret.
        #[arg(long)]
        from: String,
    },
    /// Take back a claim of yours no verifier decided yet.
    Withdraw {
        /// The claim's number.
        claim: u64,
        /// Your secret.
        #[arg(long)]
        from: String,
        /// As a guardian: the member whose claim it is.
        #[arg(long)]
        on_behalf_of: Option<String>,
    },
    /// Ask again for the payout of an attested claim that waited for funds.
    Pay {
        /// The claim's number.
        claim: u64,
        /// Pay from this budget (it must pay for the activity and hold the amount); by the
        /// rule when left out.
        #[arg(long)]
        budget: Option<u32>,
        /// Your secret (anyone's: the payout goes to the participant).
        #[arg(long)]
        from: String,
    },
    /// Claims, newest first.
    Claims {
        /// Only this member's.
        #[arg(long)]
        participant: Option<String>,
        /// Only those pending a verifier or waiting for funds.
        #[arg(long)]
        open: bool,
        /// Only those numbered below this (the `more:` line of the previous page).
        #[arg(long)]
        before: Option<u64>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// The board: register a verifier for an activity or a category, or end it.
    #[command(subcommand)]
    Verifier(VerifierCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum VerifierCommand {
    /// Register a verifier (a member holding the verifier role).
    Add {
        /// A board member's secret.
        #[arg(long)]
        from: String,
        /// The verifier's address.
        #[arg(long)]
        verifier: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// End a verifier's registration.
    Remove {
        /// A board member's secret.
        #[arg(long)]
        from: String,
        /// The verifier's address.
        #[arg(long)]
        verifier: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

/// What a verifier may attest: one activity, or a category.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct ScopeArgs {
    /// Claims for this activity (its number).
    #[arg(long)]
    activity: Option<u32>,
    /// Claims for every activity of this category.
    #[arg(long)]
    category: Option<String>,
}

impl ScopeArgs {
    fn scope(self) -> VerifierScope {
        match (self.activity, self.category) {
            (Some(activity), _) => VerifierScope::Activity(activity),
            (None, category) => VerifierScope::Category(category.unwrap_or_default()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum BudgetCommand {
    /// Funders (organisations): open a budget for some activities or categories (or all).
    Open {
        /// The funder's secret.
        #[arg(long)]
        from: String,
        /// Its name ("exercise with seniors 2027").
        #[arg(long)]
        name: String,
        /// The activities it pays for (numbers), comma-separated.
        #[arg(long, value_delimiter = ',')]
        activities: Vec<u32>,
        /// The categories it pays for, comma-separated. With neither, every activity.
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Pay out earmarked coins, spendable only at merchants inside the wijk.
        #[arg(long)]
        local_only: bool,
        /// Pay out earmarked coins spendable only at merchants of these categories.
        #[arg(long, value_delimiter = ',')]
        shop_categories: Vec<String>,
        /// The earmark's label, as holders see it (with --local-only or --shop-categories).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Funders: put coins into your budget (they stay yours, reserved, until paid out).
    Fund {
        /// The budget's number.
        budget: u32,
        /// Amount in euros.
        amount: String,
        /// The funder's secret.
        #[arg(long)]
        from: String,
    },
    /// Funders: take unspent coins back from your budget.
    Defund {
        /// The budget's number.
        budget: u32,
        /// Amount in euros.
        amount: String,
        /// The funder's secret.
        #[arg(long)]
        from: String,
    },
    /// Budgets: what each pays for, holds, paid out, and the claims waiting for funds.
    Show {
        /// Only this funder's.
        #[arg(long)]
        funder: Option<String>,
    },
}

/// The time of work done on `day` (noon UTC, so a time zone does not move it to another
/// day), but never after the chain's latest final block (`now_ms`), which a claim may not
/// pass.
fn done_at(day: Option<&str>, now_ms: u64) -> anyhow::Result<u64> {
    let Some(day) = day else {
        return Ok(now_ms);
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day.trim(), &format)
        .with_context(|| format!("`{day}` is no date: write YYYY-MM-DD, e.g. 2026-11-28"))?;
    let midnight_ms = |date: time::Date| -> anyhow::Result<u64> {
        let at = date.midnight().assume_utc().unix_timestamp();
        Ok(u64::try_from(at)
            .context("the date is before 1970")?
            .saturating_mul(1_000))
    };
    let day_ms = 86_400_000;
    let today_starts = now_ms - now_ms % day_ms;
    let starts = midnight_ms(date)?;
    if starts > today_starts {
        anyhow::bail!("{day} is after today (by the chain's clock): claim work once it is done");
    }
    // Noon that day, or the chain's time now if that is earlier (work done this morning).
    Ok((starts + day_ms / 2).min(now_ms))
}

/// A block time as a UTC date and time.
fn when(ms: u64) -> String {
    match time::OffsetDateTime::from_unix_timestamp((ms / 1_000) as i64) {
        Ok(at) if ms > 0 => format!(
            "{}-{:02}-{:02} {:02}:{:02} UTC",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute()
        ),
        _ => "genesis".into(),
    }
}

fn claim_line(claim: &types::Claim, prefix: u16) -> String {
    let by = claim
        .filed_by
        .map(|guardian| format!(", filed by guardian {}", guardian.address(prefix)))
        .unwrap_or_default();
    let state = match claim.status.as_str() {
        "paid" => format!(
            "paid from budget {} (attested by {})",
            claim.budget.unwrap_or_default(),
            claim
                .decided_by
                .map(|v| v.address(prefix).to_string())
                .unwrap_or_default()
        ),
        "rejected" => format!(
            "rejected by {}: {}",
            claim
                .decided_by
                .map(|v| v.address(prefix).to_string())
                .unwrap_or_default(),
            claim.reason.as_deref().unwrap_or("")
        ),
        "awaitingFunds" => format!(
            "attested, waiting for funds (`wijk activity pay {}` once a budget holds it)",
            claim.id
        ),
        "pending" => "waiting for a verifier".into(),
        other => other.into(),
    };
    format!(
        "claim {}: {} {} × {} of '{}' done {} by {}{by}: {} at {}/{} — {state}",
        claim.id,
        claim.units,
        claim.unit,
        claim.activity,
        claim.activity_name,
        when(claim.done_at_ms),
        claim.participant.address(prefix),
        format_cents(claim.amount),
        format_cents(claim.value_per_unit),
        claim.unit,
    )
}

pub(crate) async fn run(context: &Context, command: ActivityCommand) -> anyhow::Result<()> {
    match command {
        ActivityCommand::List => {
            let client = context.client().await?;
            let prefix = client.chain().address_prefix;
            let symbol = client.chain().coin_symbol.clone();
            let catalogue = client.activities().await?;
            output::show(context.json(), &catalogue, |catalogue| {
                let mut lines = Vec::new();
                if catalogue.activities.is_empty() {
                    lines.push("the catalogue is empty: the members add activities by vote".into());
                }
                for activity in &catalogue.activities {
                    let retired = activity
                        .retired_at_ms
                        .map(|at| format!(" (retired {})", when(at)))
                        .unwrap_or_default();
                    let cap = activity
                        .max_units_per_period
                        .map(|cap| format!(", at most {cap} a person per period"))
                        .unwrap_or_default();
                    lines.push(format!(
                        "{:>3}  {} — {} {symbol} per {} [{}]{cap}{retired}",
                        activity.id,
                        activity.name,
                        format_cents(activity.value),
                        activity.unit,
                        activity.category,
                    ));
                    if activity.values.len() > 1 {
                        let history: Vec<String> = activity
                            .values
                            .iter()
                            .map(|change| {
                                format!(
                                    "{} from {}",
                                    format_cents(change.value),
                                    when(change.since_ms)
                                )
                            })
                            .collect();
                        lines.push(format!("     values: {}", history.join("; ")));
                    }
                    let verifiers: Vec<String> = activity
                        .verifiers
                        .iter()
                        .map(|v| v.address(prefix).to_string())
                        .collect();
                    lines.push(format!(
                        "     verifiers: {}",
                        if verifiers.is_empty() {
                            "none yet".into()
                        } else {
                            verifiers.join(", ")
                        }
                    ));
                }
                let rules = &catalogue.rules;
                lines.push(format!(
                    "claims reach back {} days; caps count per {} days{}; at most {} claims a person awaiting a verifier",
                    rules.claim_window_days,
                    rules.period_days,
                    rules
                        .max_earned_per_period
                        .map(|cap| format!(", at most {} {symbol} a person per period", format_cents(cap)))
                        .unwrap_or_default(),
                    rules.max_open_claims,
                ));
                lines.join("\n")
            })
        }
        ActivityCommand::Claim {
            from,
            activity,
            units,
            on,
            evidence,
            evidence_hash: hash,
            on_behalf_of,
        } => {
            let client = context.client().await?;
            let evidence = super::hash_of_file_or_hex(
                evidence.as_deref(),
                hash.as_deref(),
                "evidence",
                "give the evidence as a file (--evidence FILE) or its hash (--evidence-hash 0x...)",
            )?;
            let head = client
                .finalized_head()
                .await?
                .context("the node has no final block yet")?;
            let now_ms = client
                .header(&head)
                .await?
                .context("the node does not serve its final header")?
                .timestamp;
            let call = RuntimeCall::Activities(Call::Claim {
                activity,
                units,
                done_at_ms: done_at(on.as_deref(), now_ms)?,
                evidence,
            });
            let call = super::coin::as_guardian(context, on_behalf_of, call).await?;
            super::submit(context, &load_key(&from)?, call, true).await
        }
        ActivityCommand::Attest { claim, from } => {
            let call = RuntimeCall::Activities(Call::Attest { claim });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        ActivityCommand::Reject {
            claim,
            reason,
            from,
        } => {
            let call = RuntimeCall::Activities(Call::Reject { claim, reason });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        ActivityCommand::Withdraw {
            claim,
            from,
            on_behalf_of,
        } => {
            let call = RuntimeCall::Activities(Call::WithdrawClaim { claim });
            let call = super::coin::as_guardian(context, on_behalf_of, call).await?;
            super::submit(context, &load_key(&from)?, call, true).await
        }
        ActivityCommand::Pay {
            claim,
            budget,
            from,
        } => {
            let call = RuntimeCall::Activities(Call::Pay { claim, budget });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        ActivityCommand::Claims {
            participant,
            open,
            before,
            limit,
        } => {
            let client = context.client().await?;
            let prefix = client.chain().address_prefix;
            let participant = participant
                .as_deref()
                .map(|address| client.parse_address(address))
                .transpose()?;
            let page = client
                .claims(participant.as_ref(), open, before, limit)
                .await?;
            output::show(context.json(), &page, |page| {
                let mut lines: Vec<String> =
                    page.claims.iter().map(|c| claim_line(c, prefix)).collect();
                if lines.is_empty() {
                    lines.push("no claims".into());
                }
                if let Some(next) = page.next {
                    lines.push(format!("more: --before {next}"));
                }
                lines.join("\n")
            })
        }
        ActivityCommand::Verifier(command) => {
            let client = context.client().await?;
            let (from, call) = match command {
                VerifierCommand::Add {
                    from,
                    verifier,
                    scope,
                } => (
                    from,
                    Call::AddVerifier {
                        verifier: client.parse_address(&verifier)?,
                        scope: scope.scope(),
                    },
                ),
                VerifierCommand::Remove {
                    from,
                    verifier,
                    scope,
                } => (
                    from,
                    Call::RemoveVerifier {
                        verifier: client.parse_address(&verifier)?,
                        scope: scope.scope(),
                    },
                ),
            };
            super::submit(
                context,
                &load_key(&from)?,
                RuntimeCall::Activities(call),
                true,
            )
            .await
        }
    }
}

pub(crate) async fn run_budget(context: &Context, command: BudgetCommand) -> anyhow::Result<()> {
    match command {
        BudgetCommand::Open {
            from,
            name,
            activities,
            categories,
            local_only,
            shop_categories,
            label,
        } => {
            // The label names an earmark; alone it makes none.
            let earmarked = local_only || !shop_categories.is_empty();
            let call = RuntimeCall::Activities(Call::OpenBudget {
                name,
                activities,
                categories,
                payout_earmark: earmarked.then_some(EarmarkTerms {
                    label,
                    categories: shop_categories,
                    region_only: local_only,
                }),
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        BudgetCommand::Fund {
            budget,
            amount,
            from,
        } => {
            let call = RuntimeCall::Activities(Call::Fund {
                budget,
                amount: parse_cents(&amount)?,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        BudgetCommand::Defund {
            budget,
            amount,
            from,
        } => {
            let call = RuntimeCall::Activities(Call::Defund {
                budget,
                amount: parse_cents(&amount)?,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        BudgetCommand::Show { funder } => {
            let client = context.client().await?;
            let prefix = client.chain().address_prefix;
            let symbol = client.chain().coin_symbol.clone();
            let funder = funder
                .as_deref()
                .map(|address| client.parse_address(address))
                .transpose()?;
            let budgets = client.budgets(funder.as_ref()).await?;
            output::show(context.json(), &budgets, |budgets| {
                let mut lines = Vec::new();
                if budgets.budgets.is_empty() {
                    lines.push("no budgets".into());
                }
                for budget in &budgets.budgets {
                    let pays_for = if budget.activities.is_empty() && budget.categories.is_empty() {
                        "every activity".to_string()
                    } else {
                        let mut parts: Vec<String> = budget
                            .activities
                            .iter()
                            .map(|a| format!("activity {a}"))
                            .collect();
                        parts.extend(budget.categories.iter().map(|c| format!("category {c}")));
                        parts.join(", ")
                    };
                    let earmark = budget
                        .payout_earmark
                        .as_ref()
                        .map(|terms| {
                            let shops = if terms.categories.is_empty() {
                                "any shop".to_string()
                            } else {
                                terms.categories.join(", ")
                            };
                            let local = if terms.region_only {
                                ", in the wijk only"
                            } else {
                                ""
                            };
                            format!("; pays out earmarked coins ({shops}{local})")
                        })
                        .unwrap_or_default();
                    lines.push(format!(
                        "budget {} '{}' of {}: {} {symbol} left of {} put in; {} paid out, {} taken back; pays for {pays_for}{earmark}",
                        budget.id,
                        budget.name,
                        budget.funder.address(prefix),
                        format_cents(budget.remaining),
                        format_cents(budget.funded),
                        format_cents(budget.paid_out),
                        format_cents(budget.withdrawn),
                    ));
                    if budget.waiting_claims > 0 {
                        lines.push(format!(
                            "     {} attested claim(s) wait for {} {symbol} it could pay",
                            budget.waiting_claims,
                            format_cents(budget.waiting_amount)
                        ));
                    }
                }
                lines.join("\n")
            })
        }
    }
}
