//! The stats pallet's subcommands: `wijk stats` (a table, `--csv FILE`, `--json`),
//! `wijk goals` and `wijk goal set|retire`.

use crate::keys::load_key;
use crate::{output, Context};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use wijk_client::types::stats as types;
use wijk_primitives::format_cents;
use wijk_runtime::RuntimeCall;
use wijk_stats::{ActivityFilter, Call, Metric, NewGoal};

/// `wijk stats`: which periods, and where to write them.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// One period (its number; block h is in period h / period length).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    period: Option<u32>,
    /// The first period (11 before --to when left out).
    #[arg(long)]
    from: Option<u32>,
    /// The last period (the current one when left out).
    #[arg(long)]
    to: Option<u32>,
    /// Also write the figures to FILE as CSV (one row per period), for a spreadsheet.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

/// `wijk goal`: the board's (or a vote's) SMART goals.
#[derive(Debug, Subcommand)]
pub(crate) enum GoalCommand {
    /// The board sets a goal (propose it with `wijk propose` for a members' vote instead).
    Set(GoalArgs),
    /// The board stops following a goal.
    Retire {
        /// Your secret (a board member's).
        #[arg(long)]
        from: String,
        /// The goal's number (`wijk goals`).
        goal: u64,
    },
}

/// A goal, as `wijk goal set` takes it.
#[derive(Debug, Args)]
pub(crate) struct GoalArgs {
    /// Your secret (a board member's).
    #[arg(long)]
    from: String,
    /// What it is, in words ("4 extra hours of neighbourhood help a month per resident").
    #[arg(long)]
    name: String,
    /// gdp, merchant-sales, activity-payouts, activity-units, market-deals, active-members,
    /// new-members, circulating, redeemed or velocity.
    #[arg(long)]
    metric: String,
    /// Only this activity (activity-payouts, activity-units).
    #[arg(long)]
    activity: Option<u32>,
    /// Only this category (of activities, or of market listings for market-deals).
    #[arg(long)]
    category: Option<String>,
    /// Divide by the period's active members.
    #[arg(long)]
    per_active_member: bool,
    /// The baseline (the 0-meting) in the metric's unit: euros for money, units, members,
    /// a ratio for velocity. Left out: measured by the chain in the last complete period.
    #[arg(long)]
    baseline: Option<String>,
    /// The target, in the same unit.
    #[arg(long)]
    target: String,
    /// The period by whose end the target is to be met.
    #[arg(long)]
    deadline: u32,
    /// The first period measured (the current one when left out).
    #[arg(long)]
    first_period: Option<u32>,
}

/// The metrics by their command-line names.
fn parse_metric(
    name: &str,
    filter: ActivityFilter,
    category: Option<String>,
) -> anyhow::Result<Metric> {
    Ok(match name {
        "gdp" => Metric::Gdp,
        "merchant-sales" => Metric::MerchantSales,
        "activity-payouts" => Metric::ActivityPayouts(filter),
        "activity-units" => Metric::ActivityUnits(filter),
        "market-deals" => Metric::MarketDeals(category),
        "active-members" => Metric::ActiveMembers,
        "new-members" => Metric::NewMembers,
        "circulating" => Metric::Circulating,
        "redeemed" => Metric::Redeemed,
        "velocity" => Metric::Velocity,
        other => anyhow::bail!(
            "unknown metric '{other}': gdp, merchant-sales, activity-payouts, activity-units, market-deals, active-members, new-members, circulating, redeemed or velocity"
        ),
    })
}

/// How many decimals of a metric's human unit its stored value keeps: cents for money,
/// thousandths for velocity, and three more per active member.
fn decimals(metric: &Metric, per_active_member: bool) -> u32 {
    let base = match metric.unit() {
        "cents" => 2,
        "thousandths" => 3,
        _ => 0,
    };
    base + if per_active_member { 3 } else { 0 }
}

/// `text` (a decimal number) in units of 10^-decimals.
fn parse_scaled(text: &str, decimals: u32) -> anyhow::Result<u64> {
    let bad = || anyhow::anyhow!("'{text}' is not a number with at most {decimals} decimals");
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if fraction.len() > decimals as usize || whole.is_empty() && fraction.is_empty() {
        return Err(bad());
    }
    let digits = format!("{whole}{fraction:0<width$}", width = decimals as usize);
    digits.parse::<u64>().map_err(|_| bad())
}

/// `value` in units of 10^-decimals, as a decimal number.
fn format_scaled(value: u64, decimals: u32) -> String {
    if decimals == 0 {
        return value.to_string();
    }
    let scale = 10u64.pow(decimals);
    format!(
        "{}.{:0width$}",
        value / scale,
        value % scale,
        width = decimals as usize
    )
}

fn velocity(milli: u64) -> String {
    format_scaled(milli, 3)
}

/// The columns of `wijk stats`, in order: name, and the figure of a period.
type Column = (&'static str, fn(&types::Period) -> String);

fn columns() -> Vec<Column> {
    vec![
        ("period", |p| p.figures.period.to_string()),
        ("blocks", |p| {
            format!("{}-{}", p.figures.first_block, p.figures.last_block)
        }),
        ("gdp", |p| format_cents(p.gdp)),
        ("merchant_sales", |p| format_cents(p.figures.merchant_sales)),
        ("activity_payouts", |p| {
            format_cents(p.figures.activity_payouts)
        }),
        ("market_deals", |p| format_cents(p.figures.market_deals)),
        ("minted", |p| format_cents(p.figures.minted)),
        ("redeemed", |p| format_cents(p.figures.redeemed)),
        ("circulating", |p| {
            format_cents(p.figures.levels.circulating)
        }),
        ("earmarked", |p| format_cents(p.figures.levels.earmarked)),
        ("set_aside", |p| format_cents(p.figures.levels.reserved)),
        ("payments", |p| format_cents(p.figures.payments)),
        ("velocity", |p| velocity(p.velocity_milli)),
        ("active_members", |p| p.figures.active_members.to_string()),
        ("new_members", |p| p.figures.new_members.to_string()),
        ("activity_units", |p| p.figures.activity_units.to_string()),
        ("deals", |p| p.figures.deals.to_string()),
        ("complete", |p| p.complete.to_string()),
    ]
}

/// The periods as CSV: a header row, then one row per period (amounts in euros).
pub(crate) fn csv(stats: &types::Stats) -> String {
    let columns = columns();
    let mut out = columns
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for period in &stats.periods {
        let row: Vec<String> = columns.iter().map(|(_, cell)| cell(period)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn table(stats: &types::Stats, symbol: &str) -> String {
    if stats.periods.is_empty() {
        return format!(
            "no figures for these periods yet (the current period is {}, of {} blocks)",
            stats.current_period, stats.period_blocks
        );
    }
    let mut lines = vec![format!(
        "periods of {} blocks; amounts in {symbol}; period {} is the current one",
        stats.period_blocks, stats.current_period
    )];
    for period in &stats.periods {
        let f = &period.figures;
        lines.push(format!(
            "period {} (blocks {}-{}{})",
            f.period,
            f.first_block,
            f.last_block,
            if period.complete { "" } else { ", so far" }
        ));
        lines.push(format!(
            "  GDP {}  = merchant sales {} + activity payouts {} + market deals {}",
            format_cents(period.gdp),
            format_cents(f.merchant_sales),
            format_cents(f.activity_payouts),
            format_cents(f.market_deals)
        ));
        lines.push(format!(
            "  minted {}  redeemed {}  in existence {} (of which earmarked {}, set aside {})",
            format_cents(f.minted),
            format_cents(f.redeemed),
            format_cents(f.levels.circulating),
            format_cents(f.levels.earmarked),
            format_cents(f.levels.reserved)
        ));
        lines.push(format!(
            "  payments {} in {}  velocity {}  active members {}  new members {}",
            format_cents(f.payments),
            f.payment_count,
            velocity(period.velocity_milli),
            f.active_members,
            f.new_members
        ));
        lines.push(format!(
            "  activities: {} units in {} claims",
            f.activity_units, f.activity_claims
        ));
        for (category, figures) in &period.breakdown.by_category {
            lines.push(format!(
                "    {category}: {} units, {} paid",
                figures.units,
                format_cents(figures.payouts)
            ));
        }
        lines.push(format!("  market: {} deals", f.deals));
        for (category, figures) in &period.breakdown.deals_by_category {
            lines.push(format!(
                "    {category}: {} deals, {}",
                figures.deals,
                format_cents(figures.value)
            ));
        }
    }
    lines.join("\n")
}

pub(crate) async fn stats(context: &Context, args: StatsArgs) -> anyhow::Result<()> {
    let client = context.client().await?;
    let symbol = client.chain().coin_symbol.clone();
    let (from, to) = match args.period {
        Some(period) => (Some(period), Some(period)),
        None => (args.from, args.to),
    };
    let stats = client.stats(from, to).await?;
    if let Some(path) = &args.csv {
        std::fs::write(path, csv(&stats)).with_context(|| format!("writing {}", path.display()))?;
    }
    output::show(context.json(), &stats, |stats| table(stats, &symbol))
}

fn goal_line(goal: &types::GoalView) -> String {
    let decimals = decimals(&goal.goal.metric, goal.goal.per_active_member);
    let shown = |value| format_scaled(value, decimals);
    let mut lines = vec![format!(
        "goal {}: {} [{:?}]{}",
        goal.id,
        goal.goal.name,
        goal.status,
        if goal.goal.retired { " (retired)" } else { "" }
    )];
    lines.push(format!(
        "  {:?}{}: baseline {}{} -> target {} by the end of period {} (from period {})",
        goal.goal.metric,
        if goal.goal.per_active_member {
            " per active member"
        } else {
            ""
        },
        shown(goal.goal.baseline),
        goal.goal
            .baseline_period
            .map(|p| format!(" (measured in period {p})"))
            .unwrap_or_default(),
        shown(goal.goal.target),
        goal.goal.deadline_period,
        goal.goal.first_period
    ));
    for progress in &goal.progress {
        lines.push(format!(
            "  period {}: {} (line {}) {}",
            progress.period,
            shown(progress.value),
            shown(progress.expected),
            if progress.on_track {
                "on track"
            } else {
                "behind"
            }
        ));
    }
    lines.join("\n")
}

pub(crate) async fn goals(context: &Context, retired: bool) -> anyhow::Result<()> {
    let client = context.client().await?;
    let goals = client.goals(retired).await?;
    output::show(context.json(), &goals, |goals| {
        if goals.goals.is_empty() {
            return "no goals set".into();
        }
        goals
            .goals
            .iter()
            .map(goal_line)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

pub(crate) async fn goal(context: &Context, command: GoalCommand) -> anyhow::Result<()> {
    let (from, call) = match command {
        GoalCommand::Set(args) => {
            let filter = match (args.activity, &args.category) {
                (Some(activity), _) => ActivityFilter::Activity(activity),
                (None, Some(category)) => ActivityFilter::Category(category.clone()),
                (None, None) => ActivityFilter::All,
            };
            let metric = parse_metric(&args.metric, filter, args.category.clone())?;
            let decimals = decimals(&metric, args.per_active_member);
            let baseline = args
                .baseline
                .as_deref()
                .map(|text| parse_scaled(text, decimals))
                .transpose()
                .context("--baseline")?;
            let target = parse_scaled(&args.target, decimals).context("--target")?;
            (
                args.from,
                Call::SetGoal {
                    goal: NewGoal {
                        name: args.name,
                        metric,
                        per_active_member: args.per_active_member,
                        baseline,
                        target,
                        first_period: args.first_period,
                        deadline_period: args.deadline,
                    },
                },
            )
        }
        GoalCommand::Retire { from, goal } => (from, Call::RetireGoal { goal }),
    };
    super::submit(context, &load_key(&from)?, RuntimeCall::Stats(call), true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_in_the_metrics_units() {
        assert_eq!(parse_scaled("12.5", 2).unwrap(), 1250);
        assert_eq!(parse_scaled("4", 3).unwrap(), 4000);
        assert_eq!(parse_scaled("7", 0).unwrap(), 7);
        assert!(parse_scaled("1.234", 2).is_err());
        assert!(parse_scaled("x", 2).is_err());
        assert_eq!(format_scaled(4_250, 3), "4.250");
        assert_eq!(decimals(&Metric::Gdp, true), 5);
    }
}
