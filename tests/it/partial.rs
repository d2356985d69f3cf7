//! Profiles across partitions (src/engine/partial.rs): pass one per
//! partition, the merged plan, pass two per partition, the finish, equal
//! to one process's profile of the same rows.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use skewer::backend::Backend;
use skewer::engine::partial;
use skewer::engine::ProfileOptions;
use skewer::profile::DatasetProfile;
use skewer::source::Dataset;

use crate::common::*;

fn slices(batches: &[RecordBatch], size: usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    for b in batches {
        let mut at = 0;
        while at < b.num_rows() {
            let n = size.min(b.num_rows() - at);
            out.push(b.slice(at, n));
            at += n;
        }
    }
    out
}

/// The rows cut into `parts` partitions of uneven sizes, each in batches
/// of another size.
fn partitions(batches: &[RecordBatch], parts: usize) -> Vec<Vec<RecordBatch>> {
    let all = slices(batches, 97);
    let mut out: Vec<Vec<RecordBatch>> = vec![Vec::new(); parts];
    let mut at = 0;
    for (p, part) in out.iter_mut().enumerate() {
        // Partition p gets a share growing with p; the last one the rest.
        let take = if p + 1 == parts {
            all.len() - at
        } else {
            (all.len() * (p + 1) / (parts * (parts + 1) / 2)).min(all.len() - at)
        };
        let rows: Vec<RecordBatch> = all[at..at + take].to_vec();
        at += take;
        *part = slices(&rows, 31 + 17 * p);
    }
    out
}

fn cluster(
    parts: &[Vec<RecordBatch>],
    opts: &ProfileOptions,
    backend: &Arc<Backend>,
) -> DatasetProfile {
    let schema = parts[0][0].schema();
    let ones: Vec<Vec<u8>> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| partial::pass_one(&schema, p, opts, &format!("part-{i}")).unwrap())
        .collect();
    let merged = partial::merge(&ones).unwrap();
    let plan = partial::plan(&merged).unwrap();
    assert!(partial::needs_pass_two(&plan).unwrap());
    let twos: Vec<Vec<u8>> = parts
        .iter()
        .map(|p| partial::pass_two(&plan, p, backend).unwrap())
        .collect();
    partial::finish(&merged, &twos, backend).unwrap()
}

#[test]
fn a_profile_across_partitions_equals_one_process() {
    let batches: Vec<RecordBatch> = (0..3).map(|s| all_types_batch(40 + s, 3001)).collect();
    let dir = tmp();
    let file = dir.path().join("all.parquet");
    write_parquet(&file, &batches, parquet::basic::Compression::SNAPPY, 1000);
    for backend in backends() {
        let (src, mut opts) = opts(512, 1 << 30);
        opts.backend = backend.clone();
        let one_process = profile_files(std::slice::from_ref(&file), &src, &opts).unwrap();
        let ds = Dataset::from_batches("memory", batches[0].schema(), batches.clone()).unwrap();
        let in_memory = skewer::engine::profile(&ds, &opts, &skewer::engine::NoProgress).unwrap();
        let mut parts = partitions(&batches, 4);
        let four = cluster(&parts, &opts, &backend);
        assert_eq!(one_process.passes, 2);
        assert_same(&one_process, &in_memory);
        assert_same(&one_process, &four);
        // The partitions in the other order: the same profile.
        parts.reverse();
        assert_same(&one_process, &cluster(&parts, &opts, &backend));
        assert_eq!(four.sources, ["part-0", "part-1", "part-2", "part-3"]);
        let placed = |p: &DatasetProfile| -> Vec<String> {
            p.features.iter().map(|f| f.computed_on.clone()).collect()
        };
        assert_eq!(placed(&in_memory), placed(&four));
    }
}

#[test]
fn one_pass_estimates_from_the_sketch() {
    let batches = vec![all_types_batch(7, 2000)];
    let schema = batches[0].schema();
    let opts = ProfileOptions::default();
    let one = partial::pass_one(&schema, &batches, &opts, "memory").unwrap();
    let p = partial::finish_one_pass(&one, &Backend::cpu()).unwrap();
    let f = p.features.iter().find_map(|f| f.numeric.as_ref()).unwrap();
    assert!(!f.quantiles_exact);
    assert_eq!(p.passes, 1);
    assert_eq!(p.num_rows, 2000);
}

#[test]
fn bad_partials_are_errors_that_say_why() {
    let batches = vec![all_types_batch(3, 500)];
    let schema = batches[0].schema();
    let opts = ProfileOptions::default();
    let one = partial::pass_one(&schema, &batches, &opts, "a").unwrap();
    let err = |r: skewer::Result<Vec<u8>>| r.unwrap_err().to_string();
    assert!(err(partial::merge(&[b"not a state".to_vec()])).contains("no SKEWERPS header"));
    let mut newer = one.clone();
    newer[8] = 9;
    assert!(err(partial::merge(&[newer])).contains("format version 9"));
    let mut cut = one.clone();
    cut.truncate(one.len() / 2);
    assert!(err(partial::merge(&[cut])).contains("does not decode"));
    // A plan where a pass-one state belongs, and the other way round.
    let plan = partial::plan(&one).unwrap();
    assert!(err(partial::merge(std::slice::from_ref(&plan)))
        .contains("expected a pass-one state, got a plan"));
    assert!(err(partial::pass_two(&one, &batches, &Backend::cpu())).contains("expected a plan"));
    // Other options, other columns.
    let other = ProfileOptions {
        stats: skewer::profile::StatsOptions {
            top_k: 3,
            ..Default::default()
        },
        ..Default::default()
    };
    let two = partial::pass_one(&schema, &batches, &other, "b").unwrap();
    assert!(err(partial::merge(&[one.clone(), two])).contains("other columns or options"));
    let narrow = batches[0].project(&[0, 1]).unwrap();
    let three =
        partial::pass_one(&narrow.schema(), std::slice::from_ref(&narrow), &opts, "c").unwrap();
    assert!(err(partial::merge(&[one.clone(), three])).contains("other columns or options"));
    // A batch of other columns than the schema's.
    assert!(err(partial::pass_one(&schema, &[narrow], &opts, "d"))
        .contains("d: a batch has the columns"));
    // Pass two over fewer rows than pass one: the data changed.
    let half = batches[0].slice(0, 250);
    let two = partial::pass_two(&plan, &[half], &Backend::cpu()).unwrap();
    let e = partial::finish(&one, std::slice::from_ref(&two), &Backend::cpu())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the data changed") && e.contains("pass one read 500 rows, pass two 250"),
        "{e}"
    );
    // A pass-two state of another plan (here, of other data's).
    let elsewhere = vec![all_types_batch(4, 500)];
    let one_elsewhere = partial::pass_one(&schema, &elsewhere, &opts, "e").unwrap();
    let e = partial::finish(&one_elsewhere, &[two], &Backend::cpu())
        .unwrap_err()
        .to_string();
    assert!(e.contains("a pass-two state of another plan"), "{e}");
    // A plan is smaller than the state it comes from: the value counts
    // stay on the driver.
    assert!(
        plan.len() < one.len() / 2,
        "{} vs {}",
        plan.len(),
        one.len()
    );
}
