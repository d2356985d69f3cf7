//! Categorical columns: exact value counts up to a cap, then HyperLogLog.
//!
//! Strings, binaries, dictionaries and booleans (as "true"/"false") are
//! counted in a hash map keyed by the value's bytes. Dictionary arrays count
//! their codes first and touch each distinct value once per batch. Once a
//! column holds `unique_cap` distinct values, values not already in the map
//! add to an "other" mass and to a HyperLogLog sketch (Flajolet et al. 2007,
//! 2^14 registers, relative standard error 1.04/√16384 ≈ 0.81%), whose
//! estimate is added to the exact count of the map: the two sets are
//! disjoint, so the distinct count stays exact whenever "other" is empty.
//!
//! Top-k sorts by count, descending, then by the value's bytes, ascending, so
//! the output never depends on hash order or thread count.

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use hashbrown::HashMap;

use super::model::{CategoricalStats, ValueCount};
use crate::error::{Error, Result};

pub const HLL_BITS: u32 = 14;
const HLL_REGS: usize = 1 << HLL_BITS;

/// HyperLogLog registers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hll(Vec<u8>);

/// A fixed 64-bit hash (FNV-1a then the SplitMix64 finaliser): stable across
/// builds and platforms, so stored sketches merge with new ones.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl Hll {
    pub fn new() -> Self {
        Hll(vec![0; HLL_REGS])
    }

    pub fn insert(&mut self, bytes: &[u8]) {
        let h = stable_hash(bytes);
        let idx = (h >> (64 - HLL_BITS)) as usize;
        let w = (h << HLL_BITS) | (1 << (HLL_BITS - 1));
        let rho = w.leading_zeros() as u8 + 1;
        if rho > self.0[idx] {
            self.0[idx] = rho;
        }
    }

    pub fn merge(&mut self, o: &Hll) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a = (*a).max(*b);
        }
    }

    pub fn estimate(&self) -> f64 {
        let m = HLL_REGS as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self.0.iter().map(|&r| 2f64.powi(-(r as i32))).sum();
        let raw = alpha * m * m / sum;
        let zeros = self.0.iter().filter(|&&r| r == 0).count();
        if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        }
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> std::result::Result<Hll, String> {
        if s.len() != 2 * HLL_REGS {
            return Err(format!("other_hll must be {} hex digits", 2 * HLL_REGS));
        }
        (0..HLL_REGS)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
            .collect::<std::result::Result<Vec<u8>, String>>()
            .map(Hll)
    }
}

impl Default for Hll {
    fn default() -> Self {
        Self::new()
    }
}

/// Pass-one state of a categorical column.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CatAcc {
    /// Travels as a list sorted by value, so equal states are equal bytes.
    #[serde(with = "sorted_counts")]
    counts: HashMap<Vec<u8>, u64>,
    cap: usize,
    other: u64,
    hll: Option<Hll>,
    present: u64,
    len_min: u64,
    len_max: u64,
    len_sum: u64,
    lengths: bool,
    invalid_utf8: Option<u64>,
}

impl CatAcc {
    pub fn new(dt: &DataType, cap: usize) -> Self {
        let binary = matches!(
            value_type(dt),
            DataType::Binary
                | DataType::LargeBinary
                | DataType::BinaryView
                | DataType::FixedSizeBinary(_)
        );
        CatAcc {
            counts: HashMap::new(),
            cap,
            other: 0,
            hll: None,
            present: 0,
            len_min: u64::MAX,
            len_max: 0,
            len_sum: 0,
            lengths: !(matches!(dt, DataType::Boolean) || dt.is_integer()),
            invalid_utf8: binary.then_some(0),
        }
    }

    /// Count `n` occurrences of a value, with its length and UTF-8 checks.
    #[inline]
    fn add(&mut self, v: &[u8], n: u64) {
        self.count(v, n);
        if self.lengths {
            let l = v.len() as u64;
            self.len_min = self.len_min.min(l);
            self.len_max = self.len_max.max(l);
            self.len_sum += l * n;
        }
        if let Some(bad) = &mut self.invalid_utf8 {
            if std::str::from_utf8(v).is_err() {
                *bad += n;
            }
        }
    }

    /// Count `n` occurrences of a value in the table (or beyond the cap).
    #[inline]
    fn count(&mut self, v: &[u8], n: u64) {
        let full = self.counts.len() >= self.cap;
        // One probe whether the value is new or not.
        match self.counts.entry_ref(v) {
            hashbrown::hash_map::EntryRef::Occupied(mut o) => *o.get_mut() += n,
            hashbrown::hash_map::EntryRef::Vacant(e) if !full => {
                e.insert(n);
            }
            hashbrown::hash_map::EntryRef::Vacant(_) => {
                self.other += n;
                self.hll.get_or_insert_with(Hll::new).insert(v);
            }
        }
    }

    /// Count the present values of one array.
    pub fn update(&mut self, array: &dyn Array) -> Result<()> {
        let present = (array.len() - array.logical_null_count()) as u64;
        self.present += present;
        match array.data_type() {
            DataType::Boolean => {
                let b = array.as_boolean();
                let t = b.true_count() as u64;
                if t > 0 {
                    self.add(b"true", t);
                }
                if present > t {
                    self.add(b"false", present - t);
                }
            }
            DataType::Dictionary(_, _) => {
                let d = array.as_any_dictionary();
                let values = d.values();
                let mut per_code = vec![0u64; values.len()];
                let keys = d.normalized_keys();
                match array.logical_nulls() {
                    None => keys.iter().for_each(|&k| per_code[k] += 1),
                    Some(n) => n.valid_indices().for_each(|i| per_code[keys[i]] += 1),
                }
                self.add_code_counts(values.as_ref(), &per_code)?;
            }
            t if t.is_integer() => self.count_integers(array)?,
            _ => for_each_bytes(array, |v| self.add(v, 1))?,
        }
        Ok(())
    }

    /// Integers marked categorical: counted by value, kept as their decimal
    /// strings.
    fn count_integers(&mut self, a: &dyn Array) -> Result<()> {
        use arrow::datatypes::*;
        let mut by_value: HashMap<i128, u64> = HashMap::new();
        macro_rules! count {
            ($t:ty) => {
                for v in a.as_primitive::<$t>().iter().flatten() {
                    *by_value.entry(v as i128).or_default() += 1;
                }
            };
        }
        match a.data_type() {
            DataType::Int8 => count!(Int8Type),
            DataType::Int16 => count!(Int16Type),
            DataType::Int32 => count!(Int32Type),
            DataType::Int64 => count!(Int64Type),
            DataType::UInt8 => count!(UInt8Type),
            DataType::UInt16 => count!(UInt16Type),
            DataType::UInt32 => count!(UInt32Type),
            DataType::UInt64 => count!(UInt64Type),
            other => return Err(Error::Internal(format!("integer counting of {other}"))),
        }
        let mut vals: Vec<(i128, u64)> = by_value.into_iter().collect();
        // Deterministic order for the cap.
        vals.sort_unstable();
        for (v, c) in vals {
            self.add(v.to_string().as_bytes(), c);
        }
        Ok(())
    }

    /// Add counts of integers `base + code` (counted elsewhere, e.g. on the
    /// GPU) for `present` present rows.
    pub fn update_integer_counts(&mut self, base: i128, per_code: &[u64], present: u64) {
        self.present += present;
        for (code, &c) in per_code.iter().enumerate() {
            if c > 0 {
                self.add((base + code as i128).to_string().as_bytes(), c);
            }
        }
    }

    /// Add per-code counts of a dictionary's values (counted elsewhere, e.g.
    /// on the GPU) for `present` present rows.
    pub fn update_dictionary_counts(
        &mut self,
        values: &dyn Array,
        per_code: &[u64],
        present: u64,
    ) -> Result<()> {
        self.present += present;
        self.add_code_counts(values, per_code)
    }

    /// Add a boolean array's counts (counted elsewhere, e.g. on the GPU).
    pub fn update_bool_counts(&mut self, trues: u64, present: u64) {
        self.present += present;
        if trues > 0 {
            self.add(b"true", trues);
        }
        if present > trues {
            self.add(b"false", present - trues);
        }
    }

    fn add_code_counts(&mut self, values: &dyn Array, per_code: &[u64]) -> Result<()> {
        for (code, &c) in per_code.iter().enumerate() {
            if c > 0 {
                let v = bytes_at(values, code).ok_or_else(|| {
                    Error::Internal(format!("dictionary of {}", values.data_type()))
                })?;
                self.add(v, c);
            }
        }
        Ok(())
    }

    pub fn merge(&mut self, o: &CatAcc) {
        let mut entries: Vec<(&Vec<u8>, &u64)> = o.counts.iter().collect();
        if self.counts.len() + entries.len() > self.cap {
            // Deterministic: which values stay exact beyond the cap must not
            // depend on hash order.
            entries.sort_unstable_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        }
        for (v, &c) in entries {
            self.count(v, c);
        }
        if let Some(bad) = &mut self.invalid_utf8 {
            *bad += o.invalid_utf8.unwrap_or(0);
        }
        self.other += o.other;
        if let Some(h) = &o.hll {
            self.hll.get_or_insert_with(Hll::new).merge(h);
        }
        self.present += o.present;
        self.len_min = self.len_min.min(o.len_min);
        self.len_max = self.len_max.max(o.len_max);
        self.len_sum += o.len_sum;
    }

    pub fn present(&self) -> u64 {
        self.present
    }

    pub fn finish(&self, top_k: usize) -> CategoricalStats {
        let mut all: Vec<(&[u8], u64)> = self.counts.iter().map(|(k, &c)| (&k[..], c)).collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let vc = |(v, c): &(&[u8], u64)| ValueCount::of_bytes(v, *c);
        let exact = self.other == 0;
        let unique = all.len() as u64
            + if exact {
                0
            } else {
                self.hll.as_ref().map_or(0.0, Hll::estimate).round() as u64
            };
        let has_len = self.lengths && self.present > 0;
        CategoricalStats {
            unique,
            unique_exact: exact,
            unique_rel_std_error: (!exact).then(|| 1.04 / (HLL_REGS as f64).sqrt()),
            top_values: all.iter().take(top_k).map(vc).collect(),
            min_length: has_len.then_some(self.len_min),
            max_length: has_len.then_some(self.len_max),
            mean_length: has_len.then(|| self.len_sum as f64 / self.present as f64),
            invalid_utf8: self.invalid_utf8,
            value_counts: all.iter().map(vc).collect(),
            other_count: self.other,
            other_hll: self.hll.as_ref().filter(|_| !exact).map(Hll::to_hex),
        }
    }

    /// Rebuild from a stored profile (for merging). Lengths are rebuilt from
    /// the stored min/max/mean.
    pub fn from_stats(
        dt_bool: bool,
        present: u64,
        s: &CategoricalStats,
        cap: usize,
    ) -> std::result::Result<CatAcc, String> {
        let mut counts = HashMap::with_capacity(s.value_counts.len());
        let mut sum = s.other_count;
        for v in &s.value_counts {
            if counts.insert(v.bytes()?.into_owned(), v.count).is_some() {
                return Err(format!("value {:?} is listed twice", v.label()));
            }
            sum = sum.checked_add(v.count).ok_or("value counts overflow")?;
        }
        if sum != present {
            return Err(format!(
                "value counts add up to {sum} but {present} values are present"
            ));
        }
        let hll = s.other_hll.as_deref().map(Hll::from_hex).transpose()?;
        Ok(CatAcc {
            counts,
            cap,
            other: s.other_count,
            hll,
            present,
            len_min: s.min_length.unwrap_or(u64::MAX),
            len_max: s.max_length.unwrap_or(0),
            len_sum: s
                .mean_length
                .map_or(0, |m| (m * present as f64).round() as u64),
            lengths: !dt_bool,
            invalid_utf8: s.invalid_utf8,
        })
    }
}

/// The value type behind a dictionary, or the type itself.
fn value_type(dt: &DataType) -> &DataType {
    match dt {
        DataType::Dictionary(_, v) => v,
        other => other,
    }
}

/// Whether a type is profiled as categorical.
pub fn is_categorical(dt: &DataType) -> bool {
    use DataType::*;
    match dt {
        Boolean | Utf8 | LargeUtf8 | Utf8View | Binary | LargeBinary | BinaryView
        | FixedSizeBinary(_) => true,
        Dictionary(_, v) => matches!(
            v.as_ref(),
            Utf8 | LargeUtf8 | Utf8View | Binary | LargeBinary | BinaryView
        ),
        _ => false,
    }
}

/// The bytes of a string or binary value (None for other types).
pub fn bytes_at(a: &dyn Array, i: usize) -> Option<&[u8]> {
    use DataType::*;
    Some(match a.data_type() {
        Utf8 => a.as_string::<i32>().value(i).as_bytes(),
        LargeUtf8 => a.as_string::<i64>().value(i).as_bytes(),
        Utf8View => a.as_string_view().value(i).as_bytes(),
        Binary => a.as_binary::<i32>().value(i),
        LargeBinary => a.as_binary::<i64>().value(i),
        BinaryView => a.as_binary_view().value(i),
        FixedSizeBinary(_) => a.as_fixed_size_binary().value(i),
        _ => return None,
    })
}

macro_rules! each {
    ($a:expr, $f:expr, $conv:expr) => {{
        let a = $a;
        match a.nulls().filter(|n| n.null_count() > 0) {
            None => (0..a.len()).for_each(|i| $f($conv(a.value(i)))),
            Some(n) => n.valid_indices().for_each(|i| $f($conv(a.value(i)))),
        }
    }};
}

fn for_each_bytes(a: &dyn Array, mut f: impl FnMut(&[u8])) -> Result<()> {
    use DataType::*;
    match a.data_type() {
        Utf8 => each!(a.as_string::<i32>(), f, str::as_bytes),
        LargeUtf8 => each!(a.as_string::<i64>(), f, str::as_bytes),
        Utf8View => each!(a.as_string_view(), f, str::as_bytes),
        Binary => each!(a.as_binary::<i32>(), f, |v| v),
        LargeBinary => each!(a.as_binary::<i64>(), f, |v| v),
        BinaryView => each!(a.as_binary_view(), f, |v| v),
        FixedSizeBinary(_) => each!(a.as_fixed_size_binary(), f, |v| v),
        other => return Err(Error::Internal(format!("categorical counting of {other}"))),
    }
    Ok(())
}

/// Value counts as a list of `(value, count)` sorted by value.
mod sorted_counts {
    use hashbrown::HashMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(m: &HashMap<Vec<u8>, u64>, s: S) -> Result<S::Ok, S::Error> {
        let mut v: Vec<(&Vec<u8>, &u64)> = m.iter().collect();
        v.sort_unstable();
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HashMap<Vec<u8>, u64>, D::Error> {
        let v: Vec<(Vec<u8>, u64)> = Vec::deserialize(d)?;
        let n = v.len();
        let m: HashMap<Vec<u8>, u64> = v.into_iter().collect();
        if m.len() != n {
            return Err(serde::de::Error::custom("a value counted twice"));
        }
        Ok(m)
    }
}
