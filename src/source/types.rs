//! The one rule for when two columns of one name hold the same kind of
//! values, and as which type they are read together: the files of one
//! dataset ([`super::Dataset::open`]) and the two sides of the skew join
//! (`skew`).

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field, FieldRef};

/// The type both sides of a column are compared as: dictionaries as their
/// values; nested types that differ only in what does not change a value
/// (a list's child named `item` or `element`, field metadata such as
/// `PARQUET:field_id`, a nested field's nullability) as one type with those
/// made uniform; where the two sides' types differ otherwise, the widest of
/// their family (strings, binaries, signed or unsigned integers, floats);
/// `None` when they are of different families (the feature is reported,
/// not compared). Both sides are cast to it ([`to_type`]).
pub fn common_type(base: &DataType, test: &DataType) -> Option<DataType> {
    let (a, b) = (undict(base), undict(test));
    if a == b {
        return Some(a);
    }
    let (la, lb) = (uniform(&a), uniform(&b));
    if la == lb {
        return Some(la);
    }
    let (na, nb) = (family(&a), family(&b));
    (na.is_some() && na == nb).then(|| na.unwrap_or(a))
}

/// A nested type with its fields' metadata dropped, every field nullable
/// (but a map's keys and entries, which cannot be), and the names Arrow
/// gives by default to the fields whose names are not data: a list's child
/// (`item`), a map's entries (`entries`, `key`, `value`). A struct's
/// fields keep their names: those are data.
fn uniform(dt: &DataType) -> DataType {
    use DataType::*;
    let field = |name: &str, f: &FieldRef, nullable: bool| {
        Arc::new(Field::new(name, uniform(f.data_type()), nullable))
    };
    match dt {
        List(f) => List(field("item", f, true)),
        LargeList(f) => LargeList(field("item", f, true)),
        ListView(f) => ListView(field("item", f, true)),
        LargeListView(f) => LargeListView(field("item", f, true)),
        FixedSizeList(f, n) => FixedSizeList(field("item", f, true), *n),
        Struct(fs) => Struct(fs.iter().map(|f| field(f.name(), f, true)).collect()),
        Map(entries, sorted) => match entries.data_type() {
            Struct(kv) if kv.len() == 2 => Map(
                Arc::new(Field::new(
                    "entries",
                    Struct(vec![field("key", &kv[0], false), field("value", &kv[1], true)].into()),
                    false,
                )),
                *sorted,
            ),
            _ => dt.clone(),
        },
        Dictionary(k, v) => Dictionary(k.clone(), Box::new(uniform(v))),
        other => other.clone(),
    }
}

fn undict(dt: &DataType) -> DataType {
    match dt {
        DataType::Dictionary(_, v) => undict(v),
        other => other.clone(),
    }
}

fn family(dt: &DataType) -> Option<DataType> {
    use DataType::*;
    Some(match dt {
        Utf8 | LargeUtf8 | Utf8View => LargeUtf8,
        Binary | LargeBinary | BinaryView => LargeBinary,
        Int8 | Int16 | Int32 | Int64 => Int64,
        UInt8 | UInt16 | UInt32 | UInt64 => UInt64,
        Float16 | Float32 | Float64 => Float64,
        _ => return None,
    })
}

/// Cast `a` to `to` when it is of another type.
pub fn to_type(
    a: &ArrayRef,
    to: &DataType,
) -> std::result::Result<ArrayRef, arrow::error::ArrowError> {
    if a.data_type() == to {
        Ok(Arc::clone(a))
    } else {
        arrow::compute::cast(a, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types_widen_within_a_family_only() {
        use DataType::*;
        let dict = Dictionary(Box::new(Int32), Box::new(Utf8));
        assert_eq!(common_type(&dict, &Utf8), Some(Utf8));
        assert_eq!(common_type(&Utf8, &LargeUtf8), Some(LargeUtf8));
        assert_eq!(common_type(&Int32, &Int64), Some(Int64));
        assert_eq!(common_type(&Float32, &Float32), Some(Float32));
        assert_eq!(common_type(&Float32, &Float64), Some(Float64));
        assert_eq!(common_type(&Int64, &Float64), None);
        assert_eq!(common_type(&Int64, &UInt64), None);
        assert_eq!(common_type(&Utf8, &Binary), None);
    }

    #[test]
    fn nested_types_differing_in_names_metadata_or_nullability_are_one_type() {
        use DataType::*;
        let item = Arc::new(Field::new("item", Int64, true));
        let element = Arc::new(
            Field::new("element", Int64, false).with_metadata(
                [("PARQUET:field_id".to_string(), "3".to_string())]
                    .into_iter()
                    .collect::<std::collections::HashMap<_, _>>(),
            ),
        );
        let (a, b) = (List(item.clone()), List(element.clone()));
        assert_eq!(common_type(&a, &b), Some(a.clone()));
        assert_eq!(common_type(&b, &a), Some(a.clone()));
        // Both sides cast to it.
        let l = arrow::array::ListArray::new(
            element.clone(),
            arrow::buffer::OffsetBuffer::from_lengths([2]),
            Arc::new(arrow::array::Int64Array::from(vec![1, 2])),
            None,
        );
        let cast = to_type(&(Arc::new(l) as ArrayRef), &a).unwrap();
        assert_eq!(cast.data_type(), &a);
        // Struct fields are data: other names are other types; a list of
        // another value type is another type.
        let s = |n: &str| Struct(vec![Field::new(n, Int64, true)].into());
        assert_eq!(common_type(&s("x"), &s("y")), None);
        let strings = List(Arc::new(Field::new("item", Utf8, true)));
        assert_eq!(common_type(&a, &strings), None);
    }
}
