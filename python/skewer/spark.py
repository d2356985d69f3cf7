"""Exact profiles of Spark DataFrames, on the executors (``mapInArrow``).

    import skewer.spark
    p = skewer.spark.profile(df)          # a skewer.Profile

The DataFrame is read twice (pass one, then pass two for the exact
quantiles and histograms), so it must give the same rows both times: a
table or files do; a DataFrame with random or changing data should be
cached first (``df.cache()``). If the rows change between the passes, the
profile is an error, never wrong numbers. The executors need the skewer
package (the same version as the driver) and pyarrow.
"""

from __future__ import annotations

from typing import Optional, Sequence

from . import Profile
from ._cluster import two_passes

_STATE_SCHEMA = "partition long, state binary"


def _runner(df):
    def run(fn):
        def on_partition(batches):
            import pyarrow as pa
            from pyspark import TaskContext

            index = TaskContext.get().partitionId()
            state = fn(list(batches), index)
            if state is not None:
                yield pa.RecordBatch.from_pydict(
                    {"partition": [index], "state": [state]},
                    schema=pa.schema([("partition", pa.int64()), ("state", pa.binary())]),
                )

        rows = df.mapInArrow(on_partition, _STATE_SCHEMA).collect()
        return [(r["partition"], bytes(r["state"])) for r in rows]

    return run


def profile(
    df,
    *,
    columns: Optional[Sequence[str]] = None,
    **options,
) -> Profile:
    """The profile of a Spark DataFrame, computed on its executors.

    ``options`` are ``skewer.profile``'s: ``backend`` is where the executors
    compute ("auto": a hardware GPU where one has one); ``driver_backend``
    is where the driver finishes ("cpu" unless given).
    """
    if columns is not None:
        df = df.select(*columns)
    return two_passes(_runner(df), "spark", **options)
