//! The Python package (python/, issue #12): its wheel built once with
//! maturin (the dev profile, in this target folder, so that it reuses the
//! dependencies the tests built), installed into a temporary folder, and
//! its pytest suite run against it: the API against the CLI's JSON and the
//! in-memory profile against the file's, the GIL released while
//! profiling, and exact profiles across a real local Spark (a Java runtime
//! on the PATH) and a real local Ray. Skipped with a notice without a
//! Python that has them, unless SKEWER_REQUIRE_PYTHON=1 (as in CI).

use std::path::Path;
use std::process::Command;

use crate::common::*;

const MODULES: &str = "maturin, pytest, numpy, pyarrow, pandas, polars, pyspark, ray.data, duckdb";

fn run(cmd: &mut Command, what: &str) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{what} failed:\n{out}");
    out
}

#[test]
fn python_package_suite() {
    let Some(py) = python_with(MODULES, "python::python_package_suite") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = tmp();
    let wheels = d.path().join("wheels");
    run(
        Command::new(&py)
            .args(["-m", "maturin", "build", "--profile", "dev", "--quiet"])
            .args(["-m", "python/Cargo.toml", "-i", &py, "-o"])
            .arg(&wheels)
            .current_dir(root),
        "maturin build",
    );
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("maturin wrote no wheel");
    // abi3: one wheel for every CPython from 3.9.
    assert!(
        wheel.to_string_lossy().contains("-cp39-abi3-"),
        "{}",
        wheel.display()
    );
    let site = d.path().join("site");
    run(
        Command::new(&py)
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "--target"])
            .arg(&site)
            .arg(&wheel),
        "pip install",
    );
    let out = run(
        Command::new(&py)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "."])
            .current_dir(root.join("python/tests"))
            .env("PYTHONPATH", &site)
            .env("SKEWER_BIN", env!("CARGO_BIN_EXE_skewer"))
            // Spark's and Ray's workers run this same Python.
            .env("PYSPARK_PYTHON", &py)
            .env("RAY_USAGE_STATS_ENABLED", "0"),
        "pytest python/tests",
    );
    let summary = out.lines().last().unwrap_or_default().to_string();
    assert!(summary.contains(" passed"), "{out}");
    // Every test ran where CI requires them (the GPU tests skip without
    // an adapter, unless SKEWER_REQUIRE_GPU=1).
    let required = |v: &str| std::env::var(v).as_deref() == Ok("1");
    if required("SKEWER_REQUIRE_PYTHON") && required("SKEWER_REQUIRE_GPU") {
        assert!(!summary.contains("skipped"), "{out}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "python/tests: {summary}");
}
