//! Every input format and compression gives the same profile of the same data.

use std::sync::Arc;

use arrow::array::*;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use skewer::profile::DatasetProfile;
use skewer::source::{CsvOptions, Format, SourceOptions};

use crate::common::*;

/// The same statistics, allowing moments to differ in the last bits (their
/// merge order follows the partitioning, which formats choose differently).
pub fn assert_same_stats(a: &DatasetProfile, b: &DatasetProfile, what: &str) {
    assert_eq!(a.num_rows, b.num_rows, "{what}: rows");
    assert_eq!(a.features.len(), b.features.len(), "{what}: features");
    for (x, y) in a.features.iter().zip(&b.features) {
        let mut x = x.clone();
        let mut y = y.clone();
        assert_eq!(x.name, y.name, "{what}");
        if let (Some(n), Some(m)) = (x.numeric.as_mut(), y.numeric.as_mut()) {
            for (u, v) in [
                (&mut n.mean, &mut m.mean),
                (&mut n.variance, &mut m.variance),
                (&mut n.std_dev, &mut m.std_dev),
                (&mut n.skewness, &mut m.skewness),
                (&mut n.kurtosis, &mut m.kurtosis),
            ] {
                match (*u, *v) {
                    (Some(p), Some(q)) if p.is_finite() => {
                        assert!(
                            (p - q).abs() <= 1e-9 * p.abs().max(1.0),
                            "{what}: {}: {p} vs {q}",
                            x.name
                        );
                        *v = *u;
                    }
                    _ => {
                        // Both absent or both non-finite (sums that overflow f64).
                        assert_eq!(
                            u.is_some_and(f64::is_finite),
                            v.is_some_and(f64::is_finite),
                            "{what}: {}",
                            x.name
                        );
                        assert_eq!(u.is_some(), v.is_some(), "{what}: {}", x.name);
                        (*u, *v) = (None, None);
                    }
                }
            }
            n.moments = Default::default();
            m.moments = Default::default();
        }
        assert_eq!(x, y, "{what}: feature {}", x.name);
    }
}

fn sample(n: usize) -> RecordBatch {
    // The columns CSV can represent exactly and infers back to the same type.
    let mut rng = Rng::new(11);
    let f = awkward_f64(&mut rng, n, 0.1);
    let f: Float64Array = f.iter().map(|v| v.filter(|x| x.is_finite())).collect();
    let i: Int64Array = awkward_i64(&mut rng, n, 0.1);
    let b: BooleanArray = (0..n)
        .map(|_| (!rng.chance(0.1)).then(|| rng.chance(0.4)))
        .collect();
    let s = strings(&mut rng, n, 30, 0.1);
    RecordBatch::try_from_iter(vec![
        ("f", Arc::new(f) as ArrayRef),
        ("i", Arc::new(i) as ArrayRef),
        ("b", Arc::new(b) as ArrayRef),
        ("s", Arc::new(s) as ArrayRef),
    ])
    .unwrap()
}

#[test]
fn parquet_compressions_ipc_and_csv_agree() {
    let dir = tmp();
    let batch = sample(5000);
    let (src, po) = opts(512, 1 << 30);
    let base_path = dir.path().join("plain.parquet");
    write_parquet(
        &base_path,
        std::slice::from_ref(&batch),
        Compression::UNCOMPRESSED,
        1000,
    );
    let base = profile_files(&[base_path], &src, &po).unwrap();
    crate::oracle::check_profile(&base, &batch);
    let comps = [
        Compression::SNAPPY,
        Compression::GZIP(GzipLevel::default()),
        Compression::ZSTD(ZstdLevel::default()),
        Compression::LZ4_RAW,
        Compression::BROTLI(BrotliLevel::default()),
    ];
    for c in comps {
        let p = dir
            .path()
            .join(format!("{c:?}.parquet").replace(['(', ')', ' ', '{', '}', ':'], "_"));
        write_parquet(&p, std::slice::from_ref(&batch), c, 777);
        let got = profile_files(&[p], &src, &po).unwrap();
        assert_same_stats(&base, &got, &format!("{c:?}"));
    }
    let p = dir.path().join("t.arrow");
    write_ipc_file(&p, &[batch.slice(0, 2500), batch.slice(2500, 2500)]);
    assert_same_stats(
        &base,
        &profile_files(&[p], &src, &po).unwrap(),
        "arrow file",
    );
    let p = dir.path().join("t.arrows");
    write_ipc_stream(&p, std::slice::from_ref(&batch));
    assert_same_stats(
        &base,
        &profile_files(&[p], &src, &po).unwrap(),
        "arrow stream",
    );
    let p = dir.path().join("t.csv");
    write_csv(&p, std::slice::from_ref(&batch));
    let csv = profile_files(std::slice::from_ref(&p), &src, &po).unwrap();
    assert_same_stats(&base, &csv, "csv");
    // --format overrides the extension.
    let q = dir.path().join("t.data");
    std::fs::copy(&p, &q).unwrap();
    let src2 = SourceOptions {
        format: Some(Format::Csv),
        ..src.clone()
    };
    assert_same_stats(
        &base,
        &profile_files(&[q], &src2, &po).unwrap(),
        "csv by --format",
    );
}

#[test]
fn several_files_form_one_dataset_and_columns_project() {
    let dir = tmp();
    let batch = sample(3000);
    let (src, po) = opts(256, 1 << 30);
    let whole = dir.path().join("whole.parquet");
    write_parquet(
        &whole,
        std::slice::from_ref(&batch),
        Compression::SNAPPY,
        1000,
    );
    let mut parts = Vec::new();
    for k in 0..3 {
        let p = dir.path().join(format!("part{k}.parquet"));
        write_parquet(
            &p,
            &[batch.slice(k * 1000, 1000)],
            Compression::SNAPPY,
            1000,
        );
        parts.push(p);
    }
    let a = profile_files(std::slice::from_ref(&whole), &src, &po).unwrap();
    let b = profile_files(&parts, &src, &po).unwrap();
    assert_same_stats(&a, &b, "three files");
    assert_eq!(b.sources.len(), 3);
    let proj = SourceOptions {
        columns: Some(vec!["s".into(), "f".into()]),
        ..src.clone()
    };
    let c = profile_files(&[whole], &proj, &po).unwrap();
    let names: Vec<&str> = c.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["f", "s"]);
    assert_eq!(c.features[0], a.features[0]);
}

#[test]
fn csv_options_and_stated_types() {
    let dir = tmp();
    let p = dir.path().join("semi.txt");
    std::fs::write(&p, "zip;price;name\n'00501';1;'a;b'\n'02134';2.5;c\n;;\n").unwrap();
    let src = SourceOptions {
        format: Some(Format::Csv),
        csv: CsvOptions {
            delimiter: b';',
            quote: b'\'',
            types: vec![("zip".into(), DataType::Utf8)],
            ..Default::default()
        },
        ..Default::default()
    };
    let prof = profile_files(&[p], &src, &Default::default()).unwrap();
    let zip = feature(&prof, "zip");
    assert_eq!(zip.type_name, "utf8");
    let top: Vec<&str> = zip
        .categorical
        .as_ref()
        .unwrap()
        .top_values
        .iter()
        .map(|v| v.value.as_str())
        .collect();
    assert_eq!(
        top,
        ["00501", "02134"],
        "leading zeros kept by --type zip=utf8"
    );
    let price = feature(&prof, "price");
    assert_eq!(price.type_name, "float64");
    assert_eq!(price.missing, 1);
    assert_eq!(
        feature(&prof, "name")
            .categorical
            .as_ref()
            .unwrap()
            .top_values[0]
            .value,
        "a;b"
    );
    // No header: columns are named column_1...
    let q = dir.path().join("nohead.csv");
    std::fs::write(&q, "1,x\n2,y\n").unwrap();
    let src = SourceOptions {
        csv: CsvOptions {
            has_header: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let prof = profile_files(&[q], &src, &Default::default()).unwrap();
    assert_eq!(prof.features[0].name, "column_1");
    assert_eq!(prof.num_rows, 2);

    // A value that does not parse as its stated type: the file, the
    // column by name and the file's line.
    let bad = dir.path().join("bad_ts.csv");
    std::fs::write(
        &bad,
        "v,ts\n1,2026-01-01T00:00:00\n2,2026-01-01T01:00:00\n3,bad\n",
    )
    .unwrap();
    fails_with(
        &[
            "profile",
            bad.to_str().unwrap(),
            "--type",
            "ts=timestamp[s]",
            "--quiet",
        ],
        &["bad_ts.csv", "column \"ts\", line 4", "'bad'"],
    );
}

#[test]
fn zero_rows_is_a_valid_profile() {
    let dir = tmp();
    let batch = all_types_batch(3, 0);
    let p = dir.path().join("empty.parquet");
    write_parquet(&p, std::slice::from_ref(&batch), Compression::SNAPPY, 100);
    let prof = profile_files(&[p], &Default::default(), &Default::default()).unwrap();
    assert_eq!(prof.num_rows, 0);
    crate::oracle::check_profile(&prof, &batch);
    let q = dir.path().join("header_only.csv");
    std::fs::write(&q, "a,b\n").unwrap();
    let prof = profile_files(&[q], &Default::default(), &Default::default()).unwrap();
    assert_eq!(prof.num_rows, 0);
    assert_eq!(prof.features.len(), 2);
}

#[test]
fn distinct_values_beyond_the_cap_become_a_stated_estimate() {
    let dir = tmp();
    let n = 20_000;
    let s: StringArray = (0..n).map(|i| Some(format!("id{}", i % 5000))).collect();
    let batch = RecordBatch::try_from_iter(vec![("s", Arc::new(s) as ArrayRef)]).unwrap();
    let p = dir.path().join("many.parquet");
    write_parquet(&p, std::slice::from_ref(&batch), Compression::SNAPPY, 4000);
    let (src, mut po) = opts(1000, 1 << 30);
    po.stats.unique_cap = 100;
    let prof = profile_files(std::slice::from_ref(&p), &src, &po).unwrap();
    let c = feature(&prof, "s").categorical.as_ref().unwrap();
    assert!(!c.unique_exact);
    let err = c.unique_rel_std_error.unwrap();
    assert!(
        (c.unique as f64 - 5000.0).abs() <= 4.0 * err * 5000.0,
        "estimate {} of 5000 (rel. std. error {err})",
        c.unique
    );
    assert_eq!(c.value_counts.len(), 100, "the cap bounds the exact table");
    assert_eq!(
        c.value_counts.iter().map(|v| v.count).sum::<u64>() + c.other_count,
        n as u64
    );
    assert!(c.other_hll.is_some());
    // Deterministic whatever the batch size (which values stay exact).
    let (src2, _) = opts(333, 1 << 30);
    let again = profile_files(&[p], &src2, &po).unwrap();
    assert_eq!(
        feature(&again, "s").categorical,
        feature(&prof, "s").categorical
    );
}
