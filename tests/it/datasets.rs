//! Datasets, not just files: folders with Hive partitions, globs, files of
//! one dataset in different widths, and a side of compare given as a folder.

use std::path::Path;
use std::sync::Arc;

use arrow::array::*;
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use parquet::basic::Compression;

use crate::common::*;
use crate::formats::assert_same_stats;

/// x (floats), s (strings), then the columns that become partition keys:
/// day (integers) and region (strings).
fn sample(n: usize) -> RecordBatch {
    let mut rng = Rng::new(5);
    let x = awkward_f64(&mut rng, n, 0.05);
    let s = strings(&mut rng, n, 20, 0.05);
    let day: Int64Array = (0..n).map(|i| Some((i % 3) as i64 + 1)).collect();
    let region: StringArray = (0..n)
        .map(|i| Some(["eu west", "us"][(i / 7) % 2]))
        .collect();
    RecordBatch::try_from_iter(vec![
        ("x", Arc::new(x) as ArrayRef),
        ("s", Arc::new(s) as ArrayRef),
        ("day", Arc::new(day) as ArrayRef),
        ("region", Arc::new(region) as ArrayRef),
    ])
    .unwrap()
}

/// Write the rows of `files` as `root/day=D/region=R/part-0.parquet`, by
/// the day and region of `batch` (a [`sample`]), with Spark's marker files
/// beside them.
fn write_hive(root: &Path, batch: &RecordBatch, files: &RecordBatch) {
    let days = batch
        .column(2)
        .as_primitive::<arrow::datatypes::Int64Type>();
    let regions = batch.column(3).as_string::<i32>();
    for day in 1..=3i64 {
        for region in ["eu west", "us"] {
            let keep: BooleanArray = (0..batch.num_rows())
                .map(|i| Some(days.value(i) == day && regions.value(i) == region))
                .collect();
            let rows = filter_record_batch(files, &keep).unwrap();
            // Hive escapes the space in a folder name.
            let dir = root.join(format!("day={day}/region={}", region.replace(' ', "%20")));
            std::fs::create_dir_all(&dir).unwrap();
            write_parquet(
                &dir.join("part-0.parquet"),
                &[rows],
                Compression::SNAPPY,
                100,
            );
            std::fs::write(dir.join("_SUCCESS"), b"").unwrap();
        }
    }
}

#[test]
fn a_hive_folder_profiles_as_the_whole_file_with_its_keys_as_columns() {
    let dir = tmp();
    let batch = sample(4000);
    let whole = dir.path().join("whole.parquet");
    write_parquet(
        &whole,
        std::slice::from_ref(&batch),
        Compression::SNAPPY,
        1000,
    );
    let root = dir.path().join("table");
    write_hive(&root, &batch, &batch.project(&[0, 1]).unwrap());
    let (src, po) = opts(300, 1 << 30);
    let a = profile_files(std::slice::from_ref(&whole), &src, &po).unwrap();
    let b = profile_files(std::slice::from_ref(&root), &src, &po).unwrap();
    assert_eq!(b.sources.len(), 6, "{:?}", b.sources);
    assert_same_stats(&a, &b, "hive folder");
    assert_eq!(feature(&b, "day").type_name, "int64");
    assert_eq!(feature(&b, "region").type_name, "utf8");
    // A quoted glob below the folder: its keys still become columns, and
    // a column list may name keys only.
    let pattern = root.join("day=*/region=us/*.parquet");
    let only_keys = skewer::source::SourceOptions {
        columns: Some(vec!["region".into(), "day".into()]),
        ..src.clone()
    };
    let c = profile_files(&[pattern], &only_keys, &po).unwrap();
    let names: Vec<&str> = c.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["day", "region"]);
    let us = batch
        .column(3)
        .as_string::<i32>()
        .iter()
        .filter(|r| *r == Some("us"))
        .count() as u64;
    assert_eq!(c.num_rows, us);
    assert_eq!(feature(&c, "region").count, us);
}

#[test]
fn files_of_one_dataset_widen_to_one_type_and_a_conflict_names_both() {
    let dir = tmp();
    let batch = sample(2000);
    let (src, po) = opts(256, 1 << 30);
    let x = |b: &RecordBatch, t: &DataType| {
        // x as integers in the given type.
        let ints: Int32Array = b
            .column(0)
            .as_primitive::<arrow::datatypes::Float64Type>()
            .iter()
            .map(|v| {
                v.filter(|v| v.is_finite())
                    .map(|v| v.clamp(-1e9, 1e9) as i32)
            })
            .collect();
        RecordBatch::try_from_iter(vec![
            ("x", cast(&ints, t).unwrap()),
            ("s", b.column(1).clone()),
        ])
        .unwrap()
    };
    let whole = dir.path().join("whole.parquet");
    write_parquet(
        &whole,
        &[x(&batch, &DataType::Int64)],
        Compression::SNAPPY,
        700,
    );
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    write_parquet(
        &parts.join("a.parquet"),
        &[x(&batch.slice(0, 1200), &DataType::Int32)],
        Compression::SNAPPY,
        700,
    );
    write_parquet(
        &parts.join("b.parquet"),
        &[x(&batch.slice(1200, 800), &DataType::Int64)],
        Compression::SNAPPY,
        700,
    );
    let a = profile_files(std::slice::from_ref(&whole), &src, &po).unwrap();
    let b = profile_files(std::slice::from_ref(&parts), &src, &po).unwrap();
    assert_eq!(feature(&b, "x").type_name, "int64");
    assert_same_stats(&a, &b, "int32 and int64 files");

    let strings = RecordBatch::try_from_iter(vec![
        ("x", cast(batch.column(1), &DataType::Utf8).unwrap()),
        ("s", batch.column(1).clone()),
    ])
    .unwrap();
    write_parquet(
        &parts.join("c.parquet"),
        &[strings],
        Compression::SNAPPY,
        700,
    );
    fails_with(
        &["profile", parts.to_str().unwrap()],
        &["c.parquet", "b.parquet", "\"x\"", "utf8"],
    );
}

#[test]
fn compare_takes_a_folder_or_a_quoted_glob_per_side_and_bad_datasets_exit_2() {
    let dir = tmp();
    let batch = sample(3000);
    let (base, current) = (dir.path().join("base"), dir.path().join("current"));
    for (side, rows) in [
        (&base, batch.slice(0, 1500)),
        (&current, batch.slice(1500, 1500)),
    ] {
        std::fs::create_dir(side).unwrap();
        write_parquet(
            &side.join("a.parquet"),
            &[rows.slice(0, 700)],
            Compression::SNAPPY,
            300,
        );
        write_parquet(
            &side.join("b.parquet"),
            &[rows.slice(700, 800)],
            Compression::SNAPPY,
            300,
        );
    }
    let glob = format!("{}/*.parquet", current.display());
    let out = dir.path().join("drift.json");
    let o = skewer(&[
        "compare",
        base.to_str().unwrap(),
        &glob,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let drift: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rows = |side: &str| drift[side]["num_rows"].as_u64();
    assert_eq!(
        (rows("base"), rows("current")),
        (Some(1500), Some(1500)),
        "{drift}"
    );

    std::fs::create_dir(dir.path().join("empty")).unwrap();
    std::fs::write(dir.path().join("empty/notes.md"), b"not data").unwrap();
    fails_with(
        &["profile", dir.path().join("empty").to_str().unwrap()],
        &["empty", "no files in a format skewer reads", "--format"],
    );
    fails_with(
        &["profile", &format!("{}/*.csv", base.display())],
        &["*.csv", "no data files match"],
    );
    // Files under different partition keys are not one dataset.
    let mixed = dir.path().join("mixed");
    std::fs::create_dir_all(mixed.join("day=1")).unwrap();
    write_parquet(
        &mixed.join("day=1/a.parquet"),
        &[batch.slice(0, 10)],
        Compression::SNAPPY,
        10,
    );
    write_parquet(
        &mixed.join("b.parquet"),
        &[batch.slice(0, 10)],
        Compression::SNAPPY,
        10,
    );
    fails_with(
        &["profile", mixed.to_str().unwrap()],
        &["b.parquet", "partition folders", "day"],
    );
}

/// `skew` (which asks for its key columns first) and `validate --examples`
/// (which reads every checked column in one read) on Hive folders of
/// Parquet files with dictionary-encoded strings: the partition column
/// joins the files' own, in the order asked, with the type they decode as.
#[test]
fn skew_and_examples_read_hive_folders() {
    let dir = tmp();
    let batch = sample(1200);
    let ids: Int64Array = (0..batch.num_rows() as i64).map(Some).collect();
    let (base, current) = (dir.path().join("base"), dir.path().join("current"));
    // id last among the files' columns: skew asks for it first.
    let files = RecordBatch::try_from_iter(vec![
        ("x", batch.column(0).clone()),
        ("s", batch.column(1).clone()),
        ("id", Arc::new(ids) as ArrayRef),
    ])
    .unwrap();
    for side in [&base, &current] {
        write_hive(side, &batch, &files);
    }
    let out = dir.path().join("skew.json");
    let o = skewer(&[
        "skew",
        base.to_str().unwrap(),
        current.to_str().unwrap(),
        "--key",
        "id",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let skew: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // The same rows on both sides: every feature, the keys' columns
    // included, matches on every joined row where it is present.
    assert_eq!(skew["joined"], 1200, "{skew}");
    let features = skew["features"].as_array().unwrap();
    let by_name = |n: &str| {
        features
            .iter()
            .find(|f| f["name"] == n)
            .unwrap_or_else(|| panic!("{n} not compared: {skew}"))
    };
    for name in ["x", "s", "day", "region"] {
        let f = by_name(name);
        assert_eq!(f["diff_count"], 0, "{f}");
        assert_eq!(f["match_count"], f["base_count"], "{f}");
    }
    // The partition columns have a value on every row.
    assert_eq!(by_name("day")["match_count"], 1200);
    assert_eq!(by_name("region")["match_count"], 1200);

    let schema = dir.path().join("schema.json");
    let o = skewer(&[
        "schema",
        "infer",
        base.to_str().unwrap(),
        "-o",
        schema.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let examples = dir.path().join("bad.csv");
    let o = skewer(&[
        "validate",
        current.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--examples",
        examples.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Examples written into the folder would be read as data next time.
    fails_with(
        &[
            "validate",
            current.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--examples",
            current.join("bad.csv").to_str().unwrap(),
        ],
        &["bad.csv", "a folder read as data"],
    );
}
