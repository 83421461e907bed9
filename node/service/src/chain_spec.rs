//! The chains a node knows by name (`dev`, `local`), on top of the chain-spec format of
//! [`wijk_chain_spec`], and what only the node checks in a spec: that every allowed node
//! is a peer id.

use std::path::Path;
pub use wijk_chain_spec::{AllowedNode, ChainSpec, ChainSpecError, DEV_ADDRESS_PREFIX};

/// An allowed node's peer id is not one.
#[derive(Debug, thiserror::Error)]
#[error("chain spec allowedNodes entry {name}: `{peer_id}` is not a peer id")]
pub struct BadPeerId {
    /// The entry's name.
    pub name: String,
    /// What was written.
    pub peer_id: String,
}

/// A local testnet of `validators` validators (//Alice, //Bob, ... then //V5, //V6...)
/// and `full_nodes` allowed full nodes (//Full1, //Full2, ...), each node with the dev
/// node key of its name.
pub fn local(validators: usize, full_nodes: usize) -> ChainSpec {
    let names: Vec<String> = (0..validators.max(1)).map(dev_validator_name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut spec = ChainSpec::with_validators("Wijk Local Testnet", "wijk_local", "Local", &names);
    let full: Vec<String> = (1..=full_nodes).map(|i| format!("Full{i}")).collect();
    spec.allowed_nodes = names
        .iter()
        .copied()
        .chain(full.iter().map(String::as_str))
        .map(|name| AllowedNode {
            name: name.to_string(),
            peer_id: crate::NodeKey::dev(name).peer_id().to_string(),
        })
        .collect();
    spec
}

/// The region of the Rabot-Blaisantvest demo chain: hand-placed along the ramparts, the
/// Brugse Vaart and the Verbindingskanaal (`../shared/examples/rabot.md`), about a hundred
/// metres accurate, counter-clockwise, in microdegrees.
pub const RABOT_REGION: [(i32, i32); 10] = [
    (51_056_600, 3_708_500), // Brugse Poort (south-west corner)
    (51_058_500, 3_713_000), // Begijnhoflaan
    (51_060_300, 3_716_500), // Rabot (Opgeëistenlaan)
    (51_062_000, 3_721_000), // Blaisantvest
    (51_063_300, 3_725_000), // Tolhuis (south-east corner)
    (51_065_500, 3_722_500), // Verbindingskanaal, east
    (51_067_200, 3_716_000), // Verbindingskanaal, middle
    (51_068_800, 3_709_000), // Verbindingskanaal meets Brugse Vaart (north-west corner)
    (51_066_000, 3_706_000), // Brugse Vaart, north
    (51_061_000, 3_706_500), // Brugse Vaart, south
];

/// The Rabot demo chain's merchants: dev name, category, and shop location in
/// microdegrees. The first five are inside the region (checked by a test, not by eye); the
/// supermarket is about 90 m outside its southern edge (Begijnhoflaan).
pub const RABOT_MERCHANTS: [(&str, &str, (i32, i32)); 6] = [
    ("Kruidenier", "food", (51_063_000, 3_712_000)),
    ("Bakker", "food", (51_064_500, 3_715_000)),
    ("Fietsherstel", "mobility", (51_062_000, 3_710_000)),
    ("Volkstuin", "garden", (51_065_500, 3_718_000)),
    ("Kringwinkel", "second-hand", (51_060_500, 3_709_000)),
    ("Supermarkt", "food", (51_057_000, 3_711_500)),
];

/// The Rabot-Blaisantvest demo chain (Ghent, where the Torekes community currency runs):
/// four validators run by the wijk cooperative (//Alice), the city's social services
/// (//Bob), the social housing company (//Charlie) and the community health centre
/// (//Dave); a board of three (//Alice for the cooperative and two residents, //Fatima and
/// //Koen); an exchange office (//Wisselkantoor); two intermediaries (//Buurtcentrum,
/// //Welzijnsschakel); the starting catalogue of valued activities
/// ([`wijk_chain_spec::starting_catalogue`]) with three verifiers (//Buurtwerker for
/// neighbourhood help, green and clean streets, //Taalcoach for language, the health
/// centre //Dave for care); two funders with budgets, opened empty for them to fund
/// (//StadGent for everything but care, paid out as coins for Rabot's shops only;
/// //Ziekenfonds for care); the cooperative's fund (keyless, spent only by the members'
/// vote), which receives the 2 % redemption fee; five merchants inside the region and a
/// supermarket just outside it; residents //Anna, //Mohammed, //Lotte; a gift pool for
/// care. Dev keys throughout: a demo, not a live chain (which takes its keys, polygon and
/// members from the cooperative).
pub fn rabot() -> ChainSpec {
    use wijk_membership::GenesisMember;
    use wijk_primitives::{GeoPoint, Keypair};
    use wijk_support::{Place, Role, RoleSet};
    let validators = ["Alice", "Bob", "Charlie", "Dave"];
    let mut spec = ChainSpec::with_validators("Wijk Rabot", "wijk_rabot", "Local", &validators);
    spec.coin_name = "Rabotmunt".into();
    spec.coin_symbol = "RBM".into();
    spec.allowed_nodes = validators
        .iter()
        .map(|name| AllowedNode {
            name: name.to_string(),
            peer_id: crate::NodeKey::dev(name).peer_id().to_string(),
        })
        .collect();
    let dev = |name: &str| Keypair::dev(name).account_id();
    let member = |name: &str, roles: &[Role], place: Option<Place>| GenesisMember {
        account: dev(name),
        roles: RoleSet::of(roles),
        tag: None,
        place,
    };
    let genesis = &mut spec.genesis;
    genesis.geo.region = wijk_geo::Region {
        name: "Rabot-Blaisantvest".into(),
        polygons: vec![RABOT_REGION
            .iter()
            .map(|(lat, lon)| GeoPoint {
                lat: *lat,
                lon: *lon,
            })
            .collect()],
    };
    genesis.membership.open_accounts = false;
    genesis.membership.members = vec![
        member(
            "Alice",
            &[Role::Board, Role::Organisation, Role::Resident],
            None,
        ),
        member("Bob", &[Role::Organisation], None),
        member("Charlie", &[Role::Organisation], None),
        member("Dave", &[Role::Organisation, Role::Verifier], None),
        member("Fatima", &[Role::Board, Role::Resident], None),
        member("Koen", &[Role::Board, Role::Resident], None),
        member("Buurtwerker", &[Role::Verifier], None),
        member("Taalcoach", &[Role::Verifier], None),
        member("Wisselkantoor", &[Role::ExchangeOffice], None),
        member("Buurtcentrum", &[Role::Intermediary], None),
        member("Welzijnsschakel", &[Role::Intermediary], None),
        member("StadGent", &[Role::Organisation], None),
        member("Ziekenfonds", &[Role::Organisation], None),
        member("Anna", &[Role::Resident], None),
        member("Mohammed", &[Role::Resident], None),
        member("Lotte", &[Role::Resident], None),
    ];
    genesis
        .membership
        .members
        .extend(RABOT_MERCHANTS.iter().map(|(name, category, (lat, lon))| {
            member(
                name,
                &[Role::Merchant, Role::RedemptionPartner],
                Some(Place {
                    location: GeoPoint {
                        lat: *lat,
                        lon: *lon,
                    },
                    category: category.to_string(),
                }),
            )
        }));
    genesis.coin.balances = [
        ("Alice", 100_000),
        ("StadGent", 5_000_000),
        ("Ziekenfonds", 2_000_000),
        ("Anna", 2_500),
        ("Mohammed", 2_500),
        ("Lotte", 2_500),
    ]
    .iter()
    .map(|(name, cents)| wijk_coin::GenesisBalance(dev(name), *cents))
    .collect();
    genesis.coin.redemption = wijk_coin::RedemptionPolicy {
        any_holder: false,
        allowed_roles: RoleSet::of(&[Role::Merchant, Role::RedemptionPartner, Role::Organisation]),
        fee_per_mille: 20,
        fund: Some(wijk_coin::cooperative_fund()),
    };
    genesis.coin.gift_pools = vec![wijk_coin::GenesisPool {
        name: "zorg".into(),
        monthly_cap: 5_000,
    }];
    genesis.system.board = vec![dev("Alice"), dev("Fatima"), dev("Koen")];
    genesis.activities.catalogue = wijk_chain_spec::starting_catalogue();
    let verifier = |name: &str, category: &str| wijk_activities::GenesisVerifier {
        account: dev(name),
        scope: wijk_activities::VerifierScope::Category(category.into()),
    };
    genesis.activities.verifiers = vec![
        verifier("Buurtwerker", "neighbourhood-help"),
        verifier("Buurtwerker", "green"),
        verifier("Buurtwerker", "clean-streets"),
        verifier("Taalcoach", "language"),
        verifier("Dave", "care"),
    ];
    genesis.activities.budgets = vec![
        wijk_activities::GenesisBudget {
            funder: dev("StadGent"),
            name: "Stad Gent: neighbourhood help, green, clean streets, language".into(),
            activities: Vec::new(),
            categories: ["neighbourhood-help", "green", "clean-streets", "language"]
                .map(String::from)
                .to_vec(),
            payout_earmark: Some(wijk_support::EarmarkTerms {
                label: "Stad Gent".into(),
                categories: Vec::new(),
                region_only: true,
            }),
        },
        wijk_activities::GenesisBudget {
            funder: dev("Ziekenfonds"),
            name: "Ziekenfonds: care and exercise with seniors".into(),
            activities: Vec::new(),
            categories: vec!["care".into()],
            payout_earmark: None,
        },
    ];
    genesis.activities.rules = wijk_activities::Rules {
        max_earned_per_period: Some(15_000),
        ..wijk_activities::Rules::default()
    };
    genesis.system.rate_limit = wijk_system::RateLimit {
        transactions: 100,
        window_blocks: 600,
    };
    genesis.stats.goals = rabot_goals();
    spec
}

/// The Rabot's SMART goals, one for each kind of metric, measured from launch (period 0, a
/// month) to 18 months after it, from a baseline of nothing (the coin is new; a goal set
/// later is measured from the last complete period).
fn rabot_goals() -> Vec<wijk_stats::NewGoal> {
    use wijk_stats::{ActivityFilter, Metric};
    let help = || ActivityFilter::Category("neighbourhood-help".into());
    let goal = |name: &str, metric, per_active_member, baseline, target| wijk_stats::NewGoal {
        name: name.into(),
        metric,
        per_active_member,
        baseline: Some(baseline),
        target,
        first_period: Some(0),
        deadline_period: 18,
    };
    vec![
        goal(
            "The Rabot's economy produces 25,000 a month",
            Metric::Gdp,
            false,
            0,
            2_500_000,
        ),
        goal(
            "Local shops sell 10,000 a month in the coin",
            Metric::MerchantSales,
            false,
            0,
            1_000_000,
        ),
        goal(
            "6,000 a month paid for neighbourhood help",
            Metric::ActivityPayouts(help()),
            false,
            0,
            600_000,
        ),
        goal(
            "Residents do 4 extra hours of neighbourhood help a month each",
            Metric::ActivityUnits(help()),
            true,
            0,
            4_000,
        ),
        goal(
            "3,000 a month of deals on the market",
            Metric::MarketDeals(None),
            false,
            0,
            300_000,
        ),
        goal(
            "100 members take part every month",
            Metric::ActiveMembers,
            false,
            0,
            100,
        ),
        goal("20 new members a month", Metric::NewMembers, false, 0, 20),
        goal(
            "40,000 more in circulation than at launch",
            Metric::Circulating,
            false,
            7_107_500,
            11_107_500,
        ),
        goal(
            "Redemptions fall to 1,000 a month",
            Metric::Redeemed,
            false,
            500_000,
            100_000,
        ),
        goal(
            "Every coin changes hands twice a month",
            Metric::Velocity,
            false,
            0,
            2_000,
        ),
    ]
}

/// `dev`, `local`, `rabot`, or a path to a JSON file.
pub fn load(name: &str) -> Result<ChainSpec, ChainSpecError> {
    match name {
        "dev" => Ok(ChainSpec::dev()),
        "local" => Ok(local(4, 0)),
        "rabot" => Ok(rabot()),
        path if Path::new(path).exists() => ChainSpec::load_file(path),
        other => Err(ChainSpecError::Unknown { name: other.into() }),
    }
}

/// The peer ids allowed on the network.
pub fn allowed_peers(spec: &ChainSpec) -> Result<Vec<wijk_network::PeerId>, BadPeerId> {
    spec.allowed_nodes
        .iter()
        .map(|node| {
            node.peer_id.parse().map_err(|_| BadPeerId {
                name: node.name.clone(),
                peer_id: node.peer_id.clone(),
            })
        })
        .collect()
}

/// Names of local-testnet validators: the well-known dev names, then `V<n>`.
pub fn dev_validator_name(index: usize) -> String {
    const NAMES: [&str; 6] = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];
    NAMES
        .get(index)
        .map(|n| n.to_string())
        .unwrap_or_else(|| format!("V{}", index + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `chain-specs/dev.json` is generated; this fails if it drifts. Regenerate with
    /// `WIJK_WRITE_CHAIN_SPECS=1 cargo test -p wijk-service chain_spec`.
    #[test]
    fn checked_in_dev_spec_matches_the_generated_one() {
        let generated = ChainSpec::dev().to_json();
        if std::env::var_os("WIJK_WRITE_CHAIN_SPECS").is_some() {
            // `cargo test` sets the variable when it runs the test, for this clone; the
            // compile-time value may name another clone that shares the target folder.
            let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
            let path = Path::new(&manifest_dir).join("../../chain-specs/dev.json");
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let checked_in = include_str!("../../../chain-specs/dev.json");
        assert_eq!(
            checked_in, generated,
            "chain-specs/dev.json drifted; regenerate with WIJK_WRITE_CHAIN_SPECS=1"
        );
        assert_eq!(ChainSpec::from_json(checked_in).unwrap(), ChainSpec::dev());
    }

    /// `chain-specs/rabot.json` is generated too; regenerate the same way.
    #[test]
    fn checked_in_rabot_spec_matches_the_generated_one() {
        let generated = rabot().to_json();
        if std::env::var_os("WIJK_WRITE_CHAIN_SPECS").is_some() {
            let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
            let path = Path::new(&manifest_dir).join("../../chain-specs/rabot.json");
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let checked_in = include_str!("../../../chain-specs/rabot.json");
        assert_eq!(
            checked_in, generated,
            "chain-specs/rabot.json drifted; regenerate with WIJK_WRITE_CHAIN_SPECS=1"
        );
        assert_eq!(ChainSpec::from_json(checked_in).unwrap(), rabot());
    }

    #[test]
    fn rabot_merchants_are_inside_the_region_except_the_supermarket() {
        let spec = rabot();
        let region = &spec.genesis.geo.region;
        assert_eq!(region.check(), Ok(()));
        for (name, _, (lat, lon)) in RABOT_MERCHANTS {
            let inside = region.contains(&wijk_primitives::GeoPoint { lat, lon });
            assert_eq!(inside, name != "Supermarkt", "{name}");
        }
        // Korenmarkt, the city centre, is outside.
        assert!(!region.contains(&wijk_primitives::GeoPoint {
            lat: 51_054_300,
            lon: 3_721_700
        }));
    }

    #[test]
    fn unknown_chains_are_refused() {
        assert!(matches!(
            load("nowhere"),
            Err(ChainSpecError::Unknown { .. })
        ));
    }

    #[test]
    fn local_spec_has_the_asked_number_of_validators() {
        assert_eq!(local(4, 0).validators().len(), 4);
        assert_eq!(local(7, 0).genesis.validators.set.len(), 7);
        let spec = local(4, 2);
        assert_eq!(allowed_peers(&spec).unwrap().len(), 6);
        assert_eq!(
            spec.allowed_nodes[4].peer_id,
            crate::NodeKey::dev("Full1").peer_id().to_string()
        );
        let mut bad = spec.clone();
        bad.allowed_nodes[0].peer_id = "nobody".into();
        assert!(allowed_peers(&bad).is_err());
    }
}
