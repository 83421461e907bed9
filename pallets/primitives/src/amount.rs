//! Euro amounts. Money is exact: integer euro cents, checked arithmetic, never floats.

/// An amount of coin in euro cents (1 coin = 1 euro = 100 cents).
pub type Cents = u128;

/// Why a human-written amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not of the form `12`, `12.5` or `12.50`.
    #[error("`{text}` is not an amount in euros such as 12.50")]
    NotAnAmount {
        /// The input.
        text: String,
    },
    /// More than two decimals: coins cannot be split below a cent.
    #[error("`{text}` has more than two decimals; the smallest unit is one cent")]
    TooManyDecimals {
        /// The input.
        text: String,
    },
    /// Larger than the type can hold.
    #[error("`{text}` is too large")]
    TooLarge {
        /// The input.
        text: String,
    },
}

/// Parses euro notation (`12.50`, `12,50`, `12`) into cents.
pub fn parse_cents(text: &str) -> Result<Cents, AmountError> {
    let trimmed = text.trim().trim_start_matches('€').trim();
    let normalised = trimmed.replace(',', ".");
    let (whole, fraction) = match normalised.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (normalised.as_str(), ""),
    };
    let not_an_amount = || AmountError::NotAnAmount {
        text: text.to_owned(),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_an_amount());
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_an_amount());
    }
    if fraction.len() > 2 {
        return Err(AmountError::TooManyDecimals {
            text: text.to_owned(),
        });
    }
    let too_large = || AmountError::TooLarge {
        text: text.to_owned(),
    };
    let euros: Cents = whole.parse().map_err(|_| too_large())?;
    let cents: Cents = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<Cents>().map_err(|_| not_an_amount())? * 10,
        _ => fraction.parse().map_err(|_| not_an_amount())?,
    };
    euros
        .checked_mul(100)
        .and_then(|c| c.checked_add(cents))
        .ok_or_else(too_large)
}

/// Formats cents as euros with two decimals: `1250` -> `12.50`.
pub fn format_cents(cents: Cents) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_euro_notation() {
        assert_eq!(parse_cents("12.50"), Ok(1250));
        assert_eq!(parse_cents("12,5"), Ok(1250));
        assert_eq!(parse_cents("7"), Ok(700));
        assert_eq!(parse_cents("0.01"), Ok(1));
        assert!(matches!(
            parse_cents("1.001"),
            Err(AmountError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            parse_cents("-1"),
            Err(AmountError::NotAnAmount { .. })
        ));
        assert!(matches!(
            parse_cents("1e3"),
            Err(AmountError::NotAnAmount { .. })
        ));
        assert!(matches!(
            parse_cents(""),
            Err(AmountError::NotAnAmount { .. })
        ));
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(cents in 0u128..u64::MAX as u128) {
            prop_assert_eq!(parse_cents(&format_cents(cents)), Ok(cents));
        }
    }
}
