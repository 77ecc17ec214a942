//! Numbers as a caller without Rust's types gives them (JavaScript's numbers, through the
//! Node binding), checked into the engine's types. The one place such a number is judged: each
//! function is one rule, its error names the caller's field, and the binding passes numbers
//! here unchanged rather than deciding anything itself. (lib/input.js is the JavaScript side's
//! counterpart: it turns what is not a number at all into NaN, which every rule here refuses.)

use std::time::Duration;

use crate::error::{Error, Result};

/// The largest whole number a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A whole number in `min..=max`, or a validation error on `field` saying `message`.
fn whole(v: f64, min: u64, max: u64, field: &str, message: &str) -> Result<u64> {
    if v.is_finite() && v.fract() == 0.0 && v >= min as f64 && v <= max as f64 {
        Ok(v as u64)
    } else {
        Err(Error::validation(field, message))
    }
}

/// A whole number from 1 to [`MAX_SAFE_INTEGER`]: "must be a positive integer".
pub fn positive_int(v: f64, field: &str) -> Result<u64> {
    whole(v, 1, MAX_SAFE_INTEGER, field, "must be a positive integer")
}

/// A whole number from 1 to `u32::MAX` (a count the engine keeps in 32 bits): "must be a
/// positive integer".
pub fn positive_u32(v: f64, field: &str) -> Result<u32> {
    whole(v, 1, u32::MAX.into(), field, "must be a positive integer").map(|n| n as u32)
}

/// A whole number from 0 to [`MAX_SAFE_INTEGER`]: "must be a non-negative integer".
pub fn non_negative_int(v: f64, field: &str) -> Result<u64> {
    whole(
        v,
        0,
        MAX_SAFE_INTEGER,
        field,
        "must be a non-negative integer",
    )
}

/// A whole number from 0 to `u32::MAX`: "must be a non-negative integer".
pub fn non_negative_u32(v: f64, field: &str) -> Result<u32> {
    whole(
        v,
        0,
        u32::MAX.into(),
        field,
        "must be a non-negative integer",
    )
    .map(|n| n as u32)
}

/// A finite number of ms ≥ 0, rounded to whole ms: "must be a non-negative number of ms".
pub fn non_negative_ms(v: f64, field: &str) -> Result<Duration> {
    if v.is_finite() && v >= 0.0 && v <= MAX_SAFE_INTEGER as f64 {
        Ok(Duration::from_millis(v.round() as u64))
    } else {
        Err(Error::validation(
            field,
            "must be a non-negative number of ms",
        ))
    }
}

/// A finite number of ms > 0, rounded up to whole ms: "must be a positive number".
pub fn positive_ms(v: f64, field: &str) -> Result<Duration> {
    if v.is_finite() && v > 0.0 && v <= MAX_SAFE_INTEGER as f64 {
        Ok(Duration::from_millis(v.ceil() as u64))
    } else {
        Err(Error::validation(field, "must be a positive number"))
    }
}

/// A point in time in ms since the epoch: finite; before the epoch counts as the epoch.
/// "must be a finite time".
pub fn time_ms(v: f64, field: &str) -> Result<u64> {
    if v.is_finite() {
        Ok(v.clamp(0.0, MAX_SAFE_INTEGER as f64) as u64)
    } else {
        Err(Error::validation(field, "must be a finite time"))
    }
}

/// A fraction in [0, 1]: "must be a number between 0 and 1".
pub fn fraction(v: f64, field: &str) -> Result<f64> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(Error::validation(field, "must be a number between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn integers_refuse_fractions_non_finite_and_out_of_range() {
        assert_eq!(positive_int(1.0, "n").unwrap(), 1);
        assert_eq!(
            positive_int(MAX_SAFE_INTEGER as f64, "n").unwrap(),
            MAX_SAFE_INTEGER
        );
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 2f64.powi(53) + 2.0] {
            assert_eq!(field_of(positive_int(bad, "n")), "n", "{bad}");
        }
        assert_eq!(positive_u32(u32::MAX as f64, "c").unwrap(), u32::MAX);
        assert_eq!(field_of(positive_u32(u32::MAX as f64 + 1.0, "c")), "c");
        assert_eq!(non_negative_int(0.0, "k").unwrap(), 0);
        for bad in [-1.0, 0.5, f64::NAN] {
            assert_eq!(field_of(non_negative_int(bad, "k")), "k", "{bad}");
        }
        assert_eq!(non_negative_u32(0.0, "k").unwrap(), 0);
        assert_eq!(field_of(non_negative_u32(-0.5, "k")), "k");
    }

    #[test]
    fn durations_times_and_fractions() {
        assert_eq!(non_negative_ms(1.4, "d").unwrap(), Duration::from_millis(1));
        assert_eq!(non_negative_ms(0.0, "d").unwrap(), Duration::ZERO);
        for bad in [-0.5, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(field_of(non_negative_ms(bad, "d")), "d", "{bad}");
        }
        assert_eq!(positive_ms(0.2, "p").unwrap(), Duration::from_millis(1));
        for bad in [0.0, -3.0, f64::NAN] {
            assert_eq!(field_of(positive_ms(bad, "p")), "p", "{bad}");
        }
        assert_eq!(time_ms(-5.0, "t").unwrap(), 0);
        assert_eq!(time_ms(1.7e12, "t").unwrap(), 1_700_000_000_000);
        assert_eq!(field_of(time_ms(f64::NAN, "t")), "t");
        assert_eq!(fraction(0.0, "j").unwrap(), 0.0);
        assert_eq!(fraction(1.0, "j").unwrap(), 1.0);
        for bad in [-0.1, 1.1, f64::NAN] {
            assert_eq!(field_of(fraction(bad, "j")), "j", "{bad}");
        }
    }
}
