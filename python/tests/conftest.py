"""Shared fixtures of the Python package's tests (run by tests/it/python.rs,
which builds the wheel once and points SKEWER_BIN at the CLI binary)."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MOMENTS = ("mean", "variance", "std_dev", "skewness", "kurtosis")


@pytest.fixture(scope="session")
def skewer_bin() -> str:
    path = os.environ.get("SKEWER_BIN")
    if not path:
        pytest.fail("SKEWER_BIN is not set (run these tests through cargo test, tests/it/python.rs)")
    return path


def cli(skewer_bin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([skewer_bin, *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="session")
def train_path() -> Path:
    return EXAMPLES / "train.parquet"


@pytest.fixture(scope="session")
def serve_path() -> Path:
    return EXAMPLES / "serve.parquet"


@pytest.fixture(scope="session")
def generated_path(tmp_path_factory) -> Path:
    """A generated file: 120,000 rows of awkward numbers, ints, strings,
    nulls and lists, in row groups of 7,000."""
    rng = np.random.default_rng(12)
    n = 120_000
    x = rng.normal(1.7e9, 1.0, n)
    x[rng.random(n) < 0.01] = np.nan
    heavy = rng.standard_cauchy(n)
    ints = rng.integers(-(2**62), 2**62, n)
    small = rng.integers(0, 7, n)
    words = np.array(["alpha", "beta", "gamma", "", "delta-" * 3])[rng.integers(0, 5, n)]
    mask = rng.random(n) < 0.05
    lists = [list(range(int(k))) if k < 4 else None for k in rng.integers(0, 5, n)]
    table = pa.table(
        {
            "x": pa.array(x),
            "heavy": pa.array(heavy, mask=mask),
            "ints": pa.array(ints),
            "small": pa.array(small),
            "word": pa.array(words, mask=mask),
            "flag": pa.array(rng.random(n) < 0.3),
            "lists": pa.array(lists, pa.list_(pa.int64())),
        }
    )
    path = tmp_path_factory.mktemp("data") / "generated.parquet"
    pq.write_table(table, path, row_group_size=7_000)
    return path


def without_moments(profile_dict: dict, types: bool = True) -> tuple:
    """A profile's JSON without what depends on how rows were cut into
    partitions: the moments (compared apart, to their bound), the sources,
    and where columns were computed."""
    d = dict(profile_dict)
    d.pop("sources", None)
    d.pop("backend", None)
    moments = {}
    features = []
    for f in d["features"]:
        f = dict(f)
        f.pop("computed_on", None)
        if not types:
            f.pop("type")
        n = f.get("numeric")
        if n is not None:
            n = dict(n)
            for k in MOMENTS:
                moments[(f["name"], k)] = n.pop(k)
            m = n.pop("moments")
            moments[(f["name"], "n")] = m["n"]
            f["numeric"] = n
        features.append(f)
    d["features"] = features
    return d, moments


def first_difference(a, b, at="") -> object:
    """Where two JSON values first differ, with both sides, or None."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return next((d for k in a if (d := first_difference(a[k], b[k], f"{at}.{k}"))), None)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := first_difference(x, y, f"{at}[{i}]"))), None)
    return None if a == b else f"{at}: {str(a)[:300]} != {str(b)[:300]}"


def assert_same_profile(a, b, types=True):
    """Equal number for number but the moments, which agree within the
    bound of docs/partial-states.md (and the Arrow type names unless
    `types` is false)."""
    da, ma = without_moments(a.to_dict(), types)
    db, mb = without_moments(b.to_dict(), types)
    assert first_difference(da, db) is None
    assert ma.keys() == mb.keys()
    for (name, k), x in ma.items():
        y = mb[(name, k)]
        if x is None or y is None or isinstance(x, int):
            assert x == y, (name, k, x, y)
            continue
        if math.isnan(x) or math.isnan(y):
            assert math.isnan(x) and math.isnan(y), (name, k, x, y)
            continue
        sd = ma[(name, "std_dev")] or 0.0
        bound = {
            "mean": 1e-12 * max(abs(x), sd),
            "variance": 1e-12 * abs(x),
            "std_dev": 1e-12 * abs(x),
            "skewness": 1e-9,
            "kurtosis": 1e-9,
        }[k]
        assert abs(x - y) <= bound, (name, k, x, y)


@pytest.fixture(scope="session")
def gpu() -> str:
    """"gpu" where a GPU adapter opens (Mesa's lavapipe in CI); else the
    test skips, unless SKEWER_REQUIRE_GPU=1, where it fails."""
    import skewer

    try:
        skewer.profile(pa.table({"x": [1.0]}), backend="gpu")
    except skewer.SkewerError as e:
        if os.environ.get("SKEWER_REQUIRE_GPU") == "1":
            pytest.fail(f"SKEWER_REQUIRE_GPU=1 but the GPU backend does not open: {e}")
        pytest.skip(f"no GPU adapter: {e}")
    return "gpu"
