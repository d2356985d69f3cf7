"""The two passes of an exact profile across a cluster's partitions.

Each engine (Spark, Ray) only says how to run a function over every
partition's Arrow batches and bring the results back; this module does the
rest, the same for both (docs/python.md):

1. pass one on every partition -> its partial state (bytes);
2. on the driver: merge the states in partition order, make the plan;
3. pass two on every partition, with the plan -> its partial state;
4. on the driver, from the merged state and the pass-two states: the
   profile, number for number the one-process profile of the same rows
   (but for the last bits of the moments).

With ``one_pass`` the data is read once and quantiles and histograms are
the sketch's estimates, with their rank error in the profile.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple

from . import Profile, _options, _skewer

# run(fn) runs fn(batches, partition_index) -> Optional[bytes] on every
# partition and returns the (partition_index, bytes) pairs it produced.
Runner = Callable[[Callable[[list, int], Optional[bytes]]], List[Tuple[int, bytes]]]


def on_partition(step: Callable[[object], bytes]):
    """The function a partition runs: `step` over a reader of its pyarrow
    batches; nothing for an empty partition."""

    def run(batches: list, index: int) -> Optional[bytes]:
        if not batches:
            return None
        import pyarrow as pa

        return step(pa.RecordBatchReader.from_batches(batches[0].schema, batches))

    return run


def in_order(pairs: Sequence[Tuple[int, bytes]]) -> List[bytes]:
    return [state for _, state in sorted(pairs, key=lambda p: p[0])]


def two_passes(run: Runner, source: str, *, driver_backend: str = "cpu", **options) -> Profile:
    """The profile of the partitions ``run`` reaches; ``options`` are
    ``skewer.profile``'s (but ``columns``, which the engines select)."""
    opts = _options(**options)
    backend = options.get("backend")
    ones = in_order(run(on_partition(lambda r: _skewer.pass_one(r, opts, source))))
    if not ones:
        raise _skewer.SkewerError(f"{source}: no rows to profile (every partition is empty)")
    merged = _skewer.merge_partials(ones)
    if options.get("one_pass"):
        return Profile(_skewer.finish_one_pass(merged, driver_backend))
    plan = _skewer.plan(merged)
    twos: List[bytes] = []
    if _skewer.needs_pass_two(plan):
        twos = in_order(run(on_partition(lambda r: _skewer.pass_two(plan, r, None, backend))))
    return Profile(_skewer.finish(merged, twos, driver_backend))
