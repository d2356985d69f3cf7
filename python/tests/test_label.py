"""The label from Python: label-conditional tables that count every class
in every bin (checked against numpy), and compare's concept shift."""

import json

import numpy as np
import pyarrow as pa
import pytest

import skewer


def rows(seed, n=40_000, concept=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    p = np.where(x < 0.5, 0.2, 0.6)
    if concept:
        # P(y | x) swapped below 0.3 and from 0.7: P(x) and P(y) unchanged.
        p = np.where(x < 0.3, 0.6, np.where(x >= 0.7, 0.2, p))
    y = np.where(rng.uniform(0, 1, n) < p, "yes", "no")
    z = rng.choice(["a", "b", "c", "d"], n)
    return pa.table({"x": x, "z": z, "y": y})


def test_label_tables_count_each_class():
    t = rows(1)
    p = skewer.profile(t, label="y", backend="cpu")
    x, z, y = (p[n] for n in ["x", "z", "y"])
    assert y.label_table is None
    tz = z.label_table
    classes = tz["classes"]
    assert sorted(classes) == ["no", "yes"]
    zs, ys = t["z"].to_numpy(zero_copy_only=False), t["y"].to_numpy(zero_copy_only=False)
    for b in tz["bins"]:
        want = [int(np.sum((zs == b["bin"]) & (ys == c))) for c in classes]
        assert b["classes"] == want, b
    # Every x is in one bin: the bins' classes add up to the classes' rows.
    tx = x.label_table
    sums = [sum(b["classes"][i] for b in tx["bins"]) for i in range(len(classes))]
    assert sums == [int(np.sum(ys == c)) for c in classes]
    assert 8 <= len(tx["bins"]) <= 10
    # A plain profile has none.
    assert skewer.profile(t, backend="cpu")["z"].label_table is None


def test_compare_reports_concept_shift_apart():
    base = skewer.profile(rows(1), label="y", backend="cpu")
    same = skewer.profile(rows(2), label="y", backend="cpu")
    moved = skewer.profile(rows(3, concept=True), label="y", backend="cpu")
    c = skewer.compare(base, moved)
    assert c.concept_shifted == ["x"]
    assert c.drifted == []
    assert c.label_shift["drifted"] is False
    quiet = skewer.compare(base, same)
    assert quiet.concept_shifted == [] and quiet.label_shift["drifted"] is False
    with pytest.raises(Exception, match="not supported yet"):
        skewer.profile(rows(1), label="y", slice_by=["z"], backend="cpu")
    # An unlabelled side: no label or concept shift, and a warning says so.
    plain = skewer.profile(rows(3, concept=True), backend="cpu")
    with pytest.warns(UserWarning, match="base is labelled by y and current is not"):
        c = skewer.compare(base, plain)
    assert c.concept_shifted == [] and c.label_shift is None
    # A label whose name holds a NUL (a stored profile's: Arrow's C
    # interface cannot carry one), which a C string cannot: written \0.
    d = json.loads(base.to_json())
    d["label"] = "y\0z"
    for f in d["features"]:
        f["name"] = "y\0z" if f["name"] == "y" else f["name"]
    for sl in d["slices"]:
        sl["slice"] = {"y\0z": sl["slice"]["y"]}
        for f in sl["features"]:
            f["name"] = "y\0z" if f["name"] == "y" else f["name"]
    odd = skewer.Profile.from_json(json.dumps(d))
    with pytest.warns(UserWarning, match=r"labelled by y\\0z and current"):
        skewer.compare(odd, plain)


def test_windows_and_timeline_with_a_label():
    # Three days: the concept shifts on the third.
    days = []
    for d in range(3):
        t = rows(10 + d, n=20_000, concept=(d == 2))
        start = np.datetime64("2026-03-01", "s") + np.timedelta64(d, "D")
        rng = np.random.default_rng(d)
        ts = start + rng.integers(0, 86_400, t.num_rows).astype("timedelta64[s]")
        days.append(t.append_column("ts", pa.array(ts, pa.timestamp("s", tz="UTC"))))
    data = pa.concat_tables(days)
    windows = skewer.profile(data, window="ts=1d", label="y", backend="cpu")
    assert [w["ts"].count for w in windows] == [20_000] * 3
    assert all(w["x"].label_table is not None for w in windows)
    t = skewer.timeline(windows)
    assert t.windows[0] == "2026-03-01T00:00:00Z"
    assert t.concept("x") == "fast" and t.drift("x") == "none"
    assert t.concept("z") == "none"
    # Against a reference: the training data's profile.
    train = skewer.profile(rows(1), label="y", backend="cpu")
    assert skewer.timeline(windows, reference=train).concept("x") == "fast"
    with pytest.warns(UserWarning, match="labelled by y and reference is not"):
        skewer.timeline(windows, reference=skewer.profile(rows(1), backend="cpu"))
    with pytest.raises(Exception, match="two profiles are of the window"):
        skewer.timeline([windows[0], windows[0]])


def number_rows(seed, n=30_000, concept=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    m = 3 * x
    if concept:
        # E[y | x] of the ends swapped: P(x) and P(y) unchanged.
        m = np.where(x < 0.2, 3 * (x + 0.8), np.where(x >= 0.8, 3 * (x - 0.8), m))
    y = m + rng.normal(0, 1, n)
    y[::97] = np.nan
    z = rng.choice(["a", "b", "c"], n)
    return pa.table({"x": x, "z": z, "y": y})


def test_a_label_of_numbers_has_means_and_concept_shift():
    t = number_rows(1)
    p = skewer.profile(t, label="y", backend="cpu")
    assert p["y"].label_means is None and p["x"].label_table is None
    zs = t["z"].to_numpy(zero_copy_only=False)
    ys = t["y"].to_numpy()
    for b in p["z"].label_means:
        sel = ys[(zs == b["bin"]) & np.isfinite(ys)]
        assert b["count"] == len(sel)
        assert b["mean"] == pytest.approx(sel.mean(), rel=1e-9)
        assert b["std_dev"] == pytest.approx(sel.std(ddof=1), rel=1e-9)
    assert sum(b["count"] for b in p["x"].label_means) == int(np.isfinite(ys).sum())
    moved = skewer.profile(number_rows(2, concept=True), label="y", backend="cpu")
    c = skewer.compare(p, moved)
    assert c.concept_shifted == ["x"] and c.drifted == []
    assert c.label_shift["numeric"] is True and c.label_shift["drifted"] is False
    same = skewer.compare(p, skewer.profile(number_rows(3), label="y", backend="cpu"))
    assert same.concept_shifted == []
