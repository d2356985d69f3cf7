"""Exact profiles of Ray Datasets, on the workers (Arrow blocks).

    import skewer.ray
    p = skewer.ray.profile(ds)            # a skewer.Profile

Each block of the dataset is a partition: pass one and pass two run on the
workers through ``map_batches`` on whole blocks in pyarrow format (no
copy), the driver merges and finishes. The dataset is read twice, so it
must give the same rows both times (``ds.materialize()`` first where it
would not); if the rows change, the profile is an error, never wrong
numbers. The workers need the skewer package and pyarrow.
"""

from __future__ import annotations

from typing import Optional, Sequence

from . import Profile
from ._cluster import two_passes


def _runner(ds):
    def run(fn):
        import pyarrow as pa

        def on_block(table: "pa.Table") -> "pa.Table":
            state = fn(table.to_batches(), 0)
            if state is None:
                return pa.table({"state": pa.array([], pa.binary())})
            return pa.table({"state": pa.array([state], pa.binary())})

        mapped = ds.map_batches(on_block, batch_format="pyarrow", batch_size=None, zero_copy_batch=True)
        # Results in block order, so that states merge in dataset order
        # whatever order the workers finish in (a dataset runs with its own
        # copy of the context).
        mapped.context.execution_options.preserve_order = True
        return [(i, bytes(r["state"])) for i, r in enumerate(mapped.take_all())]

    return run


def profile(
    ds,
    *,
    columns: Optional[Sequence[str]] = None,
    **options,
) -> Profile:
    """The profile of a Ray Dataset, computed on its workers.

    ``options`` are ``skewer.profile``'s: ``backend`` is where the workers
    compute ("auto": a hardware GPU where one has one); ``driver_backend``
    is where the driver finishes ("cpu" unless given).
    """
    if columns is not None:
        ds = ds.select_columns(list(columns))
    return two_passes(_runner(ds), "ray", **options)
