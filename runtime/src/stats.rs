//! The wijk's statistics read off a block's events: which [`Fact`]s each transaction's
//! receipt and each hook's events state. One mapping, used by the runtime at every block's
//! end and by an auditor recounting from the receipts (`wijk-node audit stats`), so what the
//! chain holds and what the auditor counts can only differ if the state does.

use wijk_primitives::AccountId;
use wijk_stats::Fact;

use crate::{Receipt, RuntimeEvent, TxOutcome};

/// The facts of one transaction: its signer is active (whether its call succeeded or not),
/// and its events' facts if it succeeded.
pub fn receipt_facts<'a>(receipt: &'a Receipt, mut fact: impl FnMut(Fact<'a>)) {
    fact(Fact::Active(receipt.signer));
    if let TxOutcome::Success { events } = &receipt.outcome {
        events_facts(events, fact);
    }
}

/// The facts of a list of events (one transaction's, or a block's hooks').
pub fn events_facts<'a>(events: &'a [RuntimeEvent], mut fact: impl FnMut(Fact<'a>)) {
    let fund = wijk_coin::cooperative_fund();
    // A gift's recipient received no payment (the giver, who signed, is active).
    let gifted = |to: &AccountId| {
        events.iter().any(|event| {
            matches!(event, RuntimeEvent::Coin(wijk_coin::Event::Gifted { to: gift_to, .. }) if gift_to == to)
        })
    };
    let received = |to: &AccountId, fact: &mut dyn FnMut(Fact<'a>)| {
        if *to != fund {
            fact(Fact::Active(*to));
        }
    };
    for event in events {
        match event {
            RuntimeEvent::Coin(event) => {
                use wijk_coin::Event::*;
                match event {
                    Transferred { to, amount, .. } => {
                        fact(Fact::Payment(*amount));
                        if !gifted(to) {
                            received(to, &mut fact);
                        }
                    }
                    MerchantPaid { amount, .. } => fact(Fact::MerchantSale(*amount)),
                    Minted { to, amount, .. } => {
                        fact(Fact::Minted(*amount));
                        received(to, &mut fact);
                    }
                    RedemptionRequested { amount, .. } => fact(Fact::Redeemed(*amount)),
                    Earmarked {
                        from, to, amount, ..
                    } => {
                        fact(Fact::EarmarkIn(*amount));
                        if from != to {
                            fact(Fact::Payment(*amount));
                            received(to, &mut fact);
                        }
                    }
                    EarmarkSpent {
                        merchant, amount, ..
                    } => {
                        fact(Fact::EarmarkOut(*amount));
                        fact(Fact::Payment(*amount));
                        received(merchant, &mut fact);
                    }
                    EarmarkExpired { amount, .. } => fact(Fact::EarmarkOut(*amount)),
                    Reserved { amount, .. } => fact(Fact::ReserveIn(*amount)),
                    Unreserved { amount, .. } => fact(Fact::ReserveOut(*amount)),
                    ReservePaid { to, amount, .. } => {
                        fact(Fact::ReserveOut(*amount));
                        fact(Fact::Payment(*amount));
                        received(to, &mut fact);
                    }
                    EarmarkReserved { amount, .. } => {
                        fact(Fact::EarmarkOut(*amount));
                        fact(Fact::ReserveIn(*amount));
                    }
                    EarmarkUnreserved { amount, .. } => {
                        fact(Fact::ReserveOut(*amount));
                        fact(Fact::EarmarkIn(*amount));
                    }
                    EarmarkReturned { amount, .. } => fact(Fact::ReserveOut(*amount)),
                    RedemptionPaid { .. }
                    | Gifted { .. }
                    | PoolPaid { .. }
                    | PoolCreated { .. }
                    | EarmarkMoved { .. }
                    | FundSpent { .. } => {}
                }
            }
            RuntimeEvent::Membership(wijk_membership::Event::Registered { .. }) => {
                fact(Fact::NewMember)
            }
            RuntimeEvent::Activities(wijk_activities::Event::PaidOut {
                amount,
                activity,
                units,
                category,
                ..
            }) => fact(Fact::ActivityPayout {
                activity: *activity,
                category,
                units: *units,
                amount: *amount,
            }),
            RuntimeEvent::Market(wijk_market::Event::Completed {
                amount, category, ..
            }) => fact(Fact::DealSettled {
                category,
                amount: *amount,
            }),
            RuntimeEvent::Market(wijk_market::Event::Resolved {
                to_sellers,
                category,
                ..
            }) if *to_sellers > 0 => fact(Fact::DealSettled {
                category,
                amount: *to_sellers,
            }),
            _ => {}
        }
    }
}

/// Every fact of a block: its begin hooks', its transactions', its end hooks'.
pub fn block_facts<'a>(
    begin: &'a [RuntimeEvent],
    receipts: &'a [Receipt],
    end: &'a [RuntimeEvent],
    mut fact: impl FnMut(Fact<'a>),
) {
    events_facts(begin, &mut fact);
    for receipt in receipts {
        receipt_facts(receipt, &mut fact);
    }
    events_facts(end, &mut fact);
}
