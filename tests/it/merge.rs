//! merge(profile(A), profile(B)) equals profile(A ++ B) for every exact
//! statistic, with A and B profiled on every backend and read back from
//! JSON; merged quantiles stay within their stated rank error.

use skewer::profile::keys::Num;
use skewer::profile::merge::merge_profiles;
use skewer::profile::DatasetProfile;

use crate::common::*;

fn roundtrip(p: &DatasetProfile) -> DatasetProfile {
    serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap()
}

fn as_f64(n: Num) -> f64 {
    n.as_f64()
}

#[test]
fn merge_equals_profile_of_the_union() {
    let dir = tmp();
    for seed in [21u64, 22, 23] {
        let n = 3000 + seed as usize * 37;
        let batch = all_types_batch(seed, n);
        let mut rng = Rng::new(seed);
        let cut = 1 + rng.below(n as u64 - 2) as usize;
        let (a, b) = (batch.slice(0, cut), batch.slice(cut, n - cut));
        let pa = dir.path().join(format!("a{seed}.parquet"));
        let pb = dir.path().join(format!("b{seed}.parquet"));
        let pw = dir.path().join(format!("w{seed}.parquet"));
        write_parquet(&pa, &[a], parquet::basic::Compression::SNAPPY, 1000);
        write_parquet(&pb, &[b], parquet::basic::Compression::SNAPPY, 1000);
        write_parquet(
            &pw,
            std::slice::from_ref(&batch),
            parquet::basic::Compression::SNAPPY,
            1000,
        );
        // The parts on every backend, through JSON; the whole on the CPU.
        let (src, po) = opts(500, 1 << 30);
        let whole = profile_files(&[pw], &src, &po).unwrap();
        for backend in backends() {
            let po = skewer::engine::ProfileOptions {
                backend,
                ..po.clone()
            };
            let ra = roundtrip(&profile_files(std::slice::from_ref(&pa), &src, &po).unwrap());
            let rb = roundtrip(&profile_files(std::slice::from_ref(&pb), &src, &po).unwrap());
            let merged = merge_profiles(vec![(pa.clone(), ra), (pb.clone(), rb)]).unwrap();
            assert_eq!(merged.num_rows, whole.num_rows);
            let mut checked = 0;
            for (m, w) in merged.features.iter().zip(&whole.features) {
                let what = format!(
                    "{} seed {seed} cut {cut} column {}",
                    po.backend.kind(),
                    w.name
                );
                assert_eq!((m.count, m.missing), (w.count, w.missing), "{what}");
                assert_eq!(
                    m.values_per_row.as_ref().map(|v| (v.min, v.max, v.total)),
                    w.values_per_row.as_ref().map(|v| (v.min, v.max, v.total)),
                    "{what}"
                );
                if let (Some(x), Some(y)) = (&m.numeric, &w.numeric) {
                    assert_eq!(
                        (x.nan, x.pos_inf, x.neg_inf, x.zeros, x.finite),
                        (y.nan, y.pos_inf, y.neg_inf, y.zeros, y.finite),
                        "{what}"
                    );
                    assert_eq!(x.min, y.min, "{what}: min");
                    assert_eq!(x.max, y.max, "{what}: max");
                    for (u, v) in [
                        (x.mean, y.mean),
                        (x.variance, y.variance),
                        (x.skewness, y.skewness),
                        (x.kurtosis, y.kurtosis),
                    ] {
                        match (u, v) {
                            (Some(u), Some(v)) if v.is_finite() => {
                                let scale = v.abs().max(y.std_dev.unwrap_or(0.0)).max(1.0);
                                assert!((u - v).abs() <= 1e-9 * scale, "{what}: {u} vs {v}");
                            }
                            _ => assert_eq!(
                                u.is_some_and(f64::is_finite),
                                v.is_some_and(f64::is_finite),
                                "{what}"
                            ),
                        }
                    }
                    assert!(
                        !x.quantiles_exact && !x.histograms_exact,
                        "{what}: merged quantiles are estimates"
                    );
                    // A merged quantile is the low edge of the sketch bucket that
                    // holds the exact one: never above it, and equal when the
                    // bucket holds a single value (no stated error).
                    for (q, e) in x.quantiles.iter().zip(&y.quantiles) {
                        let (g, t) = (as_f64(q.value), as_f64(e.value));
                        assert!(
                            g.total_cmp(&t).is_le(),
                            "{what}: estimate {g} above the exact quantile {t}"
                        );
                        assert!(
                            g >= as_f64(y.min.unwrap()),
                            "{what}: estimate below the minimum"
                        );
                    }
                    if x.quantile_rank_error == 0 {
                        assert_eq!(
                            x.quantiles, y.quantiles,
                            "{what}: quantiles with no stated error"
                        );
                    }
                    assert_eq!(
                        x.histogram.iter().map(|h| h.count).sum::<u64>(),
                        y.finite,
                        "{what}: histogram mass"
                    );
                    assert_eq!(
                        x.quantile_histogram.iter().map(|h| h.count).sum::<u64>(),
                        y.finite,
                        "{what}: quantile histogram mass"
                    );
                    checked += 1;
                }
                if let (Some(x), Some(y)) = (&m.categorical, &w.categorical) {
                    assert_eq!(x, y, "{what}");
                    checked += 1;
                }
            }
            assert!(checked >= 25, "only {checked} features compared");
        }
    }
}

#[test]
fn merge_rejects_incompatible_profiles() {
    let dir = tmp();
    let a = all_types_batch(1, 50);
    let pa = dir.path().join("a.parquet");
    write_parquet(&pa, &[a], parquet::basic::Compression::SNAPPY, 100);
    let (src, po) = opts(64, 1 << 30);
    let p1 = profile_files(std::slice::from_ref(&pa), &src, &po).unwrap();
    let mut po2 = po.clone();
    po2.stats.bins = 7;
    let p2 = profile_files(std::slice::from_ref(&pa), &src, &po2).unwrap();
    let err = merge_profiles(vec![
        ("one.json".into(), p1.clone()),
        ("two.json".into(), p2),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("two.json"), "{err}");
    let mut p3 = p1.clone();
    p3.features.remove(3);
    let err = merge_profiles(vec![("one.json".into(), p1), ("three.json".into(), p3)]).unwrap_err();
    assert!(err.to_string().contains("three.json"), "{err}");
}
