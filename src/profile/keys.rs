//! Order-preserving 64-bit keys.
//!
//! Every numeric column is profiled in one of three *domains*: signed
//! integers (all signed widths, dates, timestamps, durations), unsigned
//! integers, and floats (f16, f32 and f64, widened exactly to f64). Each value
//! maps to a `u64` key whose unsigned order is the value's order, so exact
//! quantiles, the mergeable sketch and min/max are computed once, on keys,
//! for every type, and int64/uint64 values never pass through f64.
//!
//! Floats use the IEEE-754 total order (`f64::total_cmp`): -0.0 sorts just
//! below +0.0. Only finite values ever become keys.

use serde::{Deserialize, Serialize};

/// The number domain a numeric column is profiled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// Signed integers, dates, timestamps and durations (their ticks).
    Int,
    /// Unsigned integers.
    UInt,
    /// Floating point (f16, f32, f64 and decimals), widened to f64.
    Float,
}

const SIGN: u64 = 1 << 63;

/// Key of a signed integer.
#[inline(always)]
pub fn key_i64(v: i64) -> u64 {
    (v as u64) ^ SIGN
}

/// Key of an unsigned integer.
#[inline(always)]
pub fn key_u64(v: u64) -> u64 {
    v
}

/// Key of a float, in IEEE total order.
#[inline(always)]
pub fn key_f64(v: f64) -> u64 {
    let b = v.to_bits();
    // Negative: flip every bit (larger magnitude sorts lower). Positive: set the sign bit.
    let mask = ((b as i64 >> 63) as u64) | SIGN;
    b ^ mask
}

/// Inverse of [`key_f64`].
#[inline(always)]
pub fn f64_of_key(k: u64) -> f64 {
    // Sign bit set (a positive float): clear it; else flip every bit.
    let mask = !((k as i64 >> 63) as u64) | SIGN;
    f64::from_bits(k ^ mask)
}

/// Inverse of [`key_i64`].
#[inline(always)]
pub fn i64_of_key(k: u64) -> i64 {
    (k ^ SIGN) as i64
}

/// A value of a numeric column in its own domain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl Domain {
    /// The value a key stands for.
    #[inline]
    pub fn value(self, k: u64) -> Num {
        match self {
            Domain::Int => Num::Int(i64_of_key(k)),
            Domain::UInt => Num::UInt(k),
            Domain::Float => Num::Float(f64_of_key(k)),
        }
    }

    /// The value a key stands for, as f64 (rounded for large integers).
    #[inline(always)]
    pub fn to_f64(self, k: u64) -> f64 {
        match self {
            Domain::Int => i64_of_key(k) as f64,
            Domain::UInt => k as f64,
            Domain::Float => f64_of_key(k),
        }
    }

    /// The value a key stands for as a double-double `hi + lo` that is
    /// exact for every 64-bit integer (`lo` is zero for floats).
    pub fn exact_f64(self, k: u64) -> (f64, f64) {
        let v: i128 = match self {
            Domain::Int => i64_of_key(k) as i128,
            Domain::UInt => k as i128,
            Domain::Float => return (f64_of_key(k), 0.0),
        };
        let hi = v as f64;
        // |v − hi| ≤ 2^10 here, so the difference is exact in f64.
        (hi, (v - hi as i128) as f64)
    }

    /// The key of a value of this domain.
    pub fn key(self, v: Num) -> Option<u64> {
        match (self, v) {
            (Domain::Int, Num::Int(x)) => Some(key_i64(x)),
            (Domain::UInt, Num::UInt(x)) => Some(key_u64(x)),
            (Domain::Float, Num::Float(x)) if x.is_finite() => Some(key_f64(x)),
            _ => None,
        }
    }
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(x) => x as f64,
            Num::UInt(x) => x as f64,
            Num::Float(x) => x,
        }
    }
}

impl Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Num::Int(x) => s.serialize_i64(x),
            Num::UInt(x) => s.serialize_u64(x),
            Num::Float(x) if x.is_finite() => s.serialize_f64(x),
            Num::Float(_) => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Num::Int(i))
                } else if let Some(u) = n.as_u64() {
                    Ok(Num::UInt(u))
                } else {
                    Ok(Num::Float(n.as_f64().unwrap_or(f64::NAN)))
                }
            }
            serde_json::Value::Null => Ok(Num::Float(f64::NAN)),
            other => Err(serde::de::Error::custom(format!(
                "expected a number, found {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_keys_follow_total_order() {
        let mut v = [
            f64::MIN,
            -1e300,
            -1.0,
            -f64::MIN_POSITIVE,
            -4.9e-324,
            -0.0,
            0.0,
            4.9e-324,
            1.0,
            1.5,
            1e300,
            f64::MAX,
        ];
        let keys: Vec<u64> = v.iter().map(|&x| key_f64(x)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for (x, k) in v.iter_mut().zip(keys) {
            assert_eq!(f64_of_key(k).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn int_keys_follow_order() {
        let v = [i64::MIN, -5, -1, 0, 1, i64::MAX];
        let keys: Vec<u64> = v.iter().map(|&x| key_i64(x)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for (x, k) in v.iter().zip(keys) {
            assert_eq!(i64_of_key(k), *x);
        }
    }
}
