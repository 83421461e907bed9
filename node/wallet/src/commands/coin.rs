//! The coin pallet's subcommands: `wijk send|gift|mint|earmark|redeem|redemptions|
//! redemption pay|pool|supply`.

use crate::keys::load_key;
use crate::{output, Context};
use clap::Subcommand;
use wijk_coin::Call;
use wijk_primitives::parse_cents;
use wijk_runtime::RuntimeCall;

#[derive(Debug, Subcommand)]
pub(crate) enum CoinCommand {
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
        /// As a guardian: pay from this member's coins (within their daily cap).
        #[arg(long)]
        on_behalf_of: Option<String>,
    },
    /// Give coins to a member, to a gift pool (`--to pool:NAME`) or to the cooperative's fund
    /// (`--to fund`): a gift, not a purchase.
    Gift {
        /// Your secret.
        #[arg(long)]
        from: String,
        /// The member's address, pool:NAME, or fund.
        #[arg(long)]
        to: String,
        /// Amount in euros.
        #[arg(long)]
        amount: String,
        /// As a guardian: give from this member's coins (within their daily cap).
        #[arg(long)]
        on_behalf_of: Option<String>,
    },
    /// Funders (organisations): give your coins to someone under an earmark, spendable only
    /// with merchants your rule allows; what is left at the expiry returns to you.
    Earmark {
        /// The funder's secret.
        #[arg(long)]
        from: String,
        /// The recipient.
        #[arg(long)]
        to: String,
        /// Amount in euros.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        rule: EarmarkArgs,
    },
    /// Exchange offices only: mint coins against a euro deposit.
    Mint {
        /// The exchange office's secret.
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
        /// Mint under a funder's earmark: the funder's address (then --categories,
        /// --region-only, --expires-at, --label describe the rule).
        #[arg(long)]
        earmark_funder: Option<String>,
        #[command(flatten)]
        rule: EarmarkArgs,
    },
    /// Ask for a euro payout: the coins are burned at once and the euros are owed until an
    /// exchange office pays them (`wijk redemptions`). A fee may go to the cooperative's
    /// fund.
    Redeem {
        /// Your secret.
        #[arg(long)]
        from: String,
        /// Amount in euros.
        #[arg(long)]
        amount: String,
        /// Where the euros go: your bank account (IBAN) or another reference the exchange
        /// office knows you by. Only its hash goes on chain.
        #[arg(long)]
        payout_to: String,
    },
    /// Redemptions, oldest first, with their payouts.
    Redemptions {
        /// Only those not yet paid out.
        #[arg(long)]
        owed: bool,
        /// The first id to show.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Exchange offices: record a redemption's payout.
    #[command(subcommand)]
    Redemption(RedemptionCommand),
    /// Gift pools: pay a member from one, open one, or show a pool's address.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Total supply, the euro reserve and the redemptions owed (supply must equal reserve
    /// minus owed).
    Supply,
}

/// An earmark's rule.
#[derive(Debug, clap::Args)]
pub(crate) struct EarmarkArgs {
    /// Merchant categories the coins may pay, comma-separated (any when left out).
    #[arg(long, value_delimiter = ',')]
    categories: Vec<String>,
    /// Only merchants inside the wijk's region.
    #[arg(long)]
    region_only: bool,
    /// The block from which what is left returns to the funder.
    #[arg(long)]
    expires_at: Option<u64>,
    /// A name people recognise ("city food budget").
    #[arg(long, default_value = "")]
    label: String,
}

impl EarmarkArgs {
    fn earmark(self, funder: wijk_primitives::AccountId) -> wijk_coin::Earmark {
        wijk_coin::Earmark {
            funder,
            label: self.label,
            categories: self.categories,
            region_only: self.region_only,
            expires_at: self.expires_at,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RedemptionCommand {
    /// Record that redemption ID was paid out by bank transfer.
    Pay {
        /// The exchange office's secret.
        #[arg(long)]
        from: String,
        /// The redemption's id (`wijk redemptions --owed`).
        #[arg(long)]
        id: u64,
        /// The bank transfer's reference (only its hash goes on chain).
        #[arg(long)]
        bank_ref: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PoolCommand {
    /// Intermediaries: pay a member from a gift pool (within its cap per member a month).
    Pay {
        /// The intermediary's secret.
        #[arg(long)]
        from: String,
        /// The pool's name.
        #[arg(long)]
        pool: String,
        /// The member.
        #[arg(long)]
        to: String,
        /// Amount in euros.
        #[arg(long)]
        amount: String,
    },
    /// The board: open a gift pool.
    Create {
        /// A board member's secret.
        #[arg(long)]
        from: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Most it pays one member a month, euros.
        #[arg(long)]
        monthly_cap: String,
    },
    /// The address of the pool NAME (nobody holds its key).
    Address {
        /// The pool's name.
        name: String,
    },
}

/// An address, `pool:NAME` for a gift pool's, or `fund` for the cooperative's fund.
async fn recipient(context: &Context, text: &str) -> anyhow::Result<wijk_primitives::AccountId> {
    if text == "fund" {
        return Ok(wijk_coin::cooperative_fund());
    }
    match text.strip_prefix("pool:") {
        Some(name) => Ok(wijk_coin::pool_account(name)),
        None => Ok(context.client().await?.parse_address(text)?),
    }
}

/// `call`, or a guardian's envelope around it for `member`.
pub(crate) async fn as_guardian(
    context: &Context,
    on_behalf_of: Option<String>,
    call: RuntimeCall,
) -> anyhow::Result<RuntimeCall> {
    Ok(match on_behalf_of {
        Some(member) => RuntimeCall::OnBehalfOf {
            member: context.client().await?.parse_address(&member)?,
            call: Box::new(call),
        },
        None => call,
    })
}

pub(crate) async fn run(context: &Context, command: CoinCommand) -> anyhow::Result<()> {
    match command {
        CoinCommand::Send {
            from,
            to,
            amount,
            no_wait,
            on_behalf_of,
        } => {
            let to = recipient(context, &to).await?;
            let call = RuntimeCall::Coin(Call::Transfer {
                to,
                amount: parse_cents(&amount)?,
            });
            let call = as_guardian(context, on_behalf_of, call).await?;
            super::submit(context, &load_key(&from)?, call, !no_wait).await
        }
        CoinCommand::Gift {
            from,
            to,
            amount,
            on_behalf_of,
        } => {
            let to = recipient(context, &to).await?;
            let call = RuntimeCall::Coin(Call::Gift {
                to,
                amount: parse_cents(&amount)?,
            });
            let call = as_guardian(context, on_behalf_of, call).await?;
            super::submit(context, &load_key(&from)?, call, true).await
        }
        CoinCommand::Earmark {
            from,
            to,
            amount,
            rule,
        } => {
            let funder = load_key(&from)?;
            let call = RuntimeCall::Coin(Call::EarmarkedTransfer {
                to: recipient(context, &to).await?,
                amount: parse_cents(&amount)?,
                earmark: rule.earmark(funder.account_id()),
            });
            super::submit(context, &funder, call, true).await
        }
        CoinCommand::Mint {
            from,
            to,
            amount,
            deposit_ref,
            earmark_funder,
            rule,
        } => {
            let client = context.client().await?;
            let to = client.parse_address(&to)?;
            let earmark = match earmark_funder {
                Some(funder) => Some(rule.earmark(client.parse_address(&funder)?)),
                None => None,
            };
            let call = RuntimeCall::Coin(Call::Mint {
                to,
                amount: parse_cents(&amount)?,
                deposit_ref: deposit_ref.into_bytes(),
                earmark,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        CoinCommand::Redemptions { owed, from, limit } => {
            let client = context.client().await?;
            let page = client.redemptions(owed, from, limit).await?;
            let prefix = client.chain().address_prefix;
            wijk_primitives::json::with_address_prefix(prefix, || {
                output::show(context.json(), &page, |page| {
                    let mut lines: Vec<String> = page
                        .entries
                        .iter()
                        .map(|r| {
                            format!(
                                "#{}  {:?}  {}  (fee {})  asked at block {}  {}",
                                r.id,
                                r.who,
                                r.amount,
                                r.fee,
                                r.requested_at,
                                match &r.paid {
                                    Some(paid) =>
                                        format!("paid at block {} by {:?}", paid.at, paid.by),
                                    None => "OWED".into(),
                                }
                            )
                        })
                        .collect();
                    if let Some(next) = page.next {
                        lines.push(format!("(more: --from {next})"));
                    }
                    lines.push(format!("owed in all: {}", page.owed));
                    lines.join("\n")
                })
            })
        }
        CoinCommand::Redemption(RedemptionCommand::Pay { from, id, bank_ref }) => {
            let call = RuntimeCall::Coin(Call::PayRedemption {
                id,
                bank_ref: reference_hash(&bank_ref),
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        CoinCommand::Pool(PoolCommand::Pay {
            from,
            pool,
            to,
            amount,
        }) => {
            let call = RuntimeCall::Coin(Call::PoolPay {
                pool: wijk_coin::pool_account(&pool),
                to: context.client().await?.parse_address(&to)?,
                amount: parse_cents(&amount)?,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        CoinCommand::Pool(PoolCommand::Create {
            from,
            name,
            monthly_cap,
        }) => {
            let call = RuntimeCall::Coin(Call::CreatePool {
                name,
                monthly_cap: parse_cents(&monthly_cap)?,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        CoinCommand::Pool(PoolCommand::Address { name }) => {
            let client = context.client().await?;
            output::line(client.address(&wijk_coin::pool_account(&name)))
        }
        CoinCommand::Redeem {
            from,
            amount,
            payout_to,
        } => {
            let call = RuntimeCall::Coin(Call::RequestRedemption {
                amount: parse_cents(&amount)?,
                payout_to: reference_hash(&payout_to),
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        CoinCommand::Supply => {
            let supply = context.client().await?.supply().await?;
            output::show(context.json(), &supply, |s| {
                format!(
                    "total supply {}  euro reserve {}  redemptions owed {}  {}",
                    s.total_supply,
                    s.euro_reserve,
                    s.redemptions_owed,
                    if s.balanced {
                        "(balanced)"
                    } else {
                        "(NOT BALANCED: report this)"
                    }
                )
            })
        }
    }
}

/// The on-chain form of a bank reference: blake3 of its letters and digits, upper-cased, so
/// `BE71 0961 2345 6769` and `be71096123456769` are one reference.
pub(crate) fn reference_hash(reference: &str) -> wijk_primitives::Hash {
    let normalised: String = reference
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    wijk_primitives::blake3_hash(normalised.as_bytes())
}
