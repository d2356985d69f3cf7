//! When two values of a feature are equal, for the skew join.
//!
//! The rule (docs/skew.md): a null is a missing value (TFDV's "feature not
//! present"), never equal or unequal to anything, so it is counted apart.
//! Two present floats are equal when their bits are equal or both are NaN
//! (any NaN equals any NaN; 0.0 and -0.0 differ, since their bits do), or,
//! with a [`Tolerance`], when both are finite and
//! `|a - b| <= max(abs, rel * max(|a|, |b|))` (Python's `math.isclose`).
//! Every other type is compared by value, exactly: Arrow's `not_distinct`
//! kernel for flat types, the row encoding of `arrow-row` for nested ones
//! (lists, structs, maps), where floats inside compare by their bits.

use arrow::array::{Array, ArrayRef, BooleanBufferBuilder, Float64Array};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::cmp::not_distinct;
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, SortField};

use crate::error::{Error, Result};

/// How far apart two finite floats may be and still be equal.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tolerance {
    /// Absolute: `|a - b| <= abs`.
    pub abs: f64,
    /// Relative: `|a - b| <= rel * max(|a|, |b|)`.
    pub rel: f64,
}

impl Tolerance {
    /// `X` (absolute), `abs=X`, `rel=Y` or `abs=X,rel=Y`; each finite and
    /// at least 0.
    pub fn parse(s: &str) -> Result<Tolerance> {
        let bad = |why: &str| Error::InvalidOption(format!("--tolerance {s:?}: {why}"));
        let mut t = Tolerance { abs: 0.0, rel: 0.0 };
        for part in s.split(',') {
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n.trim(), v.trim()),
                None => ("abs", part.trim()),
            };
            let v: f64 = value
                .parse()
                .map_err(|_| bad(&format!("{value:?} is not a number")))?;
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad("a tolerance is a finite number at least 0"));
            }
            match name {
                "abs" => t.abs = v,
                "rel" => t.rel = v,
                other => {
                    return Err(bad(&format!(
                        "unknown part {other:?}; use X, abs=X, rel=Y or abs=X,rel=Y"
                    )))
                }
            }
        }
        Ok(t)
    }
}

/// Whether two present floats are equal under the rule above.
pub fn float_eq(a: f64, b: f64, tol: Option<Tolerance>) -> bool {
    if a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) {
        return true;
    }
    match tol {
        Some(t) if a.is_finite() && b.is_finite() => {
            (a - b).abs() <= t.abs.max(t.rel * a.abs().max(b.abs()))
        }
        _ => false,
    }
}

/// Whether a column of this type is compared through the row encoding.
fn nested(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::Struct(_)
            | DataType::Map(..)
            | DataType::Union(..)
    )
}

/// Whether columns of `dt` can be compared.
pub fn supported(dt: &DataType) -> bool {
    if nested(dt) {
        RowConverter::supports_fields(&[SortField::new(dt.clone())])
    } else {
        !matches!(dt, DataType::Null | DataType::RunEndEncoded(..))
    }
}

/// `eq[i]` for two aligned arrays of one type: whether row `i`'s values are
/// equal. Only meaningful where both are present.
pub fn equal(a: &ArrayRef, b: &ArrayRef, tol: Option<Tolerance>) -> Result<BooleanBuffer> {
    let internal = |e: arrow::error::ArrowError| Error::Internal(format!("comparing values: {e}"));
    let n = a.len();
    match a.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            // f16 and f32 widen to f64 exactly and injectively, so bits
            // and NaN-ness are kept.
            let a = arrow::compute::cast(a, &DataType::Float64).map_err(internal)?;
            let b = arrow::compute::cast(b, &DataType::Float64).map_err(internal)?;
            let (a, b) = (as_f64(&a)?, as_f64(&b)?);
            let mut out = BooleanBufferBuilder::new(n);
            for (x, y) in a.values().iter().zip(b.values().iter()) {
                out.append(float_eq(*x, *y, tol));
            }
            Ok(out.finish())
        }
        dt if nested(dt) => {
            let conv = RowConverter::new(vec![SortField::new(dt.clone())]).map_err(internal)?;
            let ra = conv
                .convert_columns(std::slice::from_ref(a))
                .map_err(internal)?;
            let rb = conv
                .convert_columns(std::slice::from_ref(b))
                .map_err(internal)?;
            let mut out = BooleanBufferBuilder::new(n);
            for i in 0..n {
                out.append(ra.row(i) == rb.row(i));
            }
            Ok(out.finish())
        }
        _ => {
            let eq = not_distinct(a, b).map_err(internal)?;
            // not_distinct's result has no nulls.
            Ok(eq.values().clone())
        }
    }
}

fn as_f64(a: &ArrayRef) -> Result<&Float64Array> {
    a.as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| Error::Internal("a float column did not widen to float64".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_compare_by_bits_with_nan_equal_to_nan() {
        assert!(float_eq(f64::NAN, -f64::NAN, None));
        assert!(float_eq(
            f64::NAN,
            f64::from_bits(0x7ff8_0000_0000_0001),
            None
        ));
        assert!(!float_eq(0.0, -0.0, None));
        assert!(float_eq(f64::INFINITY, f64::INFINITY, None));
        assert!(!float_eq(f64::INFINITY, f64::NEG_INFINITY, None));
        assert!(!float_eq(1.0, 1.0 + f64::EPSILON, None));
        let zero = Some(Tolerance { abs: 0.0, rel: 0.0 });
        assert!(float_eq(0.0, -0.0, zero));
        assert!(!float_eq(1.0, 1.0 + f64::EPSILON, zero));
        let t = Some(Tolerance { abs: 0.1, rel: 0.0 });
        assert!(float_eq(1.0, 1.1 - 1e-12, t));
        assert!(!float_eq(1.0, 1.2, t));
        assert!(!float_eq(f64::INFINITY, f64::MAX, t));
        assert!(!float_eq(f64::NAN, 1.0, t));
        let r = Some(Tolerance {
            abs: 0.0,
            rel: 1e-3,
        });
        assert!(float_eq(1000.0, 1000.9, r));
        assert!(!float_eq(1000.0, 1001.1, r));
        // The difference of two huge finite values overflows: not equal.
        assert!(!float_eq(f64::MAX, -f64::MAX, r));
    }

    #[test]
    fn tolerances_parse_or_say_why_not() {
        let t = |s| Tolerance::parse(s).map(|t| (t.abs, t.rel));
        assert_eq!(t("1e-6").unwrap(), (1e-6, 0.0));
        assert_eq!(t("rel=0.01").unwrap(), (0.0, 0.01));
        assert_eq!(t("abs=2, rel=0.5").unwrap(), (2.0, 0.5));
        for bad in ["", "x", "-1", "inf", "abs=1,foo=2", "rel=NaN"] {
            let e = Tolerance::parse(bad).unwrap_err().to_string();
            assert!(e.contains("--tolerance"), "{e}");
        }
    }
}
