"""The Python API: the CLI's code and JSON, Arrow data in without a copy,
the GIL released."""

import json
import threading
import time

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import skewer
from conftest import assert_same_profile, cli


@pytest.fixture(scope="module")
def cli_profiles(skewer_bin, train_path, serve_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    paths = {}
    for name, src in (("train", train_path), ("serve", serve_path)):
        p = out / f"{name}.json"
        r = cli(skewer_bin, "profile", src, "--backend", "cpu", "--quiet", "-o", p)
        assert r.returncode == 0, r.stderr
        paths[name] = p
    return paths


def test_profile_of_a_path_is_the_cli_json(cli_profiles, train_path):
    p = skewer.profile(train_path, backend="cpu")
    assert p.to_json() == cli_profiles["train"].read_text()
    assert skewer.Profile.load(cli_profiles["train"]) == p


def test_profile_of_arrow_in_memory_equals_the_file_profile(train_path):
    on_disk = skewer.profile(str(train_path), backend="cpu")
    table = pq.read_table(train_path)
    for data in (
        table,
        table.to_reader(max_chunksize=333),
        table.to_batches(max_chunksize=100),
        pads.dataset(train_path),
    ):
        p = skewer.profile(data, backend="cpu")
        assert_same_profile(p, on_disk)
        assert p.passes == 2
    # polars hands over its own Arrow types (string views): the same
    # statistics under other type names.
    p = skewer.profile(pl.from_arrow(table), backend="cpu")
    assert p["s_low"].type == "utf8view"
    assert_same_profile(p, on_disk, types=False)


def test_pandas_and_columns(train_path):
    table = pq.read_table(train_path, columns=["f_normal", "i_count", "s_low"])
    frame = table.to_pandas()
    p = skewer.profile(frame, backend="cpu", columns=["f_normal", "s_low"])
    assert p.names == ["f_normal", "s_low"]
    ref = skewer.profile(table.select(["f_normal", "s_low"]), backend="cpu")
    # pandas' strings come back as large strings.
    assert_same_profile(p, ref, types=False)
    # A filtered frame's index is not a feature.
    assert skewer.profile(frame[frame.f_normal > 10], backend="cpu").names == list(frame.columns)


def test_features_as_objects(train_path):
    p = skewer.profile(train_path, backend="cpu", quantiles=[0.1, 0.5, 0.9], top_k=3)
    f = p["f_normal"]
    values = pq.read_table(train_path, columns=["f_normal"]).column(0).drop_null().to_numpy()
    finite = np.sort(values[np.isfinite(values)])
    for rank, v in f.quantiles.items():
        assert v == np.quantile(finite, rank, method="inverted_cdf")
    assert f.min == finite[0] and f.max == finite[-1]
    assert f.count + f.missing == p.num_rows
    s = p["s_low"]
    counts = pq.read_table(train_path, columns=["s_low"]).column(0).value_counts()
    top = sorted(((c["counts"].as_py(), c["values"].as_py()) for c in counts if c["values"].is_valid), key=lambda t: (-t[0], t[1]))
    assert s.top_values == [(v, c) for c, v in top[:3]]
    assert "f_normal" in p and "nope" not in p
    with pytest.raises(KeyError, match="no feature 'nope'"):
        p["nope"]
    summary = p.to_pandas()
    assert list(summary.index) == p.names
    assert summary.loc["f_normal", "median"] == f.quantiles[0.5]


def test_compare_infer_validate_are_the_cli(cli_profiles, skewer_bin, tmp_path):
    train = skewer.Profile.load(cli_profiles["train"])
    serve = skewer.Profile.load(cli_profiles["serve"])
    cmp = skewer.compare(train, serve, backend="cpu")
    r = cli(skewer_bin, "compare", cli_profiles["train"], cli_profiles["serve"], "--json", "--backend", "cpu", "--quiet")
    assert r.returncode == 1, r.stderr
    assert cmp.to_json() == r.stdout
    assert cmp.drifted, "the bundled pair has drifted features"

    schema = skewer.infer_schema(train, bounds=True)
    r = cli(skewer_bin, "schema", "infer", cli_profiles["train"], "--bounds")
    assert r.returncode == 0, r.stderr
    assert schema.to_json() == r.stdout
    schema_path = tmp_path / "schema.json"
    schema.save(schema_path)
    assert skewer.Schema.load(schema_path).to_json() == schema.to_json()

    anomalies = skewer.validate(serve, schema, previous=train, backend="cpu")
    r = cli(skewer_bin, "validate", cli_profiles["serve"], "--schema", schema_path, "--previous", cli_profiles["train"], "--json", "--backend", "cpu", "--quiet")
    assert r.returncode == 1, r.stderr
    assert anomalies == json.loads(r.stdout)["anomalies"]
    assert anomalies
    assert skewer.validate(train, schema, backend="cpu") == []


def test_merge_and_round_trip(train_path):
    table = pq.read_table(train_path)
    a = skewer.profile(table.slice(0, 700), backend="cpu")
    b = skewer.profile(table.slice(700), backend="cpu")
    merged = a.merge(b)
    whole = skewer.profile(table, backend="cpu")
    assert merged.num_rows == whole.num_rows
    assert merged["i_count"].count == whole["i_count"].count
    assert merged["s_low"].top_values == whole["s_low"].top_values
    assert skewer.Profile.from_json(merged.to_json()) == merged


def test_the_gil_is_released_while_profiling():
    rng = np.random.default_rng(3)
    n = 3_000_000
    table = pa.table({f"c{i}": rng.normal(size=n) for i in range(6)})
    done = threading.Event()
    result = {}

    def work():
        t0 = time.perf_counter()
        result["profile"] = skewer.profile(table, backend="cpu")
        result["seconds"] = time.perf_counter() - t0
        done.set()

    ticks = 0
    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
    t.join()
    assert result["profile"].num_rows == n
    # Python bytecode ran on this thread the whole time skewer computed;
    # with the GIL held it would have run only at the switch interval's
    # rare chances (a few hundred ticks per second at most).
    assert ticks > 20_000 * result["seconds"], (ticks, result["seconds"])


def test_errors_say_what_is_wrong(train_path):
    table = pq.read_table(train_path)
    with pytest.raises(skewer.SkewerError, match="nope"):
        skewer.profile(table, columns=["nope"], backend="cpu")
    with pytest.raises(TypeError, match="cannot profile a dict"):
        skewer.profile({"a": [1, 2]})
    with pytest.raises(ValueError, match="backend must be"):
        skewer.profile(table, backend="tpu")
    with pytest.raises(skewer.SkewerError, match="no such file|No such file|cannot"):
        skewer.profile("/nonexistent/x.parquet", backend="cpu")
    with pytest.raises(skewer.SkewerError):
        skewer.Profile.from_json('{"format_version": 1}')
    with pytest.raises(skewer.SkewerError, match="no SKEWERPS header"):
        skewer._skewer.merge_partials([b"garbage"])


def test_partial_states_are_versioned_bytes(train_path):
    table = pq.read_table(train_path)
    opts = skewer._options(backend="cpu")
    state = skewer._skewer.pass_one(table, opts, "python: pyarrow.Table")
    assert state[:8] == b"SKEWERPS"
    assert int.from_bytes(state[8:10], "little") == skewer.PARTIAL_FORMAT_VERSION == 1
    assert state[10] == 1
    merged = skewer._skewer.merge_partials([state])
    plan = skewer._skewer.plan(merged)
    assert plan[10] == 2
    two = skewer._skewer.pass_two(plan, table, None, "cpu")
    assert two[10] == 3
    p = skewer.Profile(skewer._skewer.finish(merged, [two], "cpu"))
    assert p.to_json() == skewer.profile(table, backend="cpu").to_json()


def test_the_gpu_backend_gives_the_cpu_numbers(gpu, generated_path):
    table = pq.read_table(generated_path)
    on_gpu = skewer.profile(table, backend=gpu)
    on_cpu = skewer.profile(table, backend="cpu")
    assert on_gpu["x"].computed_on == "gpu"
    assert_same_profile(on_gpu, on_cpu)


def test_a_duckdb_result_is_profiled_without_a_copy(train_path):
    duckdb = pytest.importorskip("duckdb")
    relation = duckdb.sql(f"select * from read_parquet('{train_path}')")
    p = skewer.profile(relation, backend="cpu")
    assert p.to_dict()["sources"] == ["python: duckdb.DuckDBPyRelation"]
    # DuckDB hands the dictionary column over as plain strings.
    assert_same_profile(p, skewer.profile(train_path, backend="cpu"), types=False)
