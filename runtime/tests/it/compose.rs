//! A pallet added as the README's "Adding a pallet" says (its own declaration plus one
//! composer line) gets everything from `construct_runtime!`: its calls, events and errors
//! under its index, generic JSON and schemas, its genesis section with defaults and
//! unknown fields refused, dispatch, hooks in the block's cost and events by type.

// The pallet is written as its own crate would be, with `pub` items.
#![allow(unreachable_pub)]

use parity_scale_codec::{Decode, Encode};
use wijk_primitives::{json::with_address_prefix, Address, Hash, Keypair};
use wijk_support::{BlockContext, CallContext, EventBuffer, Origin, StateOverlay};

/// A small pallet of the kind the social-coin issues add: members thank each other.
mod kudos {
    use parity_scale_codec::{Decode, Encode};
    use serde::{Deserialize, Serialize};
    use wijk_primitives::AccountId;
    use wijk_support::{
        check, BadOrigin, CallContext, Cost, DispatchResult, Involves, Origin, StateError,
        StateOverlay, StorageMap, StorageValue,
    };

    /// Kudos received, per account.
    pub const RECEIVED: StorageMap<AccountId, u32> = StorageMap::new(b"kudos/received/");
    /// Blocks seen by the end-of-block hook.
    pub const BLOCKS: StorageValue<u64> = StorageValue::new(b"kudos/blocks");

    #[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
    #[serde(
        tag = "call",
        rename_all = "camelCase",
        rename_all_fields = "camelCase"
    )]
    pub enum Call {
        /// Thanks `to`.
        #[codec(index = 0)]
        Give { to: AccountId },
    }

    #[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
    #[serde(tag = "event", rename_all_fields = "camelCase")]
    pub enum Event {
        /// `from` thanked `to`, who now has `total`.
        #[codec(index = 0)]
        KudosGiven {
            from: AccountId,
            to: AccountId,
            total: u32,
        },
    }

    impl Involves for Event {
        fn involved_accounts(&self, accounts: &mut Vec<AccountId>) {
            match self {
                Event::KudosGiven { from, to, .. } => accounts.extend([*from, *to]),
            }
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
    pub enum Error {
        /// Thanking oneself.
        #[error("nobody may thank themselves")]
        #[codec(index = 0)]
        SelfKudos,
        /// The call came from an origin that may not make it.
        #[error(transparent)]
        #[codec(index = 1)]
        BadOrigin(#[from] BadOrigin),
    }

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", default, deny_unknown_fields)]
    pub struct Genesis {
        /// Kudos some accounts start with.
        pub initial: Vec<(AccountId, u32)>,
    }

    pub struct Pallet;

    impl wijk_support::Pallet for Pallet {
        const NAME: &'static str = "kudos";
        type Call = Call;
        type Event = Event;
        type Error = Error;
        type Genesis = Genesis;
        const HOOKS_COST: Cost = Cost::micros(1);

        fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
            for (account, kudos) in &config.initial {
                RECEIVED.insert(state, account, kudos);
            }
            Ok(Ok(()))
        }

        fn dispatch(
            ctx: &mut CallContext<'_, '_>,
            origin: &Origin,
            call: &Call,
        ) -> DispatchResult<Error> {
            match call {
                Call::Give { to } => {
                    let from = check!(origin.ensure_signed());
                    if from == *to {
                        return Ok(Err(Error::SelfKudos));
                    }
                    let total = RECEIVED
                        .get(&*ctx.state, to)?
                        .unwrap_or(0)
                        .saturating_add(1);
                    RECEIVED.insert(ctx.state, to, &total);
                    ctx.deposit_event(Event::KudosGiven {
                        from,
                        to: *to,
                        total,
                    });
                    Ok(Ok(()))
                }
            }
        }

        fn cost(_call: &Call) -> Cost {
            Cost::micros(2)
        }

        fn end_block(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
            let blocks = BLOCKS.get(&*ctx.state)?.unwrap_or(0);
            BLOCKS.put(ctx.state, &(blocks + 1));
            Ok(())
        }
    }
}

/// The runtime with the new pallet: one composer line more.
mod composed {
    // Not every generated item is used by these tests.
    #![allow(dead_code)]

    wijk_runtime::construct_runtime! {
        0 => system: System(wijk_system::Pallet),
        1 => coin: Coin(wijk_coin::Pallet),
        9 => kudos: Kudos(super::kudos::Pallet),
    }

    /// The generated dispatch, hooks and event conversion are the composing crate's own.
    pub fn dispatch(
        call: &RuntimeCall,
        ctx: &mut wijk_support::CallContext<'_, '_>,
        origin: &wijk_support::Origin,
    ) -> Result<Result<(), DispatchError>, wijk_support::StateError> {
        call.dispatch(ctx, origin)
    }

    pub fn end_block(
        ctx: &mut wijk_support::CallContext<'_, '_>,
    ) -> Result<(), wijk_support::StateError> {
        end_block_hooks(ctx)
    }

    pub fn event(event: Box<dyn std::any::Any + Send>) -> Option<RuntimeEvent> {
        RuntimeEvent::from_deposited(event).ok()
    }

    pub fn build(
        genesis: &RuntimeGenesis,
        state: &mut wijk_support::StateOverlay<'_>,
    ) -> Result<Result<(), DispatchError>, wijk_support::StateError> {
        genesis.build_pallets(state)
    }
}

use composed::{DispatchError, RuntimeCall, RuntimeEvent, RuntimeGenesis};

fn block() -> BlockContext {
    BlockContext {
        height: 1,
        timestamp_ms: 1_000,
        genesis_hash: Hash([7; 32]),
    }
}

#[test]
fn a_new_pallets_calls_events_and_errors_travel_under_its_index() {
    let bob = Keypair::dev("Bob").account_id();
    let call = RuntimeCall::Kudos(kudos::Call::Give { to: bob });
    let bytes = call.encode();
    assert_eq!(bytes[0], 9, "the pallet's index leads its calls");
    assert_eq!(RuntimeCall::decode(&mut &bytes[..]).unwrap(), call);
    let error = DispatchError::Kudos(kudos::Error::SelfKudos);
    assert_eq!(error.encode(), vec![9, 0]);
    assert_eq!(error.to_string(), "kudos: nobody may thank themselves");
    assert!(composed::PALLETS.contains(&(9, "kudos")));
    assert_eq!(call.pallet_name(), "kudos");
    assert_eq!(call.cost(), wijk_support::Cost::micros(2));
    assert_eq!(
        composed::HOOKS_COST,
        wijk_system::Pallet::HOOKS_COST
            .plus(wijk_coin::Pallet::HOOKS_COST)
            .plus(wijk_support::Cost::micros(1)),
        "its hooks' work is reserved from every block"
    );
}

use wijk_support::Pallet as _;

#[test]
fn a_new_pallet_renders_as_json_and_schema_without_code_of_its_own() {
    let alice = Keypair::dev("Alice").account_id();
    let bob = Keypair::dev("Bob").account_id();
    let bob_address = Address {
        prefix: 42,
        account: bob,
    }
    .to_string();
    let call = RuntimeCall::Kudos(kudos::Call::Give { to: bob });
    let event = RuntimeEvent::Kudos(kudos::Event::KudosGiven {
        from: alice,
        to: bob,
        total: 3,
    });
    let (call_json, event_json) = with_address_prefix(42, || (call.to_json(), event.to_json()));
    assert_eq!(
        call_json,
        serde_json::json!({"pallet": "kudos", "call": "give", "to": bob_address})
    );
    assert_eq!(event_json["event"], "kudos.KudosGiven");
    assert_eq!(event_json["to"], serde_json::json!(bob_address));
    assert_eq!(event_json["total"], 3);
    let mut involved = Vec::new();
    event.involved_accounts(&mut involved);
    assert_eq!(involved, vec![alice, bob], "both see it in their history");

    let schema = serde_json::to_string(&schemars::schema_for!(RuntimeCall)).unwrap();
    assert!(
        schema.contains("\"kudos\"") && schema.contains("\"give\""),
        "{schema}"
    );
    let schema = serde_json::to_string(&schemars::schema_for!(RuntimeEvent)).unwrap();
    assert!(schema.contains("kudos.KudosGiven"), "{schema}");
}

#[test]
fn a_new_pallet_has_a_genesis_section_with_defaults_and_refuses_unknown_fields() {
    let bob = Keypair::dev("Bob").account_id();
    let bob_address = Address {
        prefix: 42,
        account: bob,
    }
    .to_string();
    // Every section may be left out.
    let empty: RuntimeGenesis = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, RuntimeGenesis::default());
    let text = format!(r#"{{"kudos": {{"initial": [["{bob_address}", 5]]}}}}"#);
    let genesis: RuntimeGenesis = serde_json::from_str(&text).unwrap();
    assert_eq!(genesis.kudos.initial, vec![(bob, 5)]);
    assert_eq!(genesis.coin, Default::default());
    let base = std::collections::BTreeMap::<Vec<u8>, Vec<u8>>::new();
    let mut state = StateOverlay::new(&base);
    composed::build(&genesis, &mut state).unwrap().unwrap();
    assert_eq!(kudos::RECEIVED.get(&state, &bob).unwrap(), Some(5));

    let misspelt = serde_json::from_str::<RuntimeGenesis>(r#"{"kudos": {"inital": []}}"#)
        .unwrap_err()
        .to_string();
    assert!(misspelt.contains("inital"), "{misspelt}");
    let unknown = serde_json::from_str::<RuntimeGenesis>(r#"{"kudo": {}}"#)
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("kudo"), "{unknown}");
}

#[test]
fn a_new_pallets_calls_dispatch_deposit_events_and_its_hooks_run() {
    let alice = Keypair::dev("Alice").account_id();
    let bob = Keypair::dev("Bob").account_id();
    let base = std::collections::BTreeMap::<Vec<u8>, Vec<u8>>::new();
    let mut state = StateOverlay::new(&base);
    let mut events = EventBuffer::default();
    let mut ctx = CallContext::new(&mut state, block(), wijk_runtime::INTERFACES, &mut events);

    let give = RuntimeCall::Kudos(kudos::Call::Give { to: bob });
    composed::dispatch(&give, &mut ctx, &Origin::Signed(alice))
        .unwrap()
        .unwrap();
    let refused = composed::dispatch(
        &RuntimeCall::Kudos(kudos::Call::Give { to: alice }),
        &mut ctx,
        &Origin::Signed(alice),
    )
    .unwrap();
    assert_eq!(refused, Err(DispatchError::Kudos(kudos::Error::SelfKudos)));
    let not_signed = composed::dispatch(&give, &mut ctx, &Origin::Root).unwrap();
    assert!(
        matches!(
            not_signed,
            Err(DispatchError::Kudos(kudos::Error::BadOrigin(_)))
        ),
        "{not_signed:?}"
    );
    composed::end_block(&mut ctx).unwrap();

    let deposited: Vec<RuntimeEvent> = events
        .take()
        .into_iter()
        .map(|event| composed::event(event).expect("an event of a composed pallet"))
        .collect();
    assert_eq!(
        deposited,
        vec![RuntimeEvent::Kudos(kudos::Event::KudosGiven {
            from: alice,
            to: bob,
            total: 1
        })]
    );
    assert_eq!(kudos::RECEIVED.get(&state, &bob).unwrap(), Some(1));
    assert_eq!(kudos::BLOCKS.get(&state).unwrap(), Some(1));
}
