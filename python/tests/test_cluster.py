"""Exact profiles across a real local Spark and a real local Ray: equal,
number for number, to the one-process profile of the same rows."""

import os
import shutil
import sys

import pyarrow.parquet as pq
import pytest

import skewer
from conftest import assert_same_profile

PARTITIONS = 5


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    if shutil.which("java") is None:
        message = "no Java runtime on the PATH for Spark (Debian: default-jre-headless)"
        if os.environ.get("SKEWER_REQUIRE_PYTHON") == "1":
            pytest.fail(message)
        pytest.skip(message)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("skewer-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(PARTITIONS))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}},
    )
    yield ray
    ray.shutdown()


def spark_frame(spark, path):
    df = spark.read.parquet(str(path)).repartition(PARTITIONS)
    # Cached: pass one and pass two read the same partitions.
    df = df.cache()
    assert df.rdd.getNumPartitions() == PARTITIONS
    return df


@pytest.mark.parametrize("name", ["train_path", "serve_path", "generated_path"])
def test_spark_profile_equals_one_process(spark, request, name):
    import skewer.spark

    path = request.getfixturevalue(name)
    df = spark_frame(spark, path)
    cluster = skewer.spark.profile(df, backend="cpu")
    one = skewer.profile(df.toArrow(), backend="cpu")
    assert cluster.num_rows == pq.ParquetFile(path).metadata.num_rows
    assert cluster.passes == 2
    assert_same_profile(cluster, one)
    # And the file's own profile (Spark hands strings over in its own
    # Arrow types).
    assert_same_profile(cluster, skewer.profile(path, backend="cpu"), types=False)
    assert cluster.to_dict()["sources"] == ["spark"]


def test_spark_one_pass_and_columns(spark, generated_path):
    import skewer.spark

    df = spark_frame(spark, generated_path)
    p = skewer.spark.profile(df, columns=["x", "word"], one_pass=True, backend="cpu")
    assert p.names == ["x", "word"]
    assert p.passes == 1
    assert p["x"].numeric["quantiles_exact"] is False
    exact = skewer.profile(df.select("x", "word").toArrow(), backend="cpu")
    assert p["word"].top_values == exact["word"].top_values
    assert p["x"].count == exact["x"].count


@pytest.mark.parametrize("name", ["train_path", "serve_path", "generated_path"])
def test_ray_profile_equals_one_process(ray_local, request, name):
    import ray.data

    import skewer.ray

    path = request.getfixturevalue(name)
    ds = ray.data.read_parquet(str(path)).repartition(PARTITIONS).materialize()
    assert ds.num_blocks() == PARTITIONS
    cluster = skewer.ray.profile(ds, backend="cpu")
    one = skewer.profile(pq.read_table(path), backend="cpu")
    assert cluster.passes == 2
    assert_same_profile(cluster, one)
    assert_same_profile(cluster, skewer.profile(path, backend="cpu"), types=False)


def test_spark_executors_use_the_gpu_when_asked(spark, gpu, train_path):
    import skewer.spark

    df = spark_frame(spark, train_path)
    on_gpu = skewer.spark.profile(df, backend=gpu)
    assert on_gpu["f_normal"].computed_on == "gpu"
    assert_same_profile(on_gpu, skewer.spark.profile(df, backend="cpu"))
