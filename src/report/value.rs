//! One value of a column as text, the way skewer shows values everywhere a
//! single value is printed (`validate --examples`, `skew`'s samples and
//! keys).
//!
//! Arrow's display does most of it, with three exceptions that matter for
//! people reading the output:
//!
//! - **Named time zones** (`UTC`, `Europe/Paris`): Arrow formats them only
//!   with the chrono-tz tables, which skewer does not build; its formatter
//!   refuses the whole array. Those timestamps (also inside lists) are
//!   shown as the UTC instant they store, with a `Z`.
//! - **Strings and binaries** are shown as profiles and domains label
//!   them: the text itself, or `0x…` for bytes that are not UTF-8 (Arrow
//!   shows binaries as hex even when they are text).
//! - **Nulls inside lists** are `null` (Arrow's default is nothing).
//!
//! A type Arrow cannot display at all is shown as `<type>`, never as
//! nothing: an empty string would read as an empty value.

pub use crate::profile::categorical::bytes_at;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::{Error, Result};
use crate::profile::ValueCount;

/// How the values of one array are written as text, built once per array
/// (casting named time zones away) and then asked for any of its values.
pub struct ValueText {
    array: ArrayRef,
    /// The array as formatted: itself, or with named time zones dropped.
    utc: ArrayRef,
    /// Appended to each value: "Z" for timestamps shown in UTC.
    suffix: &'static str,
    /// A dictionary's keys as indices into its values.
    keys: Option<Vec<usize>>,
}

impl ValueText {
    pub fn try_new(a: &ArrayRef) -> Result<ValueText> {
        let plain = without_named_zones(a.data_type());
        let (utc, suffix) = match &plain {
            Some(t) => (
                arrow::compute::cast(a, t)
                    .map_err(|e| Error::Internal(format!("formatting a value: {e}")))?,
                if matches!(t, DataType::Timestamp(_, _)) {
                    "Z"
                } else {
                    ""
                },
            ),
            None => (Arc::clone(a), ""),
        };
        Ok(ValueText {
            array: Arc::clone(a),
            utc,
            suffix,
            keys: matches!(a.data_type(), DataType::Dictionary(_, _))
                .then(|| a.as_any_dictionary().normalized_keys()),
        })
    }

    /// Value `i` as text (the caller handles a null at `i` itself: it is a
    /// missing value, not a value).
    pub fn show(&self, i: usize) -> String {
        let a = self.array.as_ref();
        if let Some(b) = bytes_at(a, i) {
            return ValueCount::of_bytes(b, 1).label();
        }
        if let Some(keys) = &self.keys {
            let values = a.as_any_dictionary().values();
            if let Some(b) = keys.get(i).and_then(|&k| bytes_at(values.as_ref(), k)) {
                return ValueCount::of_bytes(b, 1).label();
            }
        }
        let opts = FormatOptions::default().with_null("null");
        match ArrayFormatter::try_new(self.utc.as_ref(), &opts) {
            Ok(f) => format!("{}{}", f.value(i), self.suffix),
            Err(_) => format!("<{}>", a.data_type()),
        }
    }
}

/// A value of a string column as shown: the empty string in words.
pub fn value_label(s: &str) -> String {
    if s.is_empty() {
        "(empty string)".into()
    } else {
        s.to_string()
    }
}

/// Value `i` of `a` as text, for a single value: only that value is cast.
pub fn value_text(a: &ArrayRef, i: usize) -> Result<String> {
    Ok(ValueText::try_new(&a.slice(i, 1))?.show(0))
}

/// The type with the named time zones of its timestamps dropped (None when
/// it has none). Offsets (`+02:00`) Arrow displays itself.
fn without_named_zones(dt: &DataType) -> Option<DataType> {
    let named = |tz: &str| !tz.starts_with(['+', '-']);
    match dt {
        DataType::Timestamp(u, Some(tz)) if named(tz) => Some(DataType::Timestamp(*u, None)),
        DataType::List(f) => without_named_zones(f.data_type())
            .map(|t| DataType::List(Arc::new(f.as_ref().clone().with_data_type(t)))),
        DataType::LargeList(f) => without_named_zones(f.data_type())
            .map(|t| DataType::LargeList(Arc::new(f.as_ref().clone().with_data_type(t)))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        BinaryArray, Int64Builder, ListBuilder, StringDictionaryBuilder, TimestampSecondArray,
    };
    use arrow::datatypes::Int32Type;

    #[test]
    fn named_zones_bytes_dictionaries_and_nulls_in_lists() {
        let ts: ArrayRef =
            Arc::new(TimestampSecondArray::from(vec![1_700_000_010]).with_timezone("UTC"));
        assert_eq!(value_text(&ts, 0).unwrap(), "2023-11-14T22:13:30Z");
        let off: ArrayRef =
            Arc::new(TimestampSecondArray::from(vec![1_700_000_010]).with_timezone("+02:00"));
        assert_eq!(value_text(&off, 0).unwrap(), "2023-11-15T00:13:30+02:00");
        let bin: ArrayRef = Arc::new(BinaryArray::from_vec(vec![b"ab", &[0xff, 0x00]]));
        assert_eq!(value_text(&bin, 0).unwrap(), "ab");
        assert_eq!(value_text(&bin, 1).unwrap(), "0xff00");
        let mut d = StringDictionaryBuilder::<Int32Type>::new();
        d.append_value("x");
        d.append_value("y");
        let d: ArrayRef = Arc::new(d.finish());
        assert_eq!(value_text(&d, 1).unwrap(), "y");
        let mut l = ListBuilder::new(Int64Builder::new());
        l.values().append_value(1);
        l.values().append_null();
        l.append(true);
        let l: ArrayRef = Arc::new(l.finish());
        assert_eq!(value_text(&l, 0).unwrap(), "[1, null]");
    }
}
