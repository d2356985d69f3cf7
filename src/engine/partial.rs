//! Profiles across machines: the engine's two passes as steps whose
//! partial states travel as bytes (docs/partial-states.md).
//!
//! 1. Every partition runs [`pass_one`] over its record batches.
//! 2. The driver [`merge`]s the partials in partition order and makes the
//!    [`plan`] of pass two from the merged state: which sketch buckets hold
//!    the quantile ranks and straddle the histogram edges.
//! 3. Every partition runs [`pass_two`] over the same batches again,
//!    collecting the keys the plan names.
//! 4. The driver [`finish`]es from the merged pass-one state and the
//!    pass-two states: the profile, as one process would make it.
//!
//! Counts, min/max, quantiles, histograms, value counts, top values and
//! distinct counts do not depend on how the rows were cut into partitions
//! and batches. The moments (mean, standard deviation, skewness, kurtosis)
//! are folded batch by batch, so they may differ from one process's in the
//! last bits (docs/partial-states.md says by how much).

use std::io::Cursor;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::schedule::run_ordered;
use super::*;
use crate::profile::sketch::KeyMap;

/// The first bytes of every partial state.
pub const MAGIC: &[u8; 8] = b"SKEWERPS";
/// The version of the format after [`MAGIC`]; a reader refuses others.
pub const VERSION: u16 = 1;

/// What a partial state holds: the byte after the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    PassOne = 1,
    Plan = 2,
    PassTwo = 3,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::PassOne => "a pass-one state",
            Kind::Plan => "a plan",
            Kind::PassTwo => "a pass-two state",
        }
    }
}

/// The options every partition must share (the backend is each one's own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Shared {
    /// The Arrow schema, as an Arrow IPC stream with no batches.
    schema: Vec<u8>,
    stats: StatsOptions,
    categorical: Vec<String>,
    /// Where the rows came from, for the profile's `sources`.
    sources: Vec<String>,
}

/// Pass one's state of some partitions.
#[derive(Debug, Serialize, Deserialize)]
struct PassOne {
    shared: Shared,
    rows: u64,
    columns: Vec<ColState>,
}

/// Pass two's plan: one per numeric leaf.
#[derive(Debug, Serialize, Deserialize)]
struct Plan {
    shared: Shared,
    leaves: Vec<Pass2Plan>,
}

/// Pass two's state of some partitions: the keys collected per leaf.
#[derive(Debug, Serialize, Deserialize)]
struct PassTwo {
    /// [`digest`] of the plan's bytes: states of another plan are refused.
    plan: u64,
    rows: u64,
    leaves: Vec<Pass2State>,
}

/// A stable 64-bit digest of a plan's bytes.
fn digest(plan: &[u8]) -> u64 {
    crate::profile::categorical::stable_hash(plan)
}

fn encode<T: Serialize>(kind: Kind, value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1 << 12);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.push(kind as u8);
    ciborium::into_writer(value, &mut out)
        .map_err(|e| Error::Internal(format!("encoding {}: {e}", kind.word())))?;
    Ok(out)
}

fn decode<T: for<'de> Deserialize<'de>>(kinds: &[Kind], bytes: &[u8]) -> Result<(Kind, T)> {
    let bad = |detail: String| Error::InvalidPartial(detail);
    if bytes.len() < 11 || &bytes[..8] != MAGIC {
        return Err(bad("not a skewer partial state (no SKEWERPS header)".into()));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(bad(format!(
            "partial state format version {version}; this skewer reads version {VERSION} \
             (make every partial with the same skewer)"
        )));
    }
    let kind = match bytes[10] {
        1 => Kind::PassOne,
        2 => Kind::Plan,
        3 => Kind::PassTwo,
        k => return Err(bad(format!("unknown partial state kind {k}"))),
    };
    if !kinds.contains(&kind) {
        let want: Vec<&str> = kinds.iter().map(|k| k.word()).collect();
        return Err(bad(format!(
            "expected {}, got {}",
            want.join(" or "),
            kind.word()
        )));
    }
    let value = ciborium::from_reader(Cursor::new(&bytes[11..]))
        .map_err(|e| bad(format!("{} that does not decode: {e}", kind.word())))?;
    Ok((kind, value))
}

/// The schema's columns as an Arrow IPC stream: names and types only
/// (every column nullable, no metadata), which is all the layout reads,
/// so that partitions whose schemas differ in nothing else merge (pandas
/// writes its index's length into the metadata).
fn schema_bytes(schema: &Schema) -> Result<Vec<u8>> {
    let schema = Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| arrow::datatypes::Field::new(f.name(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    let schema = &schema;
    let mut out = Vec::new();
    let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut out, schema)
        .map_err(|e| Error::Internal(format!("encoding the schema: {e}")))?;
    w.finish()
        .map_err(|e| Error::Internal(format!("encoding the schema: {e}")))?;
    drop(w);
    Ok(out)
}

fn schema_of(bytes: &[u8]) -> Result<SchemaRef> {
    let r = arrow::ipc::reader::StreamReader::try_new(Cursor::new(bytes), None)
        .map_err(|e| Error::InvalidPartial(format!("its schema does not decode: {e}")))?;
    Ok(r.schema())
}

/// A pass-one state with what its schema and options make of it.
struct Decoded {
    one: PassOne,
    layout: Layout,
    warnings: Vec<String>,
}

impl Decoded {
    /// A pass-one state from its bytes, its columns checked against its
    /// schema.
    fn new(bytes: &[u8]) -> Result<Decoded> {
        let (_, one): (_, PassOne) = decode(&[Kind::PassOne], bytes)?;
        let (layout, warnings) = one.shared.layout()?;
        let fits = one.columns.len() == layout.plans.len()
            && one.columns.iter().enumerate().all(|(c, st)| {
                st.leaf == layout.leaf_of[c]
                    && match (&st.values, &layout.plans[c]) {
                        (None, p) => matches!(p, super::Plan::Skip),
                        (Some(ValuesAcc::Numeric(n)), p) => {
                            let domain = match p {
                                super::Plan::Numeric(d) => Some(*d),
                                super::Plan::List(inner) => match inner.as_ref() {
                                    super::Plan::Numeric(d) => Some(*d),
                                    _ => None,
                                },
                                _ => None,
                            };
                            domain == Some(n.domain)
                                && n.sketch.map() == KeyMap::for_domain(n.domain)
                        }
                        (Some(ValuesAcc::Categorical(_)), p) => {
                            layout.leaf_of[c].is_none() && !matches!(p, super::Plan::Skip)
                        }
                    }
            });
        if !fits {
            return Err(Error::InvalidPartial(
                "a pass-one state whose columns are not its schema's".into(),
            ));
        }
        Ok(Decoded {
            one,
            layout,
            warnings,
        })
    }

    /// Pass two's plan of each numeric leaf, and the plan's bytes.
    fn plan(&self) -> Result<(Vec<Pass2Plan>, Vec<u8>)> {
        let leaves = self
            .layout
            .plans_pass2(&self.one.columns, &self.one.shared.stats)?;
        let bytes = encode(
            Kind::Plan,
            &Plan {
                shared: self.one.shared.clone(),
                leaves: leaves.clone(),
            },
        )?;
        Ok((leaves, bytes))
    }

    /// The profile from these merged states and, unless one pass was
    /// asked for, pass two's plans and merged states.
    fn finish(
        &self,
        exact: Option<(&[Pass2Plan], &[Pass2State])>,
        backend: &Arc<Backend>,
    ) -> Result<DatasetProfile> {
        finish_profile(
            &self.layout,
            &self.one.shared.options(backend),
            backend,
            &self.one.columns,
            exact,
            self.one.rows,
            self.one.shared.sources.clone(),
            self.warnings.clone(),
        )
    }
}

impl Shared {
    fn options(&self, backend: &Arc<Backend>) -> ProfileOptions {
        ProfileOptions {
            stats: self.stats.clone(),
            backend: backend.clone(),
            categorical: self.categorical.clone(),
            ..ProfileOptions::default()
        }
    }

    /// What each column is profiled as (the backend plays no part).
    fn layout(&self) -> Result<(Layout, Vec<String>)> {
        let schema = schema_of(&self.schema)?;
        let source = self.sources.first().cloned().unwrap_or_default();
        Layout::new(&schema, &self.options(&Backend::cpu()), &source)
    }
}

/// The batches' columns must be the schema's, in its order and types.
fn check_batch(schema: &Schema, batch: &RecordBatch, source: &str) -> Result<()> {
    let got = batch.schema();
    if crate::source::same_columns(&got, schema) {
        return Ok(());
    }
    Err(Error::InvalidPartial(format!(
        "{source}: a batch has the columns ({}) where the first had ({})",
        crate::source::field_list(&got),
        crate::source::field_list(schema)
    )))
}

/// Fold `batches` into states made by `new` with `step`, work items in
/// parallel, merging their states in batch order.
fn fold_batches<T: Send>(
    batches: &[RecordBatch],
    new: impl Fn() -> T + Sync,
    step: impl Fn(&mut T, &RecordBatch) -> Result<()> + Sync,
    mut merge: impl FnMut(&mut T, T),
) -> Result<T> {
    let threads = rayon::current_num_threads();
    let items = crate::source::runs_of_rows(batches, crate::source::ITEM_ROWS);
    let mut acc = new();
    run_ordered(
        items.len(),
        threads,
        4 * threads,
        |i| {
            let mut st = new();
            for b in &batches[items[i].clone()] {
                step(&mut st, b)?;
            }
            Ok(st)
        },
        |_, st| {
            merge(&mut acc, st);
            Ok(())
        },
    )?;
    Ok(acc)
}

/// Pass one over one partition's batches (of `schema`, from `source`):
/// its partial state.
pub fn pass_one(
    schema: &Schema,
    batches: &[RecordBatch],
    opts: &ProfileOptions,
    source: &str,
) -> Result<Vec<u8>> {
    opts.validate()?;
    let (layout, _) = Layout::new(schema, opts, source)?;
    let session = opts.backend.session(0);
    let ncols = schema.fields().len();
    let new = || -> (u64, Vec<ColState>) { (0, (0..ncols).map(|c| layout.new_state(c)).collect()) };
    let (rows, columns) = fold_batches(
        batches,
        new,
        |(rows, states), batch| {
            check_batch(schema, batch, source)?;
            *rows += batch.num_rows() as u64;
            states
                .par_iter_mut()
                .zip(batch.columns().par_iter())
                .try_for_each(|(s, a)| s.update(a, &session))
        },
        |(rows, acc), (n, states)| {
            *rows += n;
            for (a, s) in acc.iter_mut().zip(states) {
                a.merge(&s);
            }
        },
    )?;
    session.release_kept();
    let shared = Shared {
        schema: schema_bytes(schema)?,
        stats: opts.stats.clone(),
        categorical: opts.categorical.clone(),
        sources: vec![source.to_string()],
    };
    encode(
        Kind::PassOne,
        &PassOne {
            shared,
            rows,
            columns,
        },
    )
}

/// Merge pass-one partial states in the order given (partition order):
/// another pass-one state.
pub fn merge<B: AsRef<[u8]>>(parts: &[B]) -> Result<Vec<u8>> {
    let mut merged: Option<PassOne> = None;
    for (i, p) in parts.iter().enumerate() {
        let one = Decoded::new(p.as_ref())?.one;
        let Some(m) = merged.as_mut() else {
            merged = Some(one);
            continue;
        };
        let mut theirs = one.shared.clone();
        theirs.sources = m.shared.sources.clone();
        if theirs != m.shared || one.columns.len() != m.columns.len() {
            return Err(Error::InvalidPartial(format!(
                "partial state {i} has other columns or options than the first \
                 (every partition must be profiled with the same schema and options)"
            )));
        }
        for s in one.shared.sources {
            if !m.shared.sources.contains(&s) {
                m.shared.sources.push(s);
            }
        }
        m.rows += one.rows;
        for (a, b) in m.columns.iter_mut().zip(one.columns) {
            a.merge(&b);
        }
    }
    let merged =
        merged.ok_or_else(|| Error::InvalidPartial("no partial states to merge".into()))?;
    encode(Kind::PassOne, &merged)
}

/// The plan of pass two, made from the merged pass-one state.
pub fn plan(merged: &[u8]) -> Result<Vec<u8>> {
    Ok(Decoded::new(merged)?.plan()?.1)
}

/// Whether the plan needs a pass two (some numeric column has quantiles or
/// histogram bins that its sketch does not resolve).
pub fn needs_pass_two(plan: &[u8]) -> Result<bool> {
    let (_, p): (_, Plan) = decode(&[Kind::Plan], plan)?;
    Ok(p.leaves.iter().any(Pass2Plan::needs_pass))
}

/// Pass two over one partition's batches, the same as in pass one, on
/// `backend`: its partial state.
pub fn pass_two(plan: &[u8], batches: &[RecordBatch], backend: &Arc<Backend>) -> Result<Vec<u8>> {
    let (_, p): (_, Plan) = decode(&[Kind::Plan], plan)?;
    let (layout, _) = p.shared.layout()?;
    let schema = schema_of(&p.shared.schema)?;
    let plans2 = &p.leaves;
    if plans2.len() != layout.leaves.len() || plans2.iter().any(|q| q.check_shape().is_err()) {
        return Err(Error::InvalidPartial(
            "a plan that does not fit its schema".into(),
        ));
    }
    let source = p.shared.sources.join(", ");
    let needed: Vec<usize> = (0..plans2.len())
        .filter(|&l| plans2[l].needs_pass())
        .collect();
    // Each leaf's state with the buffers its batches reuse.
    let new = || -> (u64, Vec<(Pass2State, Scratch)>) {
        let states = plans2.iter().map(|q| (q.new_state(), Scratch::default()));
        (0, states.collect())
    };
    let (rows, leaves) = fold_batches(
        batches,
        new,
        |(rows, states), batch| {
            check_batch(&schema, batch, &source)?;
            *rows += batch.num_rows() as u64;
            let mut mine: Vec<(usize, &mut (Pass2State, Scratch))> = states
                .iter_mut()
                .enumerate()
                .filter(|(l, _)| needed.contains(l))
                .collect();
            mine.par_iter_mut()
                .try_for_each(|(leaf, (st, scratch))| -> Result<()> {
                    let values = values_of(batch.column(layout.leaves[*leaf]), None)?;
                    backend.collect(&plans2[*leaf], st, values.as_ref(), scratch)
                })
        },
        |(rows, acc), (n, states)| {
            *rows += n;
            for ((a, _), (s, _)) in acc.iter_mut().zip(states) {
                a.merge(s);
            }
        },
    )?;
    let leaves: Vec<Pass2State> = leaves.into_iter().map(|(s, _)| s).collect();
    encode(
        Kind::PassTwo,
        &PassTwo {
            plan: digest(plan),
            rows,
            leaves,
        },
    )
}

/// The profile from the merged pass-one state and the pass-two states of
/// every partition under its [`plan`] (none where [`needs_pass_two`] says
/// so), computed as on `backend`.
pub fn finish<B: AsRef<[u8]>>(
    merged: &[u8],
    parts: &[B],
    backend: &Arc<Backend>,
) -> Result<DatasetProfile> {
    let d = Decoded::new(merged)?;
    let one = &d.one;
    let (plans2, plan) = d.plan()?;
    let plan_digest = digest(&plan);
    let mut states2: Vec<Pass2State> = plans2.iter().map(Pass2Plan::new_state).collect();
    let mut rows = 0;
    for p in parts {
        let (_, two): (_, PassTwo) = decode(&[Kind::PassTwo], p.as_ref())?;
        if two.plan != plan_digest || two.leaves.len() != states2.len() {
            return Err(Error::InvalidPartial(
                "a pass-two state of another plan than this merged state's".into(),
            ));
        }
        rows += two.rows;
        for (a, b) in states2.iter_mut().zip(two.leaves) {
            a.merge(b);
        }
    }
    let needs = plans2.iter().any(Pass2Plan::needs_pass);
    if needs && rows != one.rows {
        return Err(Error::DataChanged {
            path: one.shared.sources.join(", ").into(),
            detail: format!(
                "pass one read {} rows, pass two {rows} (every partition must be read \
                 again, unchanged)",
                one.rows
            ),
        });
    }
    finish_pass2(
        &one.shared.sources.join(", "),
        &d.layout.leaf_names(),
        &plans2.iter().collect::<Vec<_>>(),
        &mut states2,
    )?;
    d.finish(Some((&plans2, &states2)), backend)
}

/// The profile from the merged pass-one state alone: quantiles and
/// histograms estimated from the sketch (`quantiles_exact: false`).
pub fn finish_one_pass(merged: &[u8], backend: &Arc<Backend>) -> Result<DatasetProfile> {
    Decoded::new(merged)?.finish(None, backend)
}
