"""skewer: exact profiles, schemas, drift and skew of columnar ML data.

The functions here run the same Rust code as the ``skewer`` command line,
and their results are the CLI's JSON (``Profile.to_json()`` is what
``skewer profile -o`` writes). Data comes in through the Arrow PyCapsule
stream interface (``__arrow_c_stream__``): pyarrow Tables and
RecordBatchReaders, polars DataFrames, DuckDB results, pandas DataFrames
(through pyarrow) -- their buffers are read where they are, never copied
or converted through Python objects, and the GIL is released while
skewer computes. Paths (files, folders, globs, s3:// URLs) are read as the
CLI reads them.

On a cluster, ``skewer.spark.profile`` and ``skewer.ray.profile`` make
the same profile across partitions (docs/python.md).
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Union

from . import _skewer
from ._skewer import PARTIAL_FORMAT_VERSION, SkewerError, __version__

__all__ = [
    "Profile",
    "Feature",
    "Comparison",
    "Timeline",
    "Schema",
    "SkewerError",
    "profile",
    "compare",
    "timeline",
    "infer_schema",
    "validate",
    "merge",
    "PARTIAL_FORMAT_VERSION",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]


def _options(
    *,
    columns: Optional[Sequence[str]] = None,
    backend: Optional[str] = None,
    bins: Optional[int] = None,
    quantile_bins: Optional[int] = None,
    top_k: Optional[int] = None,
    quantiles: Optional[Sequence[float]] = None,
    categorical: Optional[Sequence[str]] = None,
    one_pass: bool = False,
    slice_by: Optional[Sequence[str]] = None,
    max_slices: Optional[int] = None,
    label: Optional[str] = None,
    max_classes: Optional[int] = None,
    window: Optional[str] = None,
) -> str:
    """The options of a profile as the JSON the Rust side reads: only those
    given (the others are the CLI's defaults, set on the Rust side)."""
    given = {
        "columns": list(columns) if columns is not None else None,
        "backend": backend,
        "bins": bins,
        "quantile_bins": quantile_bins,
        "top_k": top_k,
        "quantiles": [float(q) for q in quantiles] if quantiles is not None else None,
        "categorical": list(categorical) if categorical is not None else None,
        "one_pass": one_pass or None,
        "slice_by": list(slice_by) if slice_by is not None else None,
        "max_slices": max_slices,
        "label": label,
        "max_classes": max_classes,
        "window": window,
    }
    return json.dumps({k: v for k, v in given.items() if v is not None})


def arrow_stream(data: Any) -> Any:
    """``data`` as an object with ``__arrow_c_stream__``.

    Objects that already have it are returned as they are (no copy). A
    pandas DataFrame (converted by pyarrow, its index left out), a list of
    pyarrow RecordBatches and a pyarrow Dataset go through pyarrow.
    """
    pandas = type(data).__module__.startswith("pandas")
    if hasattr(data, "__arrow_c_stream__") and not pandas:
        return data
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - depends on the environment
        pa = None
    if pa is not None:
        if pandas:
            # Not pandas' own stream, which keeps a filtered frame's index
            # as a column.
            return pa.Table.from_pandas(data, preserve_index=False)
        if isinstance(data, list) and data and all(isinstance(b, pa.RecordBatch) for b in data):
            return pa.RecordBatchReader.from_batches(data[0].schema, data)
        if hasattr(data, "scanner"):  # pyarrow.dataset.Dataset
            return data.scanner().to_reader()
        if hasattr(data, "to_reader"):  # pyarrow.dataset.Scanner
            return data.to_reader()
    raise TypeError(
        f"cannot profile a {type(data).__name__}: pass data with the Arrow PyCapsule "
        "stream interface (a pyarrow Table or RecordBatchReader, a polars DataFrame, "
        "a DuckDB result), a pandas DataFrame, or paths"
    )


def _source_label(data: Any) -> str:
    t = type(data)
    return f"python: {t.__module__.split('.')[0]}.{t.__name__}"


def profile(data: Any, *, columns: Optional[Sequence[str]] = None, **options: Any) -> Any:
    """Profile ``data``: Arrow data in memory, or paths.

    ``data`` is anything with ``__arrow_c_stream__`` (pyarrow, polars,
    DuckDB, ...), a pandas DataFrame, a list of pyarrow RecordBatches, a
    pyarrow Dataset, or a path (str or os.PathLike) or list of paths to
    files, folders, globs or object-store URLs. ``columns`` picks columns.

    The options (keywords; those not given are the CLI's defaults, shown
    here):

    - ``backend="auto"``: a hardware GPU if there is one, else the CPU;
      or "cpu", or "gpu";
    - ``bins=10``, ``quantile_bins=10``: the equal-width and equal-mass
      histograms' bins;
    - ``top_k=20``: the top values of categorical features;
    - ``quantiles=None``: the quantile ranks (default 0.01, 0.05, 0.25,
      0.5, 0.75, 0.95, 0.99);
    - ``categorical=None``: integer columns to profile as categories;
    - ``one_pass=False``: read the data once; quantiles and histograms are
      then the sketch's estimates;
    - ``slice_by=None``: columns whose values (or combinations) slice the
      rows; each slice is profiled too (``Profile.slices``), the
      ``max_slices=20`` largest apart and the rest as "__other__"
      (docs/slices-and-windows.md);
    - ``label=None``: the label column: each feature gets its
      label-conditional table (``Feature.label_table``: the classes'
      counts per bin; for a float or decimal label ``Feature.label_means``:
      the label's count and mean per bin), and ``compare`` of two profiles
      labelled by it reports label and concept shift; the
      ``max_classes=20`` largest classes apart (docs/label.md);
    - ``window=None``: ``"COL=WIDTH"`` (such as ``"ts=1d"``): instead of
      one Profile, a list of them, one per window of the timestamp or date
      column, in time order (for ``timeline``; with ``label``, each
      labelled).
    """
    opts = _options(columns=columns, **options)
    if isinstance(data, (str, os.PathLike)):
        out = _skewer.profile_paths([os.fspath(data)], opts)
    elif isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        out = _skewer.profile_paths([os.fspath(p) for p in data], opts)
    else:
        out = _skewer.profile_stream(arrow_stream(data), opts, _source_label(data))
    profiles = [Profile(p) for p in out]
    return profiles if options.get("window") is not None else profiles[0]


class Feature:
    """One feature of a profile: its entry of the profile JSON, with the
    usual statistics as attributes (None where the kind has none)."""

    def __init__(self, d: Mapping[str, Any]):
        self._d = d

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def __repr__(self) -> str:
        return f"<skewer.Feature {self.name!r} {self.kind} {self.type}>"

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self._d))

    name = property(lambda self: self._d["name"])
    type = property(lambda self: self._d["type"])
    kind = property(lambda self: self._d["kind"])
    count = property(lambda self: self._d["count"])
    missing = property(lambda self: self._d["missing"])
    computed_on = property(lambda self: self._d["computed_on"])

    @property
    def numeric(self) -> Optional[Mapping[str, Any]]:
        return self._d.get("numeric")

    @property
    def categorical(self) -> Optional[Mapping[str, Any]]:
        return self._d.get("categorical")

    def _num(self, key: str) -> Any:
        n = self.numeric
        return None if n is None else n.get(key)

    min = property(lambda self: self._num("min"))
    max = property(lambda self: self._num("max"))
    mean = property(lambda self: self._num("mean"))
    std_dev = property(lambda self: self._num("std_dev"))
    variance = property(lambda self: self._num("variance"))

    @property
    def quantiles(self) -> dict:
        """Rank -> value (exact unless the profile was merged or one-pass)."""
        return {q["rank"]: q["value"] for q in (self._num("quantiles") or [])}

    @property
    def histogram(self) -> list:
        """Equal-width bins as (low, high, count)."""
        return [(b["low"], b["high"], b["count"]) for b in (self._num("histogram") or [])]

    @property
    def unique(self) -> Optional[int]:
        c = self.categorical
        return None if c is None else c.get("unique")

    @property
    def label_table(self) -> Optional[Mapping[str, Any]]:
        """``label=``: ``{"classes": [...], "bins": [{"bin", "count",
        "classes": [count per class]}]}``; None without a label."""
        return self._d.get("label_table")

    @property
    def label_means(self) -> Optional[list]:
        """``label=`` of a float or decimal column: ``[{"bin", "count",
        "mean", "std_dev"}]``, the label in each bin; None otherwise."""
        m = self._d.get("label_means")
        return None if m is None else m.get("bins", [])

    @property
    def top_values(self) -> list:
        """(value, count), most frequent first."""
        c = self.categorical
        return [] if c is None else [(v["value"], v["count"]) for v in c.get("top_values", [])]


class Profile:
    """A dataset profile: exactly the CLI's profile JSON."""

    def __init__(self, json_text: str):
        self._json = json_text
        self._d = json.loads(json_text)
        self._by_name = {f["name"]: i for i, f in enumerate(self._d["features"])}

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "Profile":
        """A profile from its JSON (checked, as the CLI reads it)."""
        if isinstance(text, bytes):
            text = text.decode()
        return cls(_skewer.read_profile(text))

    @classmethod
    def load(cls, path: PathLike) -> "Profile":
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())

    def to_json(self) -> str:
        """The profile's JSON, byte for byte what ``skewer profile -o`` writes."""
        return self._json

    def save(self, path: PathLike) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self._json)

    def to_dict(self) -> dict:
        return json.loads(self._json)

    @property
    def num_rows(self) -> int:
        return self._d["num_rows"]

    @property
    def passes(self) -> int:
        return self._d["passes"]

    @property
    def names(self) -> list:
        return [f["name"] for f in self._d["features"]]

    @property
    def features(self) -> list:
        return [Feature(f) for f in self._d["features"]]

    @property
    def slices(self) -> list:
        """``(values, profile)`` per slice (``slice_by``): the slice
        columns' values (None for missing) and the slice's own Profile,
        largest first; empty for a profile without slices."""
        return [(json.loads(s), Profile(p)) for s, p in _skewer.slices(self._json)]

    def __getitem__(self, name: str) -> Feature:
        try:
            return Feature(self._d["features"][self._by_name[name]])
        except KeyError:
            raise KeyError(f"no feature {name!r}; the profile has {', '.join(self.names)}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Feature]:
        return iter(self.features)

    def __len__(self) -> int:
        return len(self._d["features"])

    def __repr__(self) -> str:
        return f"<skewer.Profile {self.num_rows} rows, {len(self)} features>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and other._json == self._json

    def merge(self, *others: "Profile") -> "Profile":
        """The profile of the union of the data (as ``skewer merge``):
        counts and moments exact, quantiles and histograms from the
        sketches, with their rank error."""
        return merge([self, *others])

    def to_pandas(self):
        """A summary DataFrame: one row per feature."""
        import pandas as pd

        rows = []
        for f in self:
            q = f.quantiles
            rows.append(
                {
                    "name": f.name,
                    "type": f.type,
                    "kind": f.kind,
                    "count": f.count,
                    "missing": f.missing,
                    "mean": f.mean,
                    "std_dev": f.std_dev,
                    "min": f.min,
                    "median": q.get(0.5),
                    "max": f.max,
                    "unique": f.unique,
                    "top": f.top_values[0][0] if f.top_values else None,
                }
            )
        return pd.DataFrame(rows).set_index("name")


def merge(profiles: Iterable[Profile]) -> Profile:
    """Merge stored profiles (as ``skewer merge``)."""
    return Profile(_skewer.merge_profiles([p.to_json() for p in profiles]))


def _as_profile(x: Any, **kw: Any) -> Profile:
    if isinstance(x, Profile):
        return x
    return profile(x, **kw)


class _JsonResult:
    """A result that is the CLI's JSON, with its fields as a dict."""

    def __init__(self, json_text: str):
        self._json = json_text
        self._d = json.loads(json_text)

    def to_json(self) -> str:
        return self._json

    def to_dict(self) -> dict:
        return json.loads(self._json)

    def __getitem__(self, key: str) -> Any:
        return self._d[key]


class Comparison(_JsonResult):
    """A comparison: ``skewer compare --json``'s document."""

    @property
    def features(self) -> list:
        return self._d["features"]

    @property
    def drifted(self) -> list:
        """The names of the features that drifted."""
        return [f["name"] for f in self._d["features"] if f["drifted"]]

    @property
    def concept_shifted(self) -> list:
        """The names of the features whose concept shifted (profiles
        labelled by the same column)."""
        return [f["name"] for f in self._d["features"] if (f.get("concept") or {}).get("drifted")]

    @property
    def label_shift(self) -> Optional[Mapping[str, Any]]:
        """How the label's distribution moved; None unless both profiles
        are labelled by the same column."""
        return self._d.get("label_shift")

    def __repr__(self) -> str:
        return f"<skewer.Comparison {len(self.features)} features, drifted: {self.drifted}>"


class Timeline(_JsonResult):
    """A timeline: ``skewer timeline --json``'s document."""

    @property
    def windows(self) -> list:
        return self._d["windows"]

    @property
    def features(self) -> list:
        return self._d["features"]

    def drift(self, name: str) -> str:
        """A feature's verdict: "none", "slow" or "fast"."""
        return next(f["drift"] for f in self._d["features"] if f["name"] == name)

    def concept(self, name: str) -> Optional[str]:
        """A feature's concept-shift verdict (labelled profiles), else None."""
        f = next(f for f in self._d["features"] if f["name"] == name)
        return (f.get("concept") or {}).get("drift")

    def __repr__(self) -> str:
        moved = [f["name"] for f in self.features if f["drift"] != "none"]
        return f"<skewer.Timeline {len(self.windows)} windows, drifting: {moved}>"


class Schema(_JsonResult):
    """A schema: ``skewer schema infer``'s document."""

    @classmethod
    def from_json(cls, text: str) -> "Schema":
        return cls(_skewer.read_schema(text))

    @classmethod
    def load(cls, path: PathLike) -> "Schema":
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())

    def save(self, path: PathLike) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self._json)


def compare(
    base: Any,
    current: Any,
    *,
    threshold: Optional[float] = None,
    alpha: Optional[float] = None,
    bins: Optional[int] = None,
    backend: Optional[str] = None,
) -> Comparison:
    """Drift or skew between two profiles (or data, profiled first), as
    ``skewer compare``: per feature, L-infinity or KS with its significance
    test, and whether it drifted. The options not given are the CLI's
    (``--threshold`` 0.03, ``--alpha`` 1e-4, ``--compare-bins`` 10)."""
    b = _as_profile(base, backend=backend)
    c = _as_profile(current, backend=backend)
    return Comparison(_skewer.compare(b.to_json(), c.to_json(), threshold, alpha, bins, backend))


def timeline(
    profiles: Iterable[Profile],
    *,
    reference: Optional[Profile] = None,
    threshold: Optional[float] = None,
    alpha: Optional[float] = None,
    bins: Optional[int] = None,
) -> Timeline:
    """Each profile (``profile(..., window=...)``'s, or any in time order)
    against the reference (else the first) and the one before, as
    ``skewer timeline``: per feature, "none", "slow" or "fast" drift, and
    for labelled profiles the same for the concept shift."""
    return Timeline(
        _skewer.timeline(
            [p.to_json() for p in profiles],
            reference.to_json() if reference is not None else None,
            threshold,
            alpha,
            bins,
        )
    )


def infer_schema(
    profile: Profile,
    *,
    max_domain_size: Optional[int] = None,
    bounds: Optional[bool] = None,
    num_examples: Optional[bool] = None,
) -> Schema:
    """A schema inferred from a profile, as ``skewer schema infer``; the
    options not given are the CLI's (``--max-domain-size`` 100, no
    ``--bounds``, no ``--num-examples``)."""
    return Schema(_skewer.infer_schema(_as_profile(profile).to_json(), max_domain_size, bounds, num_examples))


def validate(
    data_or_profile: Any,
    schema: Union[Schema, str],
    *,
    previous: Any = None,
    training: Any = None,
    bins: Optional[int] = None,
    backend: Optional[str] = None,
) -> list:
    """The anomalies of data (or its profile) against a schema, with drift
    against ``previous`` and skew against ``training`` where the schema
    has comparators, as ``skewer validate --json``: a list of anomaly dicts
    (empty when the data is valid). ``bins``: ``--compare-bins``."""
    s = schema if isinstance(schema, Schema) else Schema.from_json(schema)
    p = _as_profile(data_or_profile, backend=backend)
    prev = None if previous is None else _as_profile(previous, backend=backend).to_json()
    train = None if training is None else _as_profile(training, backend=backend).to_json()
    out = _skewer.validate(p.to_json(), s.to_json(), prev, train, bins, backend)
    return json.loads(out)["anomalies"]
