//! The composer: one line per pallet becomes the runtime's call, event and error enums,
//! dispatch, hooks, invariants, genesis, call costs, JSON and history index.
//!
//! ```ignore
//! construct_runtime! {
//!     0 => system: System(wijk_system::Pallet),
//!     1 => coin: Coin(wijk_coin::Pallet),
//! }
//! ```
//! Each line is `index => genesis_section: Variant(pallet type)`: the index is the pallet's
//! byte in every SCALE-encoded call, event and error (so it never changes once a chain
//! runs), the section its key in a chain spec's `genesis`, the variant its name in the
//! enums. Pallets run their hooks, genesis and invariant checks in the order listed.

/// See the module docs.
#[macro_export]
macro_rules! construct_runtime {
    ($($index:literal => $section:ident : $variant:ident ( $pallet:ty ) ),+ $(,)?) => {
        /// Every call the runtime understands, by pallet.
        #[derive(Debug, Clone, PartialEq, Eq, parity_scale_codec::Encode, parity_scale_codec::Decode)]
        pub enum RuntimeCall {
            $(
                #[doc = concat!("A call of the `", stringify!($section), "` pallet.")]
                #[codec(index = $index)]
                $variant(<$pallet as wijk_support::Pallet>::Call),
            )+
            /// A guardian's transaction for a member (the runtime's envelope, not a pallet's
            /// call): the guardian signs, `call` runs with the origin
            /// [`wijk_support::Origin::Guardian`], so the member's coins and rights are used
            /// within what the membership rules allow the guardian.
            #[codec(index = 255)]
            OnBehalfOf {
                /// The member acted for.
                member: wijk_primitives::AccountId,
                /// What the guardian does for them (never another envelope).
                call: Box<RuntimeCall>,
            },
        }

        /// Every event the runtime emits, by pallet.
        #[derive(Debug, Clone, PartialEq, Eq, parity_scale_codec::Encode, parity_scale_codec::Decode)]
        pub enum RuntimeEvent {
            $(
                #[doc = concat!("An event of the `", stringify!($section), "` pallet.")]
                #[codec(index = $index)]
                $variant(<$pallet as wijk_support::Pallet>::Event),
            )+
        }

        /// Why a call failed during dispatch (the transaction is still included, its nonce
        /// used, its changes rolled back).
        #[derive(Debug, Clone, PartialEq, Eq, parity_scale_codec::Encode, parity_scale_codec::Decode)]
        pub enum DispatchError {
            $(
                #[doc = concat!("From the `", stringify!($section), "` pallet.")]
                #[codec(index = $index)]
                $variant(<$pallet as wijk_support::Pallet>::Error),
            )+
        }

        impl core::fmt::Display for DispatchError {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self {
                    $(DispatchError::$variant(error) => write!(
                        f,
                        "{}: {}",
                        <$pallet as wijk_support::Pallet>::NAME,
                        error
                    ),)+
                }
            }
        }

        impl std::error::Error for DispatchError {}

        /// The genesis of every pallet, as a chain spec's `genesis` holds it: one section per
        /// pallet, each optional (its default), unknown sections and fields refused.
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RuntimeGenesis {
            $(
                #[doc = concat!("The `", stringify!($section), "` pallet's section.")]
                #[serde(default)]
                pub $section: <$pallet as wijk_support::Pallet>::Genesis,
            )+
        }

        /// The composed pallets, by index and name, in hook order.
        pub const PALLETS: &[(u8, &str)] = &[
            $(($index, <$pallet as wijk_support::Pallet>::NAME)),+
        ];

        /// The most work all pallets' block hooks do in one block.
        pub const HOOKS_COST: wijk_support::Cost =
            wijk_support::Cost::ZERO$(.plus(<$pallet as wijk_support::Pallet>::HOOKS_COST))+;

        impl RuntimeCall {
            /// The name of the pallet the call belongs to.
            pub fn pallet_name(&self) -> &'static str {
                match self {
                    $(RuntimeCall::$variant(_) => <$pallet as wijk_support::Pallet>::NAME,)+
                    RuntimeCall::OnBehalfOf { call, .. } => call.pallet_name(),
                }
            }

            /// What executing the call costs (the per-transaction cost comes on top).
            pub fn cost(&self) -> wijk_support::Cost {
                match self {
                    $(RuntimeCall::$variant(call) => <$pallet as wijk_support::Pallet>::cost(call),)+
                    RuntimeCall::OnBehalfOf { call, .. } => {
                        call.cost().plus($crate::GUARDIAN_CHECK_COST)
                    }
                }
            }

            /// The call inside any envelope, and the member a guardian acts for.
            pub fn inner(&self) -> (&RuntimeCall, Option<wijk_primitives::AccountId>) {
                match self {
                    RuntimeCall::OnBehalfOf { member, call } => (call, Some(*member)),
                    call => (call, None),
                }
            }

            /// The call as JSON: `{"pallet": "coin", "call": "transfer", ...fields}`, with
            /// accounts as addresses of the chain in scope
            /// ([`wijk_primitives::json::with_address_prefix`]).
            pub fn to_json(&self) -> serde_json::Value {
                match self {
                    $(RuntimeCall::$variant(call) => $crate::compose::tagged(
                        "pallet",
                        <$pallet as wijk_support::Pallet>::NAME,
                        call,
                    ),)+
                    RuntimeCall::OnBehalfOf { member, call } => serde_json::json!({
                        "onBehalfOf": member,
                        "call": call.to_json(),
                    }),
                }
            }

            pub(crate) fn dispatch(
                &self,
                ctx: &mut wijk_support::CallContext<'_, '_>,
                origin: &wijk_support::Origin,
            ) -> Result<Result<(), DispatchError>, wijk_support::StateError> {
                Ok(match self {
                    $(RuntimeCall::$variant(call) => {
                        <$pallet as wijk_support::Pallet>::dispatch(ctx, origin, call)?
                            .map_err(DispatchError::$variant)
                    })+
                    // The runtime checked, before dispatch, that the signer is the member's
                    // guardian and that `call` is no envelope itself.
                    RuntimeCall::OnBehalfOf { member, call } => match origin {
                        wijk_support::Origin::Signed(guardian) => call.dispatch(
                            ctx,
                            &wijk_support::Origin::Guardian {
                                guardian: *guardian,
                                member: *member,
                            },
                        )?,
                        other => call.dispatch(ctx, other)?,
                    },
                })
            }
        }

        /// Every pallet's calls, each tagged with its `pallet` (what [`RuntimeCall::to_json`]
        /// writes).
        impl schemars::JsonSchema for RuntimeCall {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "Call".into()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let mut variants = Vec::new();
                $(
                    let schema = <<$pallet as wijk_support::Pallet>::Call as schemars::JsonSchema>::json_schema(generator);
                    variants.extend($crate::compose::tagged_variants(
                        schema,
                        "pallet",
                        <$pallet as wijk_support::Pallet>::NAME,
                    ));
                )+
                variants.push($crate::compose::on_behalf_of_schema());
                $crate::compose::one_of("A call, by pallet; its SCALE bytes are the transaction's `encoded`", variants)
            }
        }

        /// Every pallet's events, their `event` tags prefixed by the pallet (what
        /// [`RuntimeEvent::to_json`] writes).
        impl schemars::JsonSchema for RuntimeEvent {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "Event".into()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let mut variants = Vec::new();
                $(
                    let schema = <<$pallet as wijk_support::Pallet>::Event as schemars::JsonSchema>::json_schema(generator);
                    variants.extend($crate::compose::prefixed_event_variants(
                        schema,
                        <$pallet as wijk_support::Pallet>::NAME,
                    ));
                )+
                $crate::compose::one_of("An event, named `pallet.Event`", variants)
            }
        }

        impl serde::Serialize for RuntimeCall {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.to_json().serialize(serializer)
            }
        }

        impl RuntimeEvent {
            /// The name of the pallet that emitted the event.
            pub fn pallet_name(&self) -> &'static str {
                match self {
                    $(RuntimeEvent::$variant(_) => <$pallet as wijk_support::Pallet>::NAME,)+
                }
            }

            /// Every account the event concerns (for the history index).
            pub fn involved_accounts(&self, accounts: &mut Vec<wijk_primitives::AccountId>) {
                match self {
                    $(RuntimeEvent::$variant(event) => {
                        wijk_support::Involves::involved_accounts(event, accounts)
                    })+
                }
            }

            /// The event as JSON: `{"event": "coin.Transferred", ...fields}`.
            pub fn to_json(&self) -> serde_json::Value {
                match self {
                    $(RuntimeEvent::$variant(event) => $crate::compose::prefixed_event(
                        <$pallet as wijk_support::Pallet>::NAME,
                        event,
                    ),)+
                }
            }

            /// The runtime event for an event a pallet deposited; `Err` gives it back if no
            /// composed pallet has that event type (a bug: a pallet deposited another crate's
            /// event type).
            pub(crate) fn from_deposited(
                event: Box<dyn std::any::Any + Send>,
            ) -> Result<RuntimeEvent, Box<dyn std::any::Any + Send>> {
                $(
                    let event = match event.downcast::<<$pallet as wijk_support::Pallet>::Event>() {
                        Ok(event) => return Ok(RuntimeEvent::$variant(*event)),
                        Err(other) => other,
                    };
                )+
                Err(event)
            }
        }

        impl serde::Serialize for RuntimeEvent {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.to_json().serialize(serializer)
            }
        }

        impl RuntimeGenesis {
            /// Writes every pallet's genesis, in order.
            pub(crate) fn build_pallets(
                &self,
                state: &mut wijk_support::StateOverlay<'_>,
            ) -> Result<Result<(), DispatchError>, wijk_support::StateError> {
                $(
                    if let Err(error) = <$pallet as wijk_support::Pallet>::build_genesis(state, &self.$section)? {
                        return Ok(Err(DispatchError::$variant(error)));
                    }
                )+
                Ok(Ok(()))
            }
        }

        /// Runs every pallet's begin-block hook, in order.
        pub(crate) fn begin_block_hooks(
            ctx: &mut wijk_support::CallContext<'_, '_>,
        ) -> Result<(), wijk_support::StateError> {
            $(<$pallet as wijk_support::Pallet>::begin_block(ctx)?;)+
            Ok(())
        }

        /// Runs every pallet's end-block hook, in order.
        pub(crate) fn end_block_hooks(
            ctx: &mut wijk_support::CallContext<'_, '_>,
        ) -> Result<(), wijk_support::StateError> {
            $(<$pallet as wijk_support::Pallet>::end_block(ctx)?;)+
            Ok(())
        }

        /// Checks every pallet's invariants on `state`.
        pub fn check_invariants(
            state: &dyn wijk_support::StateRead,
        ) -> Result<Result<(), wijk_support::InvariantViolation>, wijk_support::StateError> {
            $(
                if let Err(violation) = <$pallet as wijk_support::Pallet>::check_invariants(state)? {
                    return Ok(Err(violation));
                }
            )+
            Ok(Ok(()))
        }
    };
}

/// The variants of a pallet's internally tagged enum schema (one per call or event), or
/// none for a pallet without calls or events (whose schema matches nothing).
fn variants(schema: schemars::Schema) -> Vec<serde_json::Value> {
    let value = schema.to_value();
    if value.get("not").is_some() {
        return Vec::new();
    }
    match value.get("oneOf").and_then(serde_json::Value::as_array) {
        Some(variants) => variants.clone(),
        None => vec![value],
    }
}

/// Each variant of `schema` with a required `tag: name` property added.
pub fn tagged_variants(schema: schemars::Schema, tag: &str, name: &str) -> Vec<serde_json::Value> {
    let mut out = variants(schema);
    for variant in &mut out {
        if let Some(properties) = variant
            .get_mut("properties")
            .and_then(serde_json::Value::as_object_mut)
        {
            properties.insert(tag.into(), serde_json::json!({ "const": name }));
        }
        if let Some(required) = variant
            .get_mut("required")
            .and_then(serde_json::Value::as_array_mut)
        {
            required.push(tag.into());
        }
    }
    out
}

/// Each variant of an event schema with its `event` tag prefixed: `Transferred` becomes
/// `coin.Transferred`.
pub fn prefixed_event_variants(schema: schemars::Schema, pallet: &str) -> Vec<serde_json::Value> {
    let mut out = variants(schema);
    for variant in &mut out {
        let Some(tag) = variant.pointer_mut("/properties/event") else {
            continue;
        };
        let prefix = |value: &mut serde_json::Value| {
            if let Some(name) = value.as_str() {
                *value = serde_json::Value::from(format!("{pallet}.{name}"));
            }
        };
        if let Some(value) = tag.get_mut("const") {
            prefix(value);
        }
        if let Some(values) = tag
            .get_mut("enum")
            .and_then(serde_json::Value::as_array_mut)
        {
            values.iter_mut().for_each(prefix);
        }
    }
    out
}

/// The schema of the guardian envelope: `{"onBehalfOf": address, "call": call}`.
pub fn on_behalf_of_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "description": "A guardian's call for a member: the guardian signs, the call runs for the member",
        "properties": {
            "onBehalfOf": { "type": "string", "description": "The member's address" },
            "call": { "description": "The call, as any other (never another envelope)" }
        },
        "required": ["onBehalfOf", "call"]
    })
}

/// A schema matching exactly one of `variants`.
pub fn one_of(description: &str, variants: Vec<serde_json::Value>) -> schemars::Schema {
    schemars::json_schema!({ "description": description, "oneOf": variants })
}

/// `value` as JSON with `tag: name` first among its fields (or alone, if it is not an
/// object).
pub fn tagged(tag: &str, name: &str, value: &impl serde::Serialize) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert(tag.to_string(), serde_json::Value::from(name));
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(value) {
        object.extend(fields);
    }
    serde_json::Value::Object(object)
}

/// An event as JSON with its `event` tag prefixed by the pallet: `coin.Transferred`.
pub fn prefixed_event(pallet: &str, event: &impl serde::Serialize) -> serde_json::Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if let Some(serde_json::Value::String(name)) = value.get("event") {
        let full = format!("{pallet}.{name}");
        value["event"] = serde_json::Value::from(full);
    }
    value
}
