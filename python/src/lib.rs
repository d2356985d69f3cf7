//! `skewer._skewer`: the Rust side of the Python package. Every function
//! takes and returns what the CLI reads and writes (profile, comparison,
//! schema and anomaly JSON; partial states as bytes), so that the Python
//! API is the CLI's code and its output is the CLI's, byte for byte. The
//! classes around them are in `python/skewer/`.
//!
//! Data comes in through the Arrow PyCapsule stream interface
//! (`__arrow_c_stream__`): the batches are the producer's buffers, never
//! copied, and the GIL is released while they are read and profiled.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use arrow::datatypes::SchemaRef;
use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule};
use serde::Deserialize;
use skewer::backend::{self, Backend, Choice};
use skewer::engine::groups::GroupBy;
use skewer::engine::{self, partial, NoProgress, ProfileOptions};
use skewer::profile::{DatasetProfile, StatsOptions};
use skewer::source::{Dataset, SourceOptions};

pyo3::create_exception!(
    _skewer,
    SkewerError,
    PyValueError,
    "What the CLI exits 2 for: bad input, a bad option, a corrupt file or partial state."
);

fn err(e: skewer::Error) -> PyErr {
    SkewerError::new_err(e.to_string())
}

/// The options of a profile, as `skewer.profile`'s keywords; those not
/// given are the CLI's defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
struct Options {
    columns: Option<Vec<String>>,
    backend: Option<String>,
    bins: Option<usize>,
    quantile_bins: Option<usize>,
    top_k: Option<usize>,
    quantiles: Option<Vec<f64>>,
    categorical: Vec<String>,
    one_pass: bool,
    slice_by: Option<Vec<String>>,
    max_slices: Option<usize>,
    label: Option<String>,
    max_classes: Option<usize>,
    /// `COL=WIDTH`: one profile per window.
    window: Option<String>,
}

fn parse_options(json: &str) -> PyResult<Options> {
    serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("options: {e}")))
}

/// The backend a name asks for ("auto" where none is named, as in the
/// CLI), opened once per process (a GPU adapter takes a while to open).
fn backend_of(name: Option<&str>) -> PyResult<Arc<Backend>> {
    static OPEN: OnceLock<Mutex<HashMap<String, Arc<Backend>>>> = OnceLock::new();
    let choice = match name {
        None => Choice::default(),
        Some("auto") => Choice::Auto,
        Some("cpu") => Choice::Cpu,
        Some("gpu") => Choice::Gpu,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "backend must be \"auto\", \"cpu\" or \"gpu\", not {other:?}"
            )))
        }
    };
    let key = format!("{choice:?}");
    let mut open = OPEN
        .get_or_init(Default::default)
        .lock()
        .map_err(|_| PyValueError::new_err("the backend cache is poisoned"))?;
    if let Some(b) = open.get(&key) {
        return Ok(b.clone());
    }
    if choice != Choice::Cpu {
        skewer::backend::gpu::quiet_display_probe();
    }
    let opened = backend::open(&backend::Request {
        choice,
        ..Default::default()
    })
    .map_err(err)?;
    let b = Arc::new(opened.backend);
    open.insert(key, b.clone());
    Ok(b)
}

impl Options {
    fn profile_options(&self) -> PyResult<ProfileOptions> {
        let d = StatsOptions::default();
        let stats = StatsOptions {
            bins: self.bins.unwrap_or(d.bins),
            quantile_bins: self.quantile_bins.unwrap_or(d.quantile_bins),
            top_k: self.top_k.unwrap_or(d.top_k),
            quantile_ranks: self.quantiles.clone().unwrap_or(d.quantile_ranks),
            ..d
        };
        let refuse = |e: &str| Err(PyValueError::new_err(e.to_string()));
        if self.label.is_some() && self.slice_by.is_some() {
            return refuse("label and slice_by together are not supported yet");
        }
        if self.window.is_some() && self.slice_by.is_some() {
            return refuse("window and slice_by together are not supported");
        }
        if self.max_classes.is_some() && self.label.is_none() {
            return refuse("max_classes is for label");
        }
        if self.max_slices.is_some() && self.slice_by.is_none() {
            return refuse("max_slices is for slice_by");
        }
        let max = |m: Option<usize>| m.unwrap_or(engine::DEFAULT_MAX_SLICES);
        // The label's classes are profiled as slices by it.
        let slices = match (&self.label, &self.slice_by) {
            (Some(l), _) => Some(engine::Slicing::of_label(l, max(self.max_classes))),
            (None, Some(c)) => Some(engine::Slicing {
                columns: c.clone(),
                max: max(self.max_slices),
                only: None,
            }),
            (None, None) => None,
        };
        Ok(ProfileOptions {
            stats,
            backend: backend_of(self.backend.as_deref())?,
            categorical: self.categorical.clone(),
            single_pass: self.one_pass,
            slices,
            label: self.label.clone(),
            ..Default::default()
        })
    }

    /// The columns to read: those asked for, and the slice columns (read
    /// and profiled even where `columns` leaves them out, as in the CLI).
    fn columns(&self) -> Option<Vec<String>> {
        let mut columns = self.columns.clone()?;
        let window = self
            .window
            .as_deref()
            .and_then(|w| GroupBy::windows(w, None).ok())
            .map(|by| by.columns());
        for c in self
            .slice_by
            .iter()
            .flatten()
            .chain(&self.label)
            .chain(window.iter().flatten())
        {
            if !columns.contains(c) {
                columns.push(c.clone());
            }
        }
        Some(columns)
    }
}

/// The Arrow C stream of `data` (anything with `__arrow_c_stream__`),
/// moved out of its capsule.
fn stream_of(data: &Bound<'_, PyAny>) -> PyResult<RecordBatchStreamReader> {
    let method = pyo3::intern!(data.py(), "__arrow_c_stream__");
    if !data.hasattr(method)? {
        return Err(PyTypeError::new_err(format!(
            "expected data with the Arrow PyCapsule stream interface (a pyarrow Table or \
             RecordBatchReader, a polars DataFrame, a DuckDB result, ...), got {}",
            data.get_type().name()?
        )));
    }
    let capsule: Bound<'_, PyCapsule> = data.getattr(method)?.call0()?.cast_into()?;
    let ptr = capsule
        .pointer_checked(Some(c"arrow_array_stream"))?
        .cast::<FFI_ArrowArrayStream>();
    // SAFETY: the capsule holds a valid ArrowArrayStream (its name says
    // so); from_raw moves it out and leaves a released one behind, which
    // the capsule's destructor then ignores.
    unsafe { RecordBatchStreamReader::from_raw(ptr.as_ptr()) }
        .map_err(|e| SkewerError::new_err(format!("reading the Arrow stream: {e}")))
}

/// Every batch of a stream (the producer's buffers, not copies), the
/// columns named in `columns` only.
fn read_all(
    reader: RecordBatchStreamReader,
    columns: Option<&[String]>,
    source: &str,
) -> skewer::Result<(SchemaRef, Vec<RecordBatch>)> {
    let schema = reader.schema();
    let pick: Option<Vec<usize>> = columns
        .map(|cols| {
            cols.iter()
                .map(|c| {
                    schema
                        .index_of(c)
                        .map_err(|_| engine::unknown_in(source, &schema, c))
                })
                .collect::<skewer::Result<_>>()
        })
        .transpose()?;
    let mut batches = Vec::new();
    for b in reader {
        let b = b.map_err(|e| skewer::Error::Corrupt {
            path: source.into(),
            location: String::new(),
            detail: format!("the Arrow stream failed: {e}"),
        })?;
        batches.push(match &pick {
            Some(p) => b
                .project(p)
                .map_err(|e| skewer::Error::Internal(e.to_string()))?,
            None => b,
        });
    }
    let schema = match &pick {
        Some(p) => Arc::new(
            schema
                .project(p)
                .map_err(|e| skewer::Error::Internal(e.to_string()))?,
        ),
        None => schema,
    };
    Ok((schema, batches))
}

fn json_of<T: serde::Serialize>(v: &T) -> PyResult<String> {
    skewer::to_json(v).map_err(err)
}

fn parse_profile(text: &str, what: &str) -> PyResult<DatasetProfile> {
    skewer::parse_profile(Path::new(what), text.as_bytes()).map_err(err)
}

/// The profile of `ds`, or with `window`, one per window (with the
/// label's classes in each where labelled).
fn profiles_of(
    ds: &Dataset,
    o: &Options,
    opts: &ProfileOptions,
) -> skewer::Result<Vec<DatasetProfile>> {
    match &o.window {
        None => Ok(vec![engine::profile(ds, opts, &NoProgress)?]),
        Some(w) => engine::profile_windows(ds, opts, w, &NoProgress),
    }
}

fn jsons_of(profiles: Vec<DatasetProfile>) -> PyResult<Vec<String>> {
    profiles.iter().map(json_of).collect()
}

/// Profile data with the Arrow stream interface; the profiles' JSON (one,
/// or one per window).
#[pyfunction]
fn profile_stream(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    options: &str,
    source: &str,
) -> PyResult<Vec<String>> {
    let o = parse_options(options)?;
    let opts = o.profile_options()?;
    let reader = stream_of(data)?;
    let p = py
        .detach(|| {
            let (schema, batches) = read_all(reader, o.columns().as_deref(), source)?;
            let ds = Dataset::from_batches(source, schema, batches)?;
            profiles_of(&ds, &o, &opts)
        })
        .map_err(err)?;
    jsons_of(p)
}

/// Profile files, folders, globs or object-store URLs, as `skewer profile`.
#[pyfunction]
fn profile_paths(py: Python<'_>, paths: Vec<String>, options: &str) -> PyResult<Vec<String>> {
    let o = parse_options(options)?;
    let opts = o.profile_options()?;
    let src = SourceOptions {
        columns: o.columns(),
        ..Default::default()
    };
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let p = py
        .detach(|| {
            let ds = Dataset::open(&paths, &src)?;
            profiles_of(&ds, &o, &opts)
        })
        .map_err(err)?;
    jsons_of(p)
}

/// A profile's JSON, checked and written as the CLI writes it.
#[pyfunction]
fn read_profile(text: &str) -> PyResult<String> {
    json_of(&parse_profile(text, "profile")?)
}

/// A sliced profile's slices: each one's values (JSON) and its profile
/// (JSON), as `skewer profile` would make it of the slice's rows.
#[pyfunction]
fn slices(text: &str) -> PyResult<Vec<(String, String)>> {
    let p = parse_profile(text, "profile")?;
    p.slices
        .iter()
        .map(|s| Ok((json_of(&s.slice)?, json_of(&p.slice(s))?)))
        .collect()
}

/// Merge stored profiles (as `skewer merge`).
#[pyfunction]
fn merge_profiles(profiles: Vec<String>) -> PyResult<String> {
    let parsed = profiles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let name = format!("profile {i}");
            Ok((PathBuf::from(&name), parse_profile(t, &name)?))
        })
        .collect::<PyResult<Vec<_>>>()?;
    json_of(&skewer::profile::merge::merge_profiles(parsed).map_err(err)?)
}

/// Compare two profiles (as `skewer compare --json` on two profiles);
/// the options not given are the CLI's defaults.
#[pyfunction]
#[pyo3(signature = (base, current, threshold=None, alpha=None, bins=None, backend=None))]
fn compare(
    py: Python<'_>,
    base: &str,
    current: &str,
    threshold: Option<f64>,
    alpha: Option<f64>,
    bins: Option<usize>,
    backend: Option<&str>,
) -> PyResult<String> {
    let base = parse_profile(base, "base")?;
    let current = parse_profile(current, "current")?;
    let o = compare_options(threshold, alpha, bins)?;
    let b = backend_of(backend)?;
    let c = py
        .detach(|| skewer::compare::compare(&base, &current, &o, &b))
        .map_err(err)?;
    let note = skewer::compare::concept::label_note("base", &base, "current", &current);
    warn(py, note.iter())?;
    json_of(&c)
}

/// Each note as a `UserWarning` at the caller of skewer's function (as
/// the CLI prints them on stderr); a NUL from a column's name is written
/// `\0`, which a C string cannot hold.
fn warn<'a>(py: Python<'_>, notes: impl Iterator<Item = &'a String>) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
    for n in notes {
        // No NUL is left, so this cannot fail; it is not unwrapped all the same.
        let message = std::ffi::CString::new(n.replace('\0', "\\0"))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        PyErr::warn(py, category.as_any(), &message, 2)?;
    }
    Ok(())
}

/// Each window's profile against the reference and the one before (as
/// `skewer timeline --json`); the profiles are named by their windows (or
/// "profile N") and ordered in time.
#[pyfunction]
#[pyo3(signature = (profiles, reference=None, threshold=None, alpha=None, bins=None))]
fn timeline(
    py: Python<'_>,
    profiles: Vec<String>,
    reference: Option<&str>,
    threshold: Option<f64>,
    alpha: Option<f64>,
    bins: Option<usize>,
) -> PyResult<String> {
    let windows = profiles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let name = format!("profile {i}");
            Ok((name.clone(), parse_profile(t, &name)?))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let windows = skewer::compare::timeline::in_order(windows).map_err(err)?;
    let reference = reference
        .map(|t| parse_profile(t, "reference"))
        .transpose()?;
    let o = compare_options(threshold, alpha, bins)?;
    let refs: Vec<(String, &DatasetProfile)> =
        windows.iter().map(|(n, p)| (n.clone(), p)).collect();
    let named = reference.as_ref().map(|p| ("reference", p));
    let t = py
        .detach(|| skewer::compare::timeline::timeline(&refs, named, &o, &Backend::cpu()))
        .map_err(err)?;
    warn(py, skewer::compare::timeline::notes(&refs, named).iter())?;
    json_of(&t)
}

/// Compare options: those given, else the CLI's defaults.
fn compare_options(
    threshold: Option<f64>,
    alpha: Option<f64>,
    bins: Option<usize>,
) -> PyResult<skewer::compare::CompareOptions> {
    let d = skewer::compare::CompareOptions::default();
    let o = skewer::compare::CompareOptions {
        threshold: threshold.unwrap_or(d.threshold),
        alpha: alpha.unwrap_or(d.alpha),
        bins: bins.unwrap_or(d.bins),
    };
    o.validate().map_err(err)?;
    Ok(o)
}

/// A schema inferred from a profile (as `skewer schema infer`); the
/// options not given are the CLI's defaults.
#[pyfunction]
#[pyo3(signature = (profile, max_domain_size=None, bounds=None, num_examples=None))]
fn infer_schema(
    profile: &str,
    max_domain_size: Option<usize>,
    bounds: Option<bool>,
    num_examples: Option<bool>,
) -> PyResult<String> {
    let p = parse_profile(profile, "profile")?;
    let d = skewer::schema::InferOptions::default();
    let o = skewer::schema::InferOptions {
        max_domain_size: max_domain_size.unwrap_or(d.max_domain_size),
        bounds: bounds.unwrap_or(d.bounds),
        num_examples: num_examples.unwrap_or(d.num_examples),
    };
    json_of(&skewer::schema::infer(&p, &o))
}

/// A schema's JSON, checked and written as the CLI writes it.
#[pyfunction]
fn read_schema(text: &str) -> PyResult<String> {
    json_of(&skewer::schema::parse_schema(Path::new("schema"), text).map_err(err)?)
}

/// The anomalies of a profile against a schema (as `skewer validate
/// --json` on profiles): `{"anomalies": [...]}`.
#[pyfunction]
#[pyo3(signature = (profile, schema, previous=None, training=None, bins=None, backend=None))]
fn validate(
    py: Python<'_>,
    profile: &str,
    schema: &str,
    previous: Option<&str>,
    training: Option<&str>,
    bins: Option<usize>,
    backend: Option<&str>,
) -> PyResult<String> {
    // --compare-bins' default: compare's.
    let bins = bins.unwrap_or(skewer::compare::CompareOptions::default().bins);
    let p = parse_profile(profile, "profile")?;
    let schema = skewer::schema::parse_schema(Path::new("schema"), schema).map_err(err)?;
    let previous = previous.map(|t| parse_profile(t, "previous")).transpose()?;
    let training = training.map(|t| parse_profile(t, "training")).transpose()?;
    let b = backend_of(backend)?;
    let anomalies = py
        .detach(|| {
            skewer::schema::validate(
                &schema,
                &p,
                &skewer::schema::Checks {
                    previous: previous.as_ref(),
                    training: training.as_ref(),
                    backend: &b,
                    bins,
                    data: None,
                },
            )
        })
        .map_err(err)?;
    json_of(&serde_json::json!({ "anomalies": anomalies }))
}

fn bytes<'py>(py: Python<'py>, b: skewer::Result<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &b.map_err(err)?))
}

/// Pass one over one partition's data: its partial state.
#[pyfunction]
fn pass_one<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    options: &str,
    source: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let o = parse_options(options)?;
    let opts = o.profile_options()?;
    let reader = stream_of(data)?;
    let out = py.detach(|| {
        let (schema, batches) = read_all(reader, o.columns().as_deref(), source)?;
        partial::pass_one(&schema, &batches, &opts, source)
    });
    bytes(py, out)
}

/// Merge pass-one partial states, in the order given.
#[pyfunction]
fn merge_partials<'py>(py: Python<'py>, parts: Vec<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
    let out = py.detach(|| partial::merge(&parts));
    bytes(py, out)
}

/// The plan of pass two, from the merged pass-one state.
#[pyfunction]
fn plan<'py>(py: Python<'py>, merged: Vec<u8>) -> PyResult<Bound<'py, PyBytes>> {
    let out = py.detach(|| partial::plan(&merged));
    bytes(py, out)
}

/// Whether the plan needs a pass two over the data.
#[pyfunction]
fn needs_pass_two(py: Python<'_>, plan: Vec<u8>) -> PyResult<bool> {
    py.detach(|| partial::needs_pass_two(&plan)).map_err(err)
}

/// Pass two over one partition's data (the same rows as in pass one).
#[pyfunction]
#[pyo3(signature = (plan, data, columns=None, backend=None))]
fn pass_two<'py>(
    py: Python<'py>,
    plan: Vec<u8>,
    data: &Bound<'py, PyAny>,
    columns: Option<Vec<String>>,
    backend: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let b = backend_of(backend)?;
    let reader = stream_of(data)?;
    let out = py.detach(|| {
        let (_, batches) = read_all(reader, columns.as_deref(), "pass two")?;
        partial::pass_two(&plan, &batches, &b)
    });
    bytes(py, out)
}

/// The profile's JSON from the merged pass-one state and every
/// partition's pass-two state.
#[pyfunction]
#[pyo3(signature = (merged, parts, backend=None))]
fn finish(
    py: Python<'_>,
    merged: Vec<u8>,
    parts: Vec<Vec<u8>>,
    backend: Option<&str>,
) -> PyResult<String> {
    let b = backend_of(backend)?;
    let p = py
        .detach(|| partial::finish(&merged, &parts, &b))
        .map_err(err)?;
    json_of(&p)
}

/// The profile's JSON from the merged pass-one state alone (sketch
/// estimates of quantiles and histograms).
#[pyfunction]
#[pyo3(signature = (merged, backend=None))]
fn finish_one_pass(py: Python<'_>, merged: Vec<u8>, backend: Option<&str>) -> PyResult<String> {
    let b = backend_of(backend)?;
    let p = py
        .detach(|| partial::finish_one_pass(&merged, &b))
        .map_err(err)?;
    json_of(&p)
}

#[pymodule]
fn _skewer(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PARTIAL_FORMAT_VERSION", partial::VERSION)?;
    m.add("SkewerError", m.py().get_type::<SkewerError>())?;
    m.add_function(wrap_pyfunction!(profile_stream, m)?)?;
    m.add_function(wrap_pyfunction!(profile_paths, m)?)?;
    m.add_function(wrap_pyfunction!(read_profile, m)?)?;
    m.add_function(wrap_pyfunction!(merge_profiles, m)?)?;
    m.add_function(wrap_pyfunction!(slices, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(timeline, m)?)?;
    m.add_function(wrap_pyfunction!(infer_schema, m)?)?;
    m.add_function(wrap_pyfunction!(read_schema, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(pass_one, m)?)?;
    m.add_function(wrap_pyfunction!(merge_partials, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(needs_pass_two, m)?)?;
    m.add_function(wrap_pyfunction!(pass_two, m)?)?;
    m.add_function(wrap_pyfunction!(finish, m)?)?;
    m.add_function(wrap_pyfunction!(finish_one_pass, m)?)?;
    Ok(())
}
