//! The CPU backend against slow, obviously-correct code: sorting for
//! quantiles, compensated sums for moments, numpy's histogram rule written
//! out, hash maps for value counts. Seeded data with every awkward value, at
//! sizes that cross batch, partition and pass-two boundaries.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use skewer::profile::keys::Num;
use skewer::profile::{DatasetProfile, FeatureProfile};

use crate::common::*;

/// A present value of a numeric column, as the oracle sees it.
#[derive(Clone, Copy, Debug)]
enum V {
    I(i128),
    F(f64),
}

impl V {
    fn f(self) -> f64 {
        match self {
            V::I(x) => x as f64,
            V::F(x) => x,
        }
    }
    fn cmp(&self, o: &V) -> std::cmp::Ordering {
        match (self, o) {
            (V::I(a), V::I(b)) => a.cmp(b),
            _ => self.f().total_cmp(&o.f()),
        }
    }
    fn eq_num(self, n: Num) -> bool {
        match (self, n) {
            (V::I(a), Num::Int(b)) => a == b as i128,
            (V::I(a), Num::UInt(b)) => a == b as i128,
            (V::F(a), Num::Float(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}

/// Present values of a numeric array (list columns: their elements).
fn values(a: &dyn Array) -> Vec<V> {
    let a = match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            let mut out = Vec::new();
            for i in 0..l.len() {
                if l.is_valid(i) {
                    out.extend(values(l.value(i).as_ref()));
                }
            }
            return out;
        }
        DataType::Decimal128(_, s) => {
            let d = a.as_primitive::<Decimal128Type>();
            let div = 10f64.powi(*s as i32);
            return d.iter().flatten().map(|v| V::F(v as f64 / div)).collect();
        }
        DataType::Float16 => {
            return a
                .as_primitive::<Float16Type>()
                .iter()
                .flatten()
                .map(|v| V::F(v.to_f64()))
                .collect();
        }
        DataType::Float32 => {
            return a
                .as_primitive::<Float32Type>()
                .iter()
                .flatten()
                .map(|v| V::F(v as f64))
                .collect();
        }
        DataType::Float64 => {
            return a
                .as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .map(V::F)
                .collect()
        }
        DataType::UInt64 => {
            return a
                .as_primitive::<UInt64Type>()
                .iter()
                .flatten()
                .map(|v| V::I(v as i128))
                .collect();
        }
        _ => arrow::compute::cast(a, &DataType::Int64).unwrap(),
    };
    a.as_primitive::<Int64Type>()
        .iter()
        .flatten()
        .map(|v| V::I(v as i128))
        .collect()
}

/// Neumaier-compensated sum.
fn csum(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in xs {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    s + c
}

fn close(got: Option<f64>, want: f64, scale: f64, what: &str, col: &str) {
    let g = got.unwrap_or_else(|| panic!("{col}: {what} missing, want {want}"));
    let tol = 1e-9 * scale.max(want.abs()).max(1e-300);
    assert!(
        (g - want).abs() <= tol,
        "{col}: {what} = {g}, oracle {want}"
    );
}

fn check_numeric(
    col: &str,
    f: &FeatureProfile,
    arr: &dyn Array,
    opts: &skewer::profile::StatsOptions,
) {
    let n = f
        .numeric
        .as_ref()
        .unwrap_or_else(|| panic!("{col}: no numeric stats"));
    let all = values(arr);
    let (nan, pinf, ninf) = all.iter().fold((0, 0, 0), |(a, b, c), v| match v {
        V::F(x) if x.is_nan() => (a + 1, b, c),
        V::F(x) if *x == f64::INFINITY => (a, b + 1, c),
        V::F(x) if *x == f64::NEG_INFINITY => (a, b, c + 1),
        _ => (a, b, c),
    });
    assert_eq!(
        (n.nan, n.pos_inf, n.neg_inf),
        (nan, pinf, ninf),
        "{col}: nan/inf counts"
    );
    let zeros = all.iter().filter(|v| v.f() == 0.0).count() as u64;
    assert_eq!(n.zeros, zeros, "{col}: zeros");
    let mut fin: Vec<V> = all.into_iter().filter(|v| v.f().is_finite()).collect();
    fin.sort_by(|a, b| a.cmp(b));
    assert_eq!(n.finite, fin.len() as u64, "{col}: finite");
    if fin.is_empty() {
        assert!(
            n.min.is_none() && n.max.is_none() && n.mean.is_none(),
            "{col}: stats of nothing"
        );
        assert!(
            n.quantiles.is_empty() && n.histogram.is_empty(),
            "{col}: histogram of nothing"
        );
        return;
    }
    let len = fin.len() as u64;
    assert!(
        fin[0].eq_num(n.min.unwrap()),
        "{col}: min {:?} vs {:?}",
        n.min,
        fin[0]
    );
    assert!(fin[fin.len() - 1].eq_num(n.max.unwrap()), "{col}: max");
    // Quantiles: numpy inverted_cdf, k = max(0, ceil(p n) - 1).
    let at = |p: f64| {
        let k = ((p * len as f64).ceil() as i64 - 1).clamp(0, len as i64 - 1);
        fin[k as usize]
    };
    for q in &n.quantiles {
        assert!(
            at(q.rank).eq_num(q.value),
            "{col}: quantile {} = {:?}, oracle {:?}",
            q.rank,
            q.value,
            at(q.rank)
        );
    }
    assert!(n.quantiles_exact && n.histograms_exact);
    // Moments, unless the sums overflow f64 (then they must not be a finite lie).
    let xs: Vec<f64> = fin.iter().map(|v| v.f()).collect();
    let m = csum(xs.iter().copied()) / len as f64;
    {
        let c = csum(xs.iter().map(|x| x - m)) / len as f64;
        let s2 = csum(xs.iter().map(|x| (x - m).powi(2)));
        let s3 = csum(xs.iter().map(|x| (x - m).powi(3)));
        let s4 = csum(xs.iter().map(|x| (x - m).powi(4)));
        let nn = len as f64;
        let m2 = s2 - nn * c * c;
        let m3 = s3 - 3.0 * c * s2 + 2.0 * nn * c.powi(3);
        let m4 = s4 - 4.0 * c * s3 + 6.0 * c * c * s2 - 3.0 * nn * c.powi(4);
        let var = m2 / nn;
        let sd = var.sqrt();
        if !var.is_finite() {
            // The sums overflow f64: the result must not be a finite lie.
            assert!(
                n.variance.is_none_or(|v| !v.is_finite()),
                "{col}: variance of overflowing data"
            );
            return check_histograms(col, n, &fin, opts);
        }
        close(n.mean, m + c, sd, "mean", col);
        close(n.variance, var, 0.0, "variance", col);
        if var > 0.0 && var.is_finite() {
            close(
                n.skewness,
                nn.sqrt() * m3 / m2.powf(1.5),
                1.0,
                "skewness",
                col,
            );
            close(n.kurtosis, nn * m4 / (m2 * m2) - 3.0, 1.0, "kurtosis", col);
        }
    }
    check_histograms(col, n, &fin, opts);
}

fn check_histograms(
    col: &str,
    n: &skewer::profile::NumericStats,
    fin: &[V],
    opts: &skewer::profile::StatsOptions,
) {
    let len = fin.len() as u64;
    let xs: Vec<f64> = fin.iter().map(|v| v.f()).collect();
    let at = |p: f64| {
        let k = ((p * len as f64).ceil() as i64 - 1).clamp(0, len as i64 - 1);
        fin[k as usize]
    };
    // Equal-width histogram: numpy's edges, bins found by scanning them.
    let (lo, hi) = (
        xs.iter().cloned().fold(f64::INFINITY, f64::min),
        xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
    );
    if lo == hi {
        assert_eq!(n.histogram.len(), 1, "{col}: constant histogram");
        assert_eq!(n.histogram[0].count, len);
    } else if (hi - lo).is_finite() {
        let b = opts.bins;
        let step = (hi - lo) / b as f64;
        let mut edges: Vec<f64> = (0..=b).map(|i| i as f64 * step + lo).collect();
        edges[b] = hi;
        let mut counts = vec![0u64; b];
        for &x in &xs {
            let i = (0..b).rev().find(|&i| edges[i] <= x).unwrap_or(0);
            counts[i] += 1;
        }
        let got: Vec<u64> = n.histogram.iter().map(|h| h.count).collect();
        assert_eq!(got, counts, "{col}: histogram");
        for (h, e) in n.histogram.iter().zip(edges.windows(2)) {
            assert_eq!((h.low, h.high), (e[0], e[1]), "{col}: histogram edges");
        }
    } else {
        let total: u64 = n.histogram.iter().map(|h| h.count).sum();
        assert_eq!(total, len, "{col}: histogram over an overflowing range");
    }
    // Quantile histogram: boundaries at ranks i/B, counts by comparison.
    let b = opts.quantile_bins;
    let bounds: Vec<V> = (0..=b).map(|i| at(i as f64 / b as f64)).collect();
    assert_eq!(n.quantile_histogram.len(), b);
    for (i, qb) in n.quantile_histogram.iter().enumerate() {
        assert!(
            bounds[i].eq_num(qb.low) && bounds[i + 1].eq_num(qb.high),
            "{col}: quantile bucket {i} bounds"
        );
        let want = fin
            .iter()
            .filter(|v| {
                v.cmp(&bounds[i]).is_ge()
                    && (v.cmp(&bounds[i + 1]).is_lt()
                        || (i + 1 == b && v.cmp(&bounds[i + 1]).is_le()))
            })
            .count() as u64;
        assert_eq!(qb.count, want, "{col}: quantile bucket {i} count");
    }
}

/// Present values of a categorical array as bytes (lists: their elements).
fn cat_values(a: &dyn Array) -> Vec<Vec<u8>> {
    match a.data_type() {
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            (0..l.len())
                .filter(|&i| l.is_valid(i))
                .flat_map(|i| cat_values(l.value(i).as_ref()))
                .collect()
        }
        DataType::Boolean => a
            .as_boolean()
            .iter()
            .flatten()
            .map(|b| b.to_string().into_bytes())
            .collect(),
        DataType::Binary => a
            .as_binary::<i32>()
            .iter()
            .flatten()
            .map(|b| b.to_vec())
            .collect(),
        _ => {
            let s = arrow::compute::cast(a, &DataType::Utf8).unwrap();
            s.as_string::<i32>()
                .iter()
                .flatten()
                .map(|v| v.as_bytes().to_vec())
                .collect()
        }
    }
}

fn check_categorical(col: &str, f: &FeatureProfile, arr: &dyn Array, top_k: usize) {
    let c = f
        .categorical
        .as_ref()
        .unwrap_or_else(|| panic!("{col}: no categorical stats"));
    let vals = cat_values(arr);
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    for v in &vals {
        *counts.entry(v.clone()).or_default() += 1;
    }
    assert_eq!(c.unique, counts.len() as u64, "{col}: unique");
    assert!(c.unique_exact);
    let mut sorted: Vec<(Vec<u8>, u64)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let want: Vec<(String, u64)> = sorted
        .iter()
        .take(top_k)
        .map(|(v, n)| (String::from_utf8_lossy(v).into_owned(), *n))
        .collect();
    let got: Vec<(String, u64)> = c
        .top_values
        .iter()
        .map(|v| (v.value.clone(), v.count))
        .collect();
    assert_eq!(got, want, "{col}: top values");
    if arr.data_type() != &DataType::Boolean && !vals.is_empty() {
        assert_eq!(
            c.min_length,
            vals.iter().map(|v| v.len() as u64).min(),
            "{col}: min length"
        );
        assert_eq!(
            c.max_length,
            vals.iter().map(|v| v.len() as u64).max(),
            "{col}: max length"
        );
        let mean = vals.iter().map(|v| v.len()).sum::<usize>() as f64 / vals.len() as f64;
        close(c.mean_length, mean, 1.0, "mean length", col);
    }
    if arr.data_type() == &DataType::Binary {
        let bad = vals
            .iter()
            .filter(|v| std::str::from_utf8(v).is_err())
            .count() as u64;
        assert_eq!(c.invalid_utf8, Some(bad), "{col}: invalid utf8");
    }
}

/// Check every feature of a profile of `batch`.
pub fn check_profile(p: &DatasetProfile, batch: &RecordBatch) {
    assert_eq!(p.num_rows, batch.num_rows() as u64);
    let mut checked = 0;
    for (field, arr) in batch.schema().fields().iter().zip(batch.columns()) {
        let name = field.name();
        if matches!(field.data_type(), DataType::Struct(_)) {
            assert!(
                p.features.iter().all(|f| &f.name != name),
                "struct column must be skipped"
            );
            assert!(
                p.warnings.iter().any(|w| w.contains(name.as_str())),
                "warning names {name}"
            );
            continue;
        }
        let f = feature(p, name);
        assert_eq!(f.missing, arr.null_count() as u64, "{name}: missing");
        assert_eq!(
            f.count,
            (arr.len() - arr.null_count()) as u64,
            "{name}: count"
        );
        if let DataType::List(_) | DataType::LargeList(_) = field.data_type() {
            let v = f.values_per_row.as_ref().expect("values_per_row");
            let lens: Vec<u64> = (0..arr.len())
                .filter(|&i| arr.is_valid(i))
                .map(|i| match arr.data_type() {
                    DataType::List(_) => arr.as_list::<i32>().value(i).len() as u64,
                    _ => arr.as_list::<i64>().value(i).len() as u64,
                })
                .collect();
            assert_eq!(v.total, lens.iter().sum::<u64>(), "{name}: values total");
            assert_eq!(v.min, lens.iter().min().copied(), "{name}: values min");
            assert_eq!(v.max, lens.iter().max().copied(), "{name}: values max");
        }
        if f.numeric.is_some() {
            check_numeric(name, f, arr.as_ref(), &p.options);
        } else {
            check_categorical(name, f, arr.as_ref(), p.options.top_k);
        }
        checked += 1;
    }
    let expected = batch
        .schema()
        .fields()
        .iter()
        .filter(|f| !matches!(f.data_type(), DataType::Struct(_)))
        .count();
    assert!(
        checked == expected && checked > 0,
        "the test checked {checked} of {expected} columns"
    );
}

/// Every backend (the CPU, and the GPU where an adapter exists) against the
/// slow oracle: one definition, run on each.
#[test]
fn every_backend_matches_the_oracle_at_awkward_sizes() {
    let dir = tmp();
    for (seed, n) in [(1, 0), (2, 1), (3, 2), (4, 3), (5, 999), (6, 4099)] {
        let batch = all_types_batch(seed, n);
        let path = dir.path().join(format!("t{n}.parquet"));
        write_parquet(
            &path,
            std::slice::from_ref(&batch),
            parquet::basic::Compression::SNAPPY,
            700,
        );
        for backend in backends() {
            // 64 KB keeps some numeric leaves and spills others part-way.
            for (bs, budget) in [(64, 0), (1000, 1 << 30), (7, 1 << 30), (300, 64_000)] {
                let (src, mut po) = opts(bs, budget);
                po.backend = backend.clone();
                let p = profile_files(std::slice::from_ref(&path), &src, &po).unwrap();
                assert_eq!(p.backend.kind, backend.kind());
                check_profile(&p, &batch);
            }
        }
    }
}

#[test]
fn many_distinct_values_and_heavy_ties_on_every_backend() {
    // One bucket of the sketch holds most values (ties), another holds many
    // distinct values close together: both must stay exact.
    let mut rng = Rng::new(99);
    let n = 50_000;
    let v: Float64Array = (0..n)
        .map(|i| {
            Some(if i % 3 == 0 {
                0.0
            } else if i % 3 == 1 {
                1.0 + rng.f64() * 1e-9
            } else {
                rng.normal()
            })
        })
        .collect();
    let ids: UInt64Array = (0..n).map(|_| Some(rng.u64())).collect();
    let batch = RecordBatch::try_from_iter(vec![
        ("v", std::sync::Arc::new(v) as ArrayRef),
        ("ids", std::sync::Arc::new(ids) as ArrayRef),
    ])
    .unwrap();
    let dir = tmp();
    let path = dir.path().join("ties.arrow");
    write_ipc_file(&path, std::slice::from_ref(&batch));
    for (backend, budget) in backends()
        .into_iter()
        .flat_map(|b| [(b.clone(), 0), (b, 1 << 30)])
    {
        let (src, mut po) = opts(4096, budget);
        po.backend = backend;
        let p = profile_files(std::slice::from_ref(&path), &src, &po).unwrap();
        for (field, arr) in batch.schema().fields().iter().zip(batch.columns()) {
            check_numeric(
                field.name(),
                feature(&p, field.name()),
                arr.as_ref(),
                &p.options,
            );
        }
    }
}

/// Integers marked categorical (`--categorical`): value counts of their
/// decimal strings, top-k by count then bytes, no byte lengths, no numeric
/// statistics; lists of integers too; unknown or non-integer columns are
/// clear errors.
#[test]
fn integers_marked_categorical() {
    use arrow::array::{ArrayRef, Int16Array, Int64Array, ListArray};
    use arrow::datatypes::Int64Type;
    let mut rng = Rng::new(21);
    let n = 5000;
    let a: Int64Array = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| rng.below(30) as i64 - 10))
        .collect();
    let b: Int16Array = (0..n).map(|_| Some(rng.below(5) as i16)).collect();
    let l = ListArray::from_iter_primitive::<Int64Type, _, _>(
        (0..n)
            .map(|i| (i % 7 != 0).then(|| (0..i % 4).map(|k| Some(k as i64)).collect::<Vec<_>>())),
    );
    let batch = RecordBatch::try_from_iter(vec![
        ("a", Arc::new(a.clone()) as ArrayRef),
        ("b", Arc::new(b.clone()) as ArrayRef),
        ("l", Arc::new(l) as ArrayRef),
        ("x", Arc::new(Float64Array::from(vec![1.0; n])) as ArrayRef),
    ])
    .unwrap();
    let d = tmp();
    let path = d.path().join("cat.parquet");
    write_parquet(
        &path,
        std::slice::from_ref(&batch),
        parquet::basic::Compression::SNAPPY,
        1500,
    );
    let (src, mut o) = opts(700, 1 << 30);
    o.categorical = vec!["a".into(), "b".into(), "l".into()];
    let p = profile_files(std::slice::from_ref(&path), &src, &o).unwrap();
    for (name, arr) in [("a", &a as &dyn Array), ("b", &b as &dyn Array)] {
        let f = feature(&p, name);
        assert!(f.numeric.is_none(), "{name}");
        let c = f.categorical.as_ref().unwrap();
        let mut want = std::collections::BTreeMap::<String, u64>::new();
        let ints = arrow::compute::cast(arr, &arrow::datatypes::DataType::Int64).unwrap();
        for v in ints.as_primitive::<Int64Type>().iter().flatten() {
            *want.entry(v.to_string()).or_default() += 1;
        }
        let got: std::collections::BTreeMap<String, u64> = c
            .value_counts
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect();
        assert_eq!(got, want, "{name}");
        assert_eq!(c.unique, want.len() as u64);
        assert_eq!(c.min_length, None, "{name}: no byte lengths for integers");
        let mut sorted: Vec<(&String, &u64)> = want.iter().collect();
        sorted.sort_by(|x, y| y.1.cmp(x.1).then(x.0.as_bytes().cmp(y.0.as_bytes())));
        assert_eq!(c.top_values[0].value, *sorted[0].0);
    }
    let l = feature(&p, "l");
    assert_eq!(l.kind, skewer::profile::Kind::Categorical);
    assert_eq!(l.values_per_row.as_ref().unwrap().max, Some(3));
    assert!(feature(&p, "x").numeric.is_some());
    // Errors name the problem.
    o.categorical = vec!["x".into()];
    let e = profile_files(std::slice::from_ref(&path), &src, &o).unwrap_err();
    assert!(e.to_string().contains("only integer columns"), "{e}");
    o.categorical = vec!["nope".into()];
    let e = profile_files(std::slice::from_ref(&path), &src, &o).unwrap_err();
    assert!(e.to_string().contains("no column named \"nope\""), "{e}");
}
