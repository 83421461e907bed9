//! The membership pallet's subcommands: `wijk member register|rekey|cancel-rekey|guardian|
//! revoke-guardian|suspend|reinstate|remove|show|tag` and `wijk members`.

use crate::keys::load_key;
use crate::{output, Context};
use clap::Subcommand;
use wijk_client::types;
use wijk_membership::Call;
use wijk_primitives::json::with_address_prefix;
use wijk_primitives::{parse_cents, GeoPoint, Hash};
use wijk_runtime::RuntimeCall;
use wijk_support::{valid_category, Place, Role, RoleSet};

#[derive(Debug, Subcommand)]
pub(crate) enum MemberCommand {
    /// Intermediaries (and the board): register a member. The person's registration tag
    /// comes from `wijk member tag` (or pass --secret-file and --identity to compute it
    /// here); no personal data goes on chain.
    Register {
        /// The intermediary's secret.
        #[arg(long)]
        from: String,
        /// The new member's address.
        #[arg(long)]
        who: String,
        /// Roles, comma-separated: resident, merchant, organisation, redemption-partner
        /// (intermediaries), and exchange-office, intermediary, verifier, auditor, board
        /// (the board only).
        #[arg(long, value_delimiter = ',', default_value = "resident")]
        roles: Vec<String>,
        /// The registration tag (0x hex), as `wijk member tag` prints it.
        #[arg(long, conflicts_with = "identity")]
        tag: Option<String>,
        /// The cooperative's secret (a file only intermediaries hold), to compute the tag.
        #[arg(long, requires = "identity")]
        secret_file: Option<std::path::PathBuf>,
        /// The person's identity to compute the tag from: best their national register
        /// number (rijksregisternummer, BSN), which has one spelling.
        #[arg(long, requires = "secret_file")]
        identity: Option<String>,
        /// A merchant's shop: LAT,LON in decimal degrees.
        #[arg(long, requires = "category")]
        location: Option<String>,
        /// A merchant's category: lowercase letters, digits, dashes (food, sport, culture).
        #[arg(long, requires = "location")]
        category: Option<String>,
    },
    /// Intermediaries (and the board): move a member who lost their phone to a new key.
    /// It takes effect after the chain's delay; the old key can cancel it meanwhile.
    Rekey {
        /// The intermediary's secret.
        #[arg(long)]
        from: String,
        /// The member's current address.
        #[arg(long)]
        who: String,
        /// Their new address.
        #[arg(long)]
        new: String,
    },
    /// The member's old key, the intermediary who asked, or the board: cancel a rekey.
    CancelRekey {
        /// Your secret.
        #[arg(long)]
        from: String,
        /// The member's current address.
        #[arg(long)]
        who: String,
    },
    /// A member (or the board): appoint an intermediary as guardian, who may then pay for
    /// the member (`--on-behalf-of`) up to a cap a day.
    Guardian {
        /// The member's secret (or a board member's).
        #[arg(long)]
        from: String,
        /// The member (yourself when left out).
        #[arg(long)]
        member: Option<String>,
        /// The intermediary.
        #[arg(long)]
        guardian: String,
        /// Most the guardian may pay for the member in a day, euros.
        #[arg(long)]
        daily_cap: String,
    },
    /// The member, the guardian, or the board: end a guardianship.
    RevokeGuardian {
        /// Your secret.
        #[arg(long)]
        from: String,
        /// The member.
        #[arg(long)]
        member: String,
    },
    /// The board: suspend a member (they can neither sign nor receive), with a reason.
    Suspend {
        /// A board member's secret.
        #[arg(long)]
        from: String,
        /// The member.
        #[arg(long)]
        who: String,
        /// Why (recorded on chain, public).
        #[arg(long)]
        reason: String,
    },
    /// The board: lift a suspension.
    Reinstate {
        /// A board member's secret.
        #[arg(long)]
        from: String,
        /// The member.
        #[arg(long)]
        who: String,
    },
    /// The board: remove a member (their tag is freed; their coins stay on the account).
    Remove {
        /// A board member's secret.
        #[arg(long)]
        from: String,
        /// The member.
        #[arg(long)]
        who: String,
        /// Why (recorded on chain, public).
        #[arg(long)]
        reason: String,
    },
    /// A member's roles, status, place, guardian and pending rekey.
    Show {
        /// The address.
        address: String,
    },
    /// Compute a person's registration tag (off chain): blake3 keyed with a key derived
    /// from the cooperative's secret, over the identity's letters and digits, lowercased.
    Tag {
        /// The cooperative's secret (a file only intermediaries hold).
        #[arg(long)]
        secret_file: std::path::PathBuf,
        /// The person's identity (best: their national register number).
        #[arg(long)]
        identity: String,
    },
}

fn parse_roles(names: &[String]) -> anyhow::Result<RoleSet> {
    let roles = names
        .iter()
        .map(|name| {
            Role::parse(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(Role::name).collect();
                anyhow::anyhow!("unknown role `{name}`; roles are {}", known.join(", "))
            })
        })
        .collect::<anyhow::Result<Vec<Role>>>()?;
    Ok(RoleSet::of(&roles))
}

fn tag_from(secret_file: &std::path::Path, identity: &str) -> anyhow::Result<Hash> {
    let secret = std::fs::read(secret_file).map_err(|error| {
        anyhow::anyhow!(
            "cannot read the cooperative's secret {}: {error}",
            secret_file.display()
        )
    })?;
    anyhow::ensure!(
        secret.len() >= 16,
        "the cooperative's secret in {} is shorter than 16 bytes: too easy to guess",
        secret_file.display()
    );
    anyhow::ensure!(
        !wijk_membership::normalise_identity(identity).is_empty(),
        "the identity has no letters or digits"
    );
    Ok(wijk_membership::registration_tag(&secret, identity))
}

/// A merchant's place from `--location` and `--category`.
pub(crate) fn place(location: &str, category: &str) -> anyhow::Result<Place> {
    anyhow::ensure!(
        valid_category(category),
        "category `{category}` must be 1 to 32 lowercase letters, digits or dashes"
    );
    Ok(Place {
        location: GeoPoint::parse_degrees(location)?,
        category: category.to_string(),
    })
}

/// A member in words, over a few lines.
pub(crate) fn describe(member: &types::Member) -> String {
    let mut lines = vec![format!(
        "{:?}  {}  {}",
        member.address,
        member.roles.join(", "),
        match &member.suspension_reason {
            Some(reason) => format!("SUSPENDED: {reason}"),
            None => member.status.clone(),
        }
    )];
    lines.push(format!(
        "  registered at block {}{}",
        member.since,
        member
            .registered_by
            .map(|by| format!(" by {by:?}"))
            .unwrap_or_default()
    ));
    if let Some(place) = &member.place {
        lines.push(format!(
            "  shop at {} ({}), {}",
            place.degrees,
            place.category,
            if place.inside_region {
                "inside the region"
            } else {
                "OUTSIDE the region"
            }
        ));
    }
    if let Some(guardian) = &member.guardian {
        lines.push(format!(
            "  guardian {:?} may pay {} a day ({} spent today)",
            guardian.guardian, guardian.daily_cap, guardian.spent_today
        ));
    }
    if let Some(rekey) = &member.pending_rekey {
        lines.push(format!(
            "  moving to new key {:?} at block {} (the old key can cancel: wijk member cancel-rekey)",
            rekey.new, rekey.due
        ));
    }
    lines.join("\n")
}

pub(crate) async fn run(context: &Context, command: MemberCommand) -> anyhow::Result<()> {
    let address =
        |text: String| async move { anyhow::Ok(context.client().await?.parse_address(&text)?) };
    let (from, call) = match command {
        MemberCommand::Register {
            from,
            who,
            roles,
            tag,
            secret_file,
            identity,
            location,
            category,
        } => {
            let tag = match (tag, secret_file, identity) {
                (Some(tag), _, _) => Hash::from_hex(&tag)
                    .ok_or_else(|| anyhow::anyhow!("--tag `{tag}` is not 0x hex of 32 bytes"))?,
                (None, Some(secret_file), Some(identity)) => tag_from(&secret_file, &identity)?,
                _ => anyhow::bail!(
                    "give the person's registration tag: --tag, or --secret-file and --identity"
                ),
            };
            let place = match (location, category) {
                (Some(location), Some(category)) => Some(place(&location, &category)?),
                _ => None,
            };
            let call = Call::Register {
                who: address(who).await?,
                roles: parse_roles(&roles)?,
                tag,
                place,
            };
            (from, call)
        }
        MemberCommand::Rekey { from, who, new } => {
            let call = Call::Rekey {
                who: address(who).await?,
                new: address(new).await?,
            };
            (from, call)
        }
        MemberCommand::CancelRekey { from, who } => {
            let call = Call::CancelRekey {
                who: address(who).await?,
            };
            (from, call)
        }
        MemberCommand::Guardian {
            from,
            member,
            guardian,
            daily_cap,
        } => {
            let member = match member {
                Some(member) => address(member).await?,
                None => load_key(&from)?.account_id(),
            };
            let call = Call::AppointGuardian {
                member,
                guardian: address(guardian).await?,
                daily_cap: parse_cents(&daily_cap)?,
            };
            (from, call)
        }
        MemberCommand::RevokeGuardian { from, member } => {
            let call = Call::RevokeGuardian {
                member: address(member).await?,
            };
            (from, call)
        }
        MemberCommand::Suspend { from, who, reason } => {
            let call = Call::Suspend {
                who: address(who).await?,
                reason,
            };
            (from, call)
        }
        MemberCommand::Reinstate { from, who } => {
            let call = Call::Reinstate {
                who: address(who).await?,
            };
            (from, call)
        }
        MemberCommand::Remove { from, who, reason } => {
            let call = Call::Remove {
                who: address(who).await?,
                reason,
            };
            (from, call)
        }
        MemberCommand::Show { address: text } => {
            let client = context.client().await?;
            let account = client.parse_address(&text)?;
            let member = client.member(&account).await?;
            return with_address_prefix(client.chain().address_prefix, || {
                output::show(context.json(), &member, |member| match member {
                    Some(member) => describe(member),
                    None => format!("{text} is not a member of this wijk"),
                })
            });
        }
        MemberCommand::Tag {
            secret_file,
            identity,
        } => {
            let tag = tag_from(&secret_file, &identity)?;
            return output::show(context.json(), &tag, |tag| tag.to_hex());
        }
    };
    super::submit(
        context,
        &load_key(&from)?,
        RuntimeCall::Membership(call),
        true,
    )
    .await
}

/// `wijk members`: members a page at a time.
pub(crate) async fn list(
    context: &Context,
    role: Option<String>,
    after: Option<String>,
    limit: usize,
) -> anyhow::Result<()> {
    let client = context.client().await?;
    let after = after.map(|text| client.parse_address(&text)).transpose()?;
    let page = client
        .members(role.as_deref(), after.as_ref(), limit)
        .await?;
    with_address_prefix(client.chain().address_prefix, || {
        output::show(context.json(), &page, |page| {
            let mut lines: Vec<String> = page.entries.iter().map(describe).collect();
            if let Some(next) = &page.next {
                lines.push(format!("(more: --after {next:?})"));
            }
            if lines.is_empty() {
                lines.push("no members".into());
            }
            lines.join("\n")
        })
    })
}
