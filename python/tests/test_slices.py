"""Slices from Python: the same profiles as the CLI's, each slice the
profile of its rows."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import skewer
from conftest import assert_same_profile


def segments(n=20_000, seed=5):
    rng = np.random.default_rng(seed)
    seg = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    return pa.table({
        "seg": seg,
        "x": rng.normal(size=n) + (seg == "b"),
        "s": rng.choice(["p", "q", "r"], n),
    })


def test_each_slice_is_the_profile_of_its_rows():
    t = segments()
    p = skewer.profile(t, slice_by=["seg"], backend="cpu")
    got = {values["seg"]: sp for values, sp in p.slices}
    assert list(got) == ["a", "b", "c"]
    assert sum(sp.num_rows for sp in got.values()) == p.num_rows == t.num_rows
    for value, sp in got.items():
        alone = skewer.profile(t.filter(pc.equal(t["seg"], value)), backend="cpu")
        assert_same_profile(sp, alone)
    # The rest folded: two apart, the third as "__other__".
    folded = skewer.profile(t, slice_by=["seg"], max_slices=2, backend="cpu")
    assert [v["seg"] for v, _ in folded.slices] == ["a", "b", "__other__"]
    # A plain profile has none; the whole is the unsliced profile.
    plain = skewer.profile(t, backend="cpu")
    assert plain.slices == []
    assert p.names == plain.names and p.num_rows == plain.num_rows
