//! The `skewer` command line: argument parsing, printing and exit codes.
//! Everything else lives in the library.
//!
//! Exit codes: 0 success (and no anomalies), 1 anomalies found, 2 error,
//! 130 interrupted.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use rayon::prelude::*;

use skewer::backend::{self, gpu, Backend, Choice};
use skewer::compare::Refine;
use skewer::engine::{self, ProfileOptions};
use skewer::profile::{self, StatsOptions};
use skewer::source::{self, CsvOptions, Dataset, Format, SourceOptions};

/// mimalloc reuses the per-batch buffers that glibc would hand back to the
/// kernel and fault in again (measured: ~10% of the profile's time); the
/// wrapper turns running out of memory into an error naming the input.
#[global_allocator]
static GLOBAL: skewer::watchdog::Allocator = skewer::watchdog::Allocator(mimalloc::MiMalloc);

/// `print!` that returns an error instead of panicking when stdout fails,
/// and carries on quietly when it is a closed pipe (`skewer … | head`).
macro_rules! out {
    ($($t:tt)*) => { emit(format_args!($($t)*))? };
}
macro_rules! outln {
    ($($t:tt)*) => { emit(format_args!("{}\n", format_args!($($t)*)))? };
}

fn emit(args: std::fmt::Arguments) -> anyhow::Result<()> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o.write_fmt(args).and_then(|()| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to standard output"))
        }
        _ => Ok(()),
    }
}

#[derive(Parser)]
#[command(
    name = "skewer",
    version,
    about = "Profile columnar ML data: exact statistics, schema, drift and skew"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Worker threads (default: one per core). Fewer threads hold fewer
    /// batches in memory at once.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Stop with an error when reading a file makes no progress for this
    /// many seconds (a decoder looping on corrupt data); 0: wait forever.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 120)]
    stall_timeout: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Profile one dataset (one or more files with one schema).
    Profile(Box<ProfileArgs>),
    /// List the GPU adapters wgpu can see, with the features skewer needs.
    Devices {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Profile the same data on every available backend and compare them.
    Bench(Box<BenchArgs>),
    /// Compare two datasets (drift: today vs yesterday; skew: serving vs
    /// training). Exit 1 when a feature drifted.
    Compare(Box<CompareArgs>),
    /// Drift over time: each window's profile (`skewer profile --window`)
    /// against a reference and against the window before; a verdict per
    /// feature (none, slow, fast). Exit 1 when a feature drifted.
    Timeline(Box<TimelineArgs>),
    /// Schemas: `skewer schema infer PROFILE -o schema.json`.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Check data (or its profile) against a schema, and against the
    /// previous span (drift) or the training data (skew). Exit 1 when
    /// anomalies are found.
    Validate(Box<ValidateArgs>),
    /// Feature skew: join two datasets on a key and count, per feature, the
    /// examples whose values differ. Exit 1 when a feature's share of
    /// differing examples is above --threshold.
    Skew(Box<SkewArgs>),
    /// One self-contained HTML page of a profile: charts of every feature,
    /// its drift against --base and its anomalies against --schema.
    Report(Box<ReportArgs>),
    /// Print the summary of a saved profile (`skewer profile -o`).
    Show {
        /// A profile JSON.
        profile: PathBuf,
    },
    /// Write a profile in another tool's format: `skewer export PROFILE.json
    /// --to tfdv -o stats.pb` (docs/tfdv.md).
    Export(Box<ExportArgs>),
    /// Merge profiles of shards into the profile of their union.
    Merge {
        /// Profile JSON files written by `skewer profile -o`.
        #[arg(required = true)]
        profiles: Vec<PathBuf>,
        /// Where to write the merged profile (stdout when absent).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Args)]
struct ProfileArgs {
    /// Input files (Parquet, CSV, Arrow IPC file or stream), folders (read
    /// recursively; `key=value` folders become columns) or quoted globs;
    /// "-" reads stdin.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the full profile as JSON here instead of printing a summary.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Profile only these columns (comma separated).
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    #[command(flatten)]
    slices: SliceArgs,
    #[command(flatten)]
    label: LabelArgs,
    /// One profile per window of a timestamp or date column, COL=WIDTH
    /// (such as ts=1h, ts=1d, ts=7d; in UTC, weeks from Monday), each
    /// written into the folder that -o names (for `skewer timeline`).
    #[arg(long, value_name = "COL=WIDTH", conflicts_with_all = ["slice_by", "html"])]
    window: Option<String>,
    #[command(flatten)]
    html: HtmlArgs,
    #[command(flatten)]
    data: DataArgs,
}

/// `--slice-by`: profile, compare and validate each slice of the rows too.
#[derive(Args)]
struct SliceArgs {
    /// Also profile each slice of the rows: each value (or combination of
    /// values) of these columns (comma separated), in the same passes. The
    /// JSON gets "slices" (docs/slices-and-windows.md).
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    slice_by: Option<Vec<String>>,
    /// Slices profiled apart: the largest by rows; the rest are folded
    /// into one "__other__" slice.
    #[arg(long, default_value_t = engine::DEFAULT_MAX_SLICES, requires = "slice_by")]
    max_slices: usize,
}

/// `--label`: each feature's label-conditional table; in compare, label
/// and concept shift.
#[derive(Args)]
struct LabelArgs {
    /// The label column, of classes (integers, strings or booleans: each
    /// feature gets the count of each class in each of its bins) or of
    /// numbers (floats or decimals: the label's count and mean in each
    /// bin); compare reports label shift and each feature's concept shift
    /// (docs/label.md).
    #[arg(long, value_name = "COL", conflicts_with = "slice_by")]
    label: Option<String>,
    /// Classes of the label counted apart: the largest by rows (with
    /// --window, over all the windows, the same in each); the rest are
    /// folded into one "__other__" class. Not for a label of numbers.
    #[arg(long, default_value_t = engine::DEFAULT_MAX_SLICES, requires = "label")]
    max_classes: usize,
}

impl LabelArgs {
    /// Profile the label's classes (as slices by it).
    fn apply(&self, opts: &mut ProfileOptions) {
        if let Some(l) = &self.label {
            opts.label = Some(l.clone());
            opts.slices = Some(engine::Slicing::of_label(l, self.max_classes));
        }
    }

    /// `columns` with the label added (it must be read).
    fn with_column(&self, columns: Option<Vec<String>>) -> Option<Vec<String>> {
        let mut columns = columns;
        if let (Some(cols), Some(l)) = (columns.as_mut(), &self.label) {
            if !cols.contains(l) {
                cols.push(l.clone());
            }
        }
        columns
    }

    /// With --label, a stored profile must be labelled by it.
    fn check(&self, path: &std::path::Path, p: &profile::DatasetProfile) -> anyhow::Result<()> {
        match &self.label {
            Some(l) if p.label.as_ref() != Some(l) => bail!(
                "{}: the profile is not labelled by {l} (make it with `skewer profile --label {l}`)",
                path.display()
            ),
            _ => Ok(()),
        }
    }
}

impl SliceArgs {
    fn slicing(&self) -> Option<engine::Slicing> {
        self.slice_by.as_ref().map(|columns| engine::Slicing {
            columns: columns.clone(),
            max: self.max_slices,
            only: None,
        })
    }

    /// `columns` with the slice columns added (they must be read).
    fn with_columns(&self, columns: &Option<Vec<String>>) -> Option<Vec<String>> {
        let mut columns = columns.clone();
        if let (Some(cols), Some(by)) = (columns.as_mut(), &self.slice_by) {
            for c in by {
                if !cols.contains(c) {
                    cols.push(c.clone());
                }
            }
        }
        columns
    }

    /// With `--slice-by`, data profiled after `p` gets `p`'s slices (the
    /// rest folded into "__other__"), so that the two are compared slice
    /// by slice. Not the label's classes: each side keeps its own largest
    /// (a class only one side has is a label shift, not "__other__"), and
    /// the comparison folds those that one side folded.
    fn same_as(&self, opts: &mut ProfileOptions, p: &profile::DatasetProfile) {
        if self.slice_by.is_none() {
            return;
        }
        if let Some(s) = opts.slices.as_mut() {
            let values = |sl: &profile::SliceProfile| {
                s.columns
                    .iter()
                    .map(|c| sl.slice.get(c).cloned().flatten())
                    .collect()
            };
            s.only = Some(p.slices.iter().filter(|sl| !sl.other).map(values).collect());
        }
    }

    /// With --slice-by, a stored profile must have those slices.
    fn check(&self, path: &std::path::Path, p: &profile::DatasetProfile) -> anyhow::Result<()> {
        let Some(by) = &self.slice_by else {
            return Ok(());
        };
        let mut want = by.clone();
        want.sort();
        let have: Option<Vec<String>> = p.slices.first().map(|s| s.slice.keys().cloned().collect());
        if have.as_ref() != Some(&want) {
            bail!(
                "{}: the profile has no slices by {} (make it with `skewer profile --slice-by {}`)",
                path.display(),
                by.join(","),
                by.join(",")
            );
        }
        Ok(())
    }
}

impl ProfileArgs {
    /// `--window COL=WIDTH`.
    /// `--window`, with the label's classes in each window (`--label`).
    fn window(&self, opts: &ProfileOptions) -> anyhow::Result<Option<engine::groups::GroupBy>> {
        Ok(match &self.window {
            Some(w) => Some(engine::groups::GroupBy::windows(w, opts.window_classes())?),
            None => None,
        })
    }
}

#[derive(Args)]
struct ReportArgs {
    /// The data to show: data (a file, a folder or a quoted glob) or a profile JSON.
    current: PathBuf,
    /// The reference to compare with (yesterday, training): a data file or a
    /// profile JSON. Its charts are drawn under the current's, and its drift
    /// metrics fill the table.
    #[arg(long)]
    base: Option<PathBuf>,
    /// A schema (`skewer schema infer`): its anomalies are listed, and its
    /// domains and bounds drawn on the charts. With --base, the base is the
    /// previous span of its drift comparators.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Where to write the HTML page.
    #[arg(short, long, required = true)]
    output: PathBuf,
    #[command(flatten)]
    drift: DriftArgs,
    #[command(flatten)]
    refine: RefineArgs,
    #[command(flatten)]
    data: DataArgs,
}

/// How data files are read, profiled and where: shared by every command
/// that profiles.
#[derive(Args)]
struct DataArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    stats: StatsArgs,
    #[command(flatten)]
    backend: BackendArgs,
    /// Do not draw a progress bar even on a terminal.
    #[arg(long)]
    quiet: bool,
}

/// When compare and validate read the data again.
#[derive(Args)]
struct RefineArgs {
    /// Read the data again where a metric's error bound leaves a decision
    /// open (auto), to make every KS exact (always), or never (such
    /// decisions are then reported as undecided).
    #[arg(long, value_enum, default_value_t = Refine::Auto)]
    refine: Refine,
}

impl RefineArgs {
    /// Compare two profiles, reading their data again where a decision
    /// needs it and both are data (not stored profiles).
    fn compare(
        &self,
        base: (&profile::DatasetProfile, Option<&Dataset>),
        current: (&profile::DatasetProfile, Option<&Dataset>),
        copts: &skewer::compare::CompareOptions,
        opts: &ProfileOptions,
        progress: &dyn engine::Progress,
    ) -> anyhow::Result<skewer::compare::Comparison> {
        let data = match (base.1, current.1) {
            (Some(base), Some(current)) => Some(skewer::compare::Data {
                base,
                current,
                options: self.options(opts, progress),
            }),
            _ => None,
        };
        Ok(skewer::compare::compare_data(
            base.0,
            current.0,
            copts,
            &opts.backend,
            data.as_ref(),
        )?)
    }

    fn options<'a>(
        &self,
        opts: &ProfileOptions,
        progress: &'a dyn engine::Progress,
    ) -> skewer::compare::RefineOptions<'a> {
        skewer::compare::RefineOptions {
            refine: self.refine,
            memory_budget: opts.memory_budget,
            progress,
        }
    }
}

/// How results are printed: a table (the default), JSON or Markdown.
#[derive(Args)]
struct OutputFormat {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Print Markdown instead of a table (for CI logs and pull requests).
    #[arg(long, conflicts_with = "json")]
    markdown: bool,
}

impl OutputFormat {
    /// Write the JSON to `output` (when given), and print the table, the
    /// JSON or the Markdown unless an output took standard output
    /// (`print` false).
    fn emit(
        &self,
        output: Option<&std::path::Path>,
        print: bool,
        json: &dyn Fn() -> skewer::Result<String>,
        markdown: &dyn Fn() -> String,
        table: &dyn Fn() -> String,
    ) -> anyhow::Result<()> {
        if let Some(path) = output {
            skewer::files::write_atomic(path, json()?.as_bytes())?;
        }
        if !print {
            // An output file is `-`: it went to standard output instead.
        } else if self.json {
            out!("{}", json()?);
        } else if self.markdown {
            out!("{}", markdown());
        } else {
            out!("{}", table());
        }
        Ok(())
    }
}

impl DataArgs {
    /// The profile options, with the backend opened.
    fn profile_options(&self) -> anyhow::Result<ProfileOptions> {
        let mut opts = self.stats.to_options()?;
        opts.backend = Arc::new(self.backend.open()?);
        Ok(opts)
    }

    /// For data that is compared, validated or given a schema: one pass,
    /// since only counts, moments and sketches are used.
    fn one_pass_options(&self) -> anyhow::Result<ProfileOptions> {
        let mut opts = self.profile_options()?;
        opts.single_pass = true;
        Ok(opts)
    }

    /// [`DataArgs::load`] of an optional path.
    #[allow(clippy::type_complexity)]
    fn load_opt(
        &self,
        path: &Option<PathBuf>,
        opts: &ProfileOptions,
    ) -> anyhow::Result<(Option<profile::DatasetProfile>, Option<Dataset>)> {
        Ok(match path {
            Some(p) => {
                let (p, ds) = self.load(p, &None, opts)?;
                (Some(p), ds)
            }
            None => (None, None),
        })
    }

    /// A profile JSON as it is, or data profiled now with the dataset (to
    /// read again).
    fn load(
        &self,
        path: &std::path::Path,
        columns: &Option<Vec<String>>,
        opts: &ProfileOptions,
    ) -> anyhow::Result<(profile::DatasetProfile, Option<Dataset>)> {
        let src = self.input.to_options(columns.clone())?;
        let (p, ds) = skewer::profile_or_read(
            path,
            &src,
            opts,
            &skewer::report::progress::Bar::new(!self.quiet),
        )?;
        // A stored profile's warnings were printed when it was made.
        if !skewer::is_profile_path(path) {
            for w in &p.warnings {
                eprintln!("warning: {}: {w}", path.display());
            }
        }
        Ok((p, ds))
    }
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Infer a schema from a profile (or from data, profiled first).
    Infer(Box<InferArgs>),
    /// Write a schema as TFDV's: `skewer schema export schema.json --to tfdv
    /// -o schema.pbtxt`.
    Export(Box<SchemaExportArgs>),
    /// Read TFDV's schema (.pbtxt or .pb) as skewer's.
    Import(Box<SchemaImportArgs>),
}

#[derive(Args)]
struct InferArgs {
    /// A profile JSON or data (a file, a folder or a quoted glob).
    profile: PathBuf,
    /// Where to write the schema (stdout when absent).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Give string columns with at most this many distinct values a domain
    /// (0: no domains).
    #[arg(long, default_value_t = 100)]
    max_domain_size: usize,
    /// Add int and float bounds at the observed min and max.
    #[arg(long)]
    bounds: bool,
    /// Add dataset bounds on the number of rows (half to twice the
    /// profile's) and the matching drift and skew comparators.
    #[arg(long)]
    num_examples: bool,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct ValidateArgs {
    /// The data to check (a file, a folder or a quoted glob) or its profile JSON.
    #[arg(value_name = "DATA")]
    file: PathBuf,
    /// The schema (from `skewer schema infer`, maybe edited).
    #[arg(long)]
    schema: PathBuf,
    /// The previous span (data or profile): applies the drift comparators.
    #[arg(long)]
    previous: Option<PathBuf>,
    /// The training data (data or profile): applies the skew comparators.
    #[arg(long)]
    training: Option<PathBuf>,
    #[command(flatten)]
    format: OutputFormat,
    /// Also write the JSON anomalies to this file.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Also write the anomalies as TFDV's `Anomalies` here: text format for
    /// .pbtxt, binary otherwise (docs/tfdv.md).
    #[arg(long, value_name = "FILE")]
    anomalies_out: Option<PathBuf>,
    /// Bins of about equal mass for numeric JSD, L-infinity and PSI.
    #[arg(long, default_value_t = 10)]
    compare_bins: usize,
    /// Write the rows that break a per-row rule of the schema (domain,
    /// bounds, NaN/inf, presence, values per row) to this file: .parquet
    /// or .csv; `-` writes CSV to standard output instead of the table.
    #[arg(long, value_name = "OUT")]
    examples: Option<PathBuf>,
    /// Most example rows written per rule (feature and anomaly type); the
    /// counts in the JSON stay complete.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "examples")]
    max_examples: usize,
    #[command(flatten)]
    html: HtmlArgs,
    #[command(flatten)]
    refine: RefineArgs,
    #[command(flatten)]
    slices: SliceArgs,
    #[command(flatten)]
    data: DataArgs,
}

fn run_infer(a: InferArgs) -> anyhow::Result<()> {
    let opts = a.data.one_pass_options()?;
    let (p, _) = a.data.load(&a.profile, &None, &opts)?;
    let o = skewer::schema::InferOptions {
        max_domain_size: a.max_domain_size,
        bounds: a.bounds,
        num_examples: a.num_examples,
    };
    let schema = skewer::schema::infer(&p, &o);
    match &a.output {
        Some(path) => skewer::schema::write_schema(path, &schema)?,
        None => outln!(
            "{}",
            serde_json::to_string_pretty(&schema).context("serializing the schema")?
        ),
    }
    Ok(())
}

/// The formats `skewer export` and `skewer schema export` write.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// TFDV's protocol buffers (tensorflow-metadata).
    Tfdv,
}

/// Where and as what `skewer export` and `skewer schema export` write.
#[derive(Args)]
struct ExportTo {
    /// The format: tfdv (tensorflow-metadata's messages).
    #[arg(long, value_enum)]
    to: ExportFormat,
    /// Where to write it: text format for .pbtxt, binary otherwise; `-`
    /// writes text to standard output.
    #[arg(short, long)]
    output: PathBuf,
}

impl ExportTo {
    /// Write a converted message, after warning of what it could not hold.
    fn write<M: prost::Message + prost::Name>(
        &self,
        (message, notes): (M, Vec<skewer::tfdv::Unmapped>),
    ) -> anyhow::Result<()> {
        let ExportFormat::Tfdv = self.to;
        warn_unmapped(&notes);
        skewer::tfdv::write(&self.output, &message)?;
        Ok(())
    }
}

#[derive(Args)]
struct ExportArgs {
    /// A profile JSON (`skewer profile -o`).
    profile: PathBuf,
    #[command(flatten)]
    to: ExportTo,
}

#[derive(Args)]
struct SchemaExportArgs {
    /// A schema JSON (`skewer schema infer`).
    schema: PathBuf,
    #[command(flatten)]
    to: ExportTo,
}

#[derive(Args)]
struct SchemaImportArgs {
    /// TFDV's schema: text format (.pbtxt) or binary.
    schema: PathBuf,
    /// Where to write skewer's schema (stdout when absent).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The data (or its profile) the schema is for: features take its
    /// Arrow types where TFDV's type agrees (else TFDV's defaults: int64,
    /// float64, utf8).
    #[arg(long, value_name = "DATA")]
    like: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
}

/// What a conversion could not carry over, on stderr.
fn warn_unmapped(notes: &[skewer::tfdv::Unmapped]) {
    for line in skewer::tfdv::summarize(notes) {
        eprintln!("warning: {line}");
    }
}

fn run_export(a: ExportArgs) -> anyhow::Result<()> {
    let p = skewer::read_profile(&a.profile)?;
    a.to.write(skewer::tfdv::statistics::export(&p))
}

fn run_schema_export(a: SchemaExportArgs) -> anyhow::Result<()> {
    let schema = skewer::schema::read_schema(&a.schema)?;
    a.to.write(skewer::tfdv::schema::export(&schema))
}

fn run_schema_import(a: SchemaImportArgs) -> anyhow::Result<()> {
    let tfdv: skewer::tfdv::pb::Schema = skewer::tfdv::read(&a.schema)?;
    let like = match &a.like {
        Some(path) => Some(a.data.load(path, &None, &a.data.one_pass_options()?)?.0),
        None => None,
    };
    let (schema, notes) = skewer::tfdv::schema::import(&tfdv, like.as_ref());
    warn_unmapped(&notes);
    // What skewer's own reader checks (fractions, thresholds), naming the
    // TFDV file.
    let json = skewer::to_json(&schema)?;
    skewer::schema::parse_schema(&a.schema, &json)?;
    match &a.output {
        Some(path) => skewer::files::write_atomic(path, json.as_bytes())?,
        None => out!("{json}"),
    }
    Ok(())
}

/// `validate --anomalies-out`: the anomalies as TFDV's.
fn write_tfdv_anomalies(
    path: &std::path::Path,
    schema: &skewer::schema::Schema,
    anomalies: &[skewer::schema::Anomaly],
) -> anyhow::Result<()> {
    let (out, notes) = skewer::tfdv::anomalies::export(schema, anomalies);
    if !notes.is_empty() {
        eprintln!(
            "warning: {}: the baseline schema leaves out {} settings TFDV cannot hold (`skewer schema export --to tfdv` lists them)",
            path.display(),
            notes.len()
        );
    }
    skewer::tfdv::write(path, &out)?;
    Ok(())
}

fn run_validate(a: ValidateArgs) -> anyhow::Result<u8> {
    if a.compare_bins == 0 {
        bail!("--compare-bins must be at least 1");
    }
    if let Some(out) = &a.examples {
        // Before any work: a wrong name is known at once.
        skewer::schema::examples::ExamplesFormat::of_path(out)?;
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !skewer::files::is_stdout(out) && !dir.is_dir() {
            bail!(
                "{}: cannot write the examples: {} is not a folder",
                out.display(),
                dir.display()
            );
        }
        if skewer::is_profile_path(&a.file) {
            bail!(
                "{}: --examples needs the data itself, not a profile",
                a.file.display()
            );
        }
        // Writing over the data (or over -o) would lose it.
        let mut others = vec![a.file.as_path()];
        others.extend(a.output.as_deref());
        refuse_overwrite(out, "--examples", &others)?;
    }
    let mut inputs = vec![a.file.as_path(), a.schema.as_path()];
    inputs.extend(a.previous.as_deref());
    inputs.extend(a.training.as_deref());
    inputs.extend(a.output.as_deref());
    inputs.extend(a.examples.as_deref());
    inputs.extend(a.anomalies_out.as_deref());
    a.html.check(&inputs)?;
    let print = stdout_is_free(&[
        a.output.as_deref(),
        a.html.html.as_deref(),
        a.examples.as_deref(),
        a.anomalies_out.as_deref(),
    ])?;
    let schema = skewer::schema::read_schema(&a.schema)?;
    let mut opts = a.data.one_pass_options()?;
    opts.slices = a.slices.slicing();
    // The data is opened once (standard input spooled) and read again for
    // --examples and for refinement.
    let (data, dataset) = a.data.load(&a.file, &None, &opts)?;
    a.slices.check(&a.file, &data)?;
    a.slices.same_as(&mut opts, &data);
    let (previous, ds_previous) = a.data.load_opt(&a.previous, &opts)?;
    let (training, ds_training) = a.data.load_opt(&a.training, &opts)?;
    let bar = skewer::report::progress::Bar::new(!a.data.quiet);
    let checks = skewer::schema::Checks {
        previous: previous.as_ref(),
        training: training.as_ref(),
        backend: &opts.backend,
        bins: a.compare_bins,
        data: dataset.as_ref().map(|current| skewer::schema::CheckData {
            current,
            previous: ds_previous.as_ref(),
            training: ds_training.as_ref(),
            options: a.refine.options(&opts, &bar),
        }),
    };
    let anomalies = skewer::schema::validate(&schema, &data, &checks)?;
    // Slices are checked from their profiles (`checks.data` unused).
    let slices = skewer::schema::validate_slices(&schema, &data, &checks)?;
    // `--examples -`: written to a temporary CSV file first, and printed
    // once every other output is written (a failure prints nothing).
    let examples_spool = match &a.examples {
        Some(out) if skewer::files::is_stdout(out) => Some(
            skewer::files::TempFile::create_in_temp_dir("skewer-examples", "csv")
                .map_err(|source| skewer::Error::Io {
                    path: std::env::temp_dir(),
                    source,
                })?
                .0,
        ),
        _ => None,
    };
    let examples = match (&a.examples, &dataset) {
        (Some(out), Some(ds)) => {
            let o = skewer::schema::examples::ExamplesOptions {
                max_per_rule: a.max_examples,
            };
            let to = examples_spool.as_ref().map_or(out.as_path(), |t| t.path());
            let s = skewer::schema::examples::write_examples(ds, &schema, &data, to, &o, &bar)?;
            eprintln!(
                "examples: {} rows written to {} ({} per-row rules broken, {} times in all)",
                s.written,
                out.display(),
                s.rules.len(),
                s.rules.iter().map(|r| r.rows).sum::<u64>()
            );
            Some(s)
        }
        _ => None,
    };
    let json = || {
        let mut out = serde_json::json!({ "anomalies": anomalies });
        if let Some(e) = &examples {
            out["examples"] = serde_json::json!(e);
        }
        if !slices.is_empty() {
            out["slices"] = serde_json::json!(slices);
        }
        skewer::to_json(&out)
    };
    if let Some(path) = &a.output {
        skewer::files::write_atomic(path, json()?.as_bytes())?;
    }
    if let Some(path) = &a.anomalies_out {
        write_tfdv_anomalies(path, &schema, &anomalies)?;
    }
    let source = a.file.display().to_string();
    for s in slices.iter().filter(|s| !s.not_compared_with.is_empty()) {
        eprintln!(
            "note: {source}, slice {}: not compared with the {} data, which has no such \
             slice (it lacks the values, or folds them into __other__)",
            skewer::report::slice_name(&s.slice),
            s.not_compared_with.join(" or the ")
        );
    }
    if !print {
        // An output file is `-`: it went to standard output instead.
    } else if a.format.json {
        out!("{}", json()?);
    } else {
        let named = |slice: Option<&skewer::schema::SliceAnomalies>| match slice {
            Some(s) => format!("{source}, slice {}", skewer::report::slice_name(&s.slice)),
            None => source.clone(),
        };
        let lists = std::iter::once((None, &anomalies))
            .chain(slices.iter().map(|s| (Some(s), &s.anomalies)));
        for (slice, list) in lists {
            // A slice without anomalies is one line in the table's stead.
            if slice.is_some() && list.is_empty() {
                outln!("{}: no anomalies", named(slice));
            } else if a.format.markdown {
                out!(
                    "{}",
                    skewer::report::anomalies_markdown(&named(slice), list)
                );
            } else {
                let width = skewer::report::terminal_width();
                out!(
                    "{}",
                    skewer::report::anomalies_table(&named(slice), list, width)
                );
            }
        }
    }
    if a.html.html.is_some() {
        // The report's drift columns: compare's rule (default threshold and
        // alpha) against the previous span, else the training data.
        let (base, ds_base) = match (&previous, &training) {
            (Some(p), _) => (Some(p), ds_previous.as_ref()),
            (None, t) => (t.as_ref(), ds_training.as_ref()),
        };
        let copts = skewer::compare::CompareOptions {
            bins: a.compare_bins,
            ..Default::default()
        };
        let cmp = base
            .map(|b| {
                a.refine
                    .compare((b, ds_base), (&data, dataset.as_ref()), &copts, &opts, &bar)
            })
            .transpose()?;
        a.html.write(&skewer::report::html::Report {
            current: &data,
            base,
            comparison: cmp.as_ref(),
            schema: Some(&schema),
            anomalies: Some(&anomalies),
        })?;
    }
    if let Some(spool) = &examples_spool {
        skewer::files::print_file(spool.path())?;
    }
    let any = !anomalies.is_empty() || slices.iter().any(|s| !s.anomalies.is_empty());
    Ok(u8::from(any))
}

#[derive(Args)]
struct CompareArgs {
    /// The reference: a profile JSON (from `skewer profile -o`) or data (a
    /// file, a folder or a quoted glob).
    base: PathBuf,
    /// The data to check against it: a profile JSON or data (a file, a
    /// folder or a quoted glob).
    current: PathBuf,
    #[command(flatten)]
    format: OutputFormat,
    /// Also write the JSON comparison to this file.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    drift: DriftArgs,
    #[command(flatten)]
    refine: RefineArgs,
    /// Compare only these columns (comma separated).
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    #[command(flatten)]
    html: HtmlArgs,
    #[command(flatten)]
    slices: SliceArgs,
    #[command(flatten)]
    label: LabelArgs,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct TimelineArgs {
    /// Window profiles (`skewer profile --window COL=1d -o DIR`), or
    /// folders of them; taken in the order of their windows.
    #[arg(required = true)]
    profiles: Vec<PathBuf>,
    /// Compare each window with this profile (the training data's) instead
    /// of the first window.
    #[arg(long)]
    reference: Option<PathBuf>,
    #[command(flatten)]
    format: OutputFormat,
    /// Also write the JSON timeline to this file.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Also write the timeline as an HTML page (a chart per feature) to
    /// this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    #[command(flatten)]
    drift: DriftArgs,
}

fn run_timeline(a: TimelineArgs) -> anyhow::Result<u8> {
    let copts = a.drift.to_options();
    copts
        .validate()
        .map_err(|e| anyhow::anyhow!("{e} (--threshold, --alpha, --compare-bins)"))?;
    let mut paths = Vec::new();
    for p in &a.profiles {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("{}: cannot list", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| skewer::is_profile_path(f))
                .collect();
            inside.sort();
            paths.extend(inside);
        } else {
            paths.push(p.clone());
        }
    }
    let mut windows = Vec::with_capacity(paths.len());
    for p in &paths {
        windows.push((p.display().to_string(), skewer::read_profile(p)?));
    }
    let windows = skewer::compare::timeline::in_order(windows)?;
    let reference = match &a.reference {
        Some(p) => Some((p.display().to_string(), skewer::read_profile(p)?)),
        None => None,
    };
    let refs: Vec<(String, &profile::DatasetProfile)> =
        windows.iter().map(|(n, p)| (n.clone(), p)).collect();
    let reference_named = reference.as_ref().map(|(n, p)| (n.as_str(), p));
    let t = skewer::compare::timeline::timeline(&refs, reference_named, &copts, &Backend::cpu())?;
    // What the timeline leaves out: the reference's missing columns,
    // concepts where labels differ.
    for n in skewer::compare::timeline::notes(&refs, reference_named) {
        eprintln!("note: {n}");
    }
    let print = stdout_is_free(&[a.output.as_deref(), a.html.as_deref()])?;
    let mut inputs: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
    inputs.extend(a.profiles.iter().map(PathBuf::as_path));
    inputs.extend(a.reference.as_deref());
    if let Some(out) = &a.output {
        refuse_overwrite(out, "-o", &inputs)?;
        inputs.push(out);
    }
    if let Some(out) = &a.html {
        refuse_overwrite(out, "--html", &inputs)?;
    }
    a.format.emit(
        a.output.as_deref(),
        print,
        &|| skewer::to_json(&t),
        &|| skewer::report::timeline_markdown(&t),
        &|| skewer::report::timeline_table(&t),
    )?;
    if let Some(path) = &a.html {
        let page = skewer::report::html::timeline::render(&t);
        skewer::files::write_atomic(path, page.as_bytes())?;
        if !skewer::files::is_stdout(path) {
            eprintln!("report: {}", path.display());
        }
    }
    Ok(if t.drifted() {
        1
    } else if t.undecided() {
        3
    } else {
        0
    })
}

#[derive(Args)]
struct DriftArgs {
    /// Least KS statistic or L-infinity distance that counts as drift.
    #[arg(long, default_value_t = 0.03)]
    threshold: f64,
    /// Significance level of the test that keeps sampling noise from being
    /// flagged.
    #[arg(long, default_value_t = 1e-4)]
    alpha: f64,
    /// Bins of about equal mass over which numeric JSD, L-infinity and PSI
    /// are computed.
    #[arg(long, default_value_t = 10)]
    compare_bins: usize,
}

impl DriftArgs {
    fn to_options(&self) -> skewer::compare::CompareOptions {
        skewer::compare::CompareOptions {
            threshold: self.threshold,
            alpha: self.alpha,
            bins: self.compare_bins,
        }
    }
}

fn run_compare(a: CompareArgs) -> anyhow::Result<u8> {
    let copts = a.drift.to_options();
    copts
        .validate()
        .map_err(|e| anyhow::anyhow!("{e} (--threshold, --alpha, --compare-bins)"))?;
    let mut others = vec![a.base.as_path(), a.current.as_path()];
    others.extend(a.output.as_deref());
    a.html.check(&others)?;
    let print = stdout_is_free(&[a.output.as_deref(), a.html.html.as_deref()])?;
    let mut opts = a.data.one_pass_options()?;
    opts.slices = a.slices.slicing();
    a.label.apply(&mut opts);
    let columns = a.label.with_column(a.slices.with_columns(&a.columns));
    let (base, ds_base) = a.data.load(&a.base, &columns, &opts)?;
    a.slices.check(&a.base, &base)?;
    a.label.check(&a.base, &base)?;
    a.slices.same_as(&mut opts, &base);
    let (cur, ds_cur) = a.data.load(&a.current, &columns, &opts)?;
    a.slices.check(&a.current, &cur)?;
    a.label.check(&a.current, &cur)?;
    let bar = skewer::report::progress::Bar::new(!a.data.quiet);
    let cmp = a.refine.compare(
        (&base, ds_base.as_ref()),
        (&cur, ds_cur.as_ref()),
        &copts,
        &opts,
        &bar,
    )?;
    let name = |p: &std::path::Path| p.display().to_string();
    if let Some(n) =
        skewer::compare::concept::label_note(&name(&a.base), &base, &name(&a.current), &cur)
    {
        eprintln!("note: {n}");
    }
    a.format.emit(
        a.output.as_deref(),
        print,
        &|| skewer::to_json(&cmp),
        &|| skewer::report::comparison_markdown(&cmp),
        &|| skewer::report::comparison_table(&cmp, skewer::report::terminal_width()),
    )?;
    a.html.write(&skewer::report::html::Report {
        current: &cur,
        base: Some(&base),
        comparison: Some(&cmp),
        schema: None,
        anomalies: None,
    })?;
    Ok(if cmp.drifted() {
        1
    } else if cmp.undecided() {
        3
    } else {
        0
    })
}

#[derive(Args)]
struct SkewArgs {
    /// The reference data (training): a file, a folder or a quoted glob.
    base: PathBuf,
    /// The data to check (serving), TFDV's "test": a file, a folder or a
    /// quoted glob.
    current: PathBuf,
    /// The key columns that identify an example (comma separated).
    #[arg(long, value_delimiter = ',', required = true)]
    key: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to this file.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Largest share of joined examples whose values may differ before a
    /// feature counts as skewed (0: any difference).
    #[arg(long, default_value_t = 0.0)]
    threshold: f64,
    /// Floats this close are equal: X (absolute), abs=X, rel=Y or
    /// abs=X,rel=Y (default: equal bits; NaN equals NaN).
    #[arg(long, value_name = "TOL")]
    tolerance: Option<String>,
    /// Differing pairs shown per feature (those with the smallest keys).
    #[arg(long, default_value_t = 10)]
    max_samples: usize,
    /// Memory for the rows waiting for the join (e.g. 512MiB, 2GiB); beyond
    /// it they are partitioned by key into temporary files.
    #[arg(long, default_value = "1GiB", value_parser = parse_bytes)]
    memory_budget: u64,
    #[command(flatten)]
    input: InputArgs,
    /// Do not draw a progress bar even on a terminal.
    #[arg(long)]
    quiet: bool,
}

fn run_skew(a: SkewArgs) -> anyhow::Result<u8> {
    let tolerance = a
        .tolerance
        .as_deref()
        .map(skewer::skew::Tolerance::parse)
        .transpose()?;
    let opts = skewer::skew::SkewOptions {
        key: a.key.clone(),
        threshold: a.threshold,
        tolerance,
        max_samples: a.max_samples,
        memory_budget: a.memory_budget,
    };
    if let Some(out) = &a.output {
        refuse_overwrite(out, "-o", &[&a.base, &a.current])?;
    }
    let print = stdout_is_free(&[a.output.as_deref()])?;
    let src = a.input.to_options(None)?;
    let bar = skewer::report::progress::Bar::new(!a.quiet);
    let r = skewer::skew::skew(&a.base, &a.current, &src, &opts, &bar)?;
    if let Some(path) = &a.output {
        skewer::skew::write_report(path, &r)?;
    }
    if !print {
        // An output file is `-`: it went to standard output instead.
    } else if a.json {
        out!("{}", skewer::to_json(&r)?);
    } else {
        out!(
            "{}",
            skewer::report::skew_table(&r, skewer::report::terminal_width())
        );
    }
    if r.joined == 0 {
        eprintln!("warning: no key is found once on both sides; nothing was compared");
    }
    Ok(u8::from(r.has_skew()))
}

#[derive(Args)]
struct BenchArgs {
    /// The data to profile (any input format).
    file: Option<PathBuf>,
    /// Instead of a file, generate this many rows of seeded synthetic data
    /// (5 columns) into a temporary Parquet file.
    #[arg(long, conflicts_with = "file")]
    synthetic: Option<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Use the adapter whose name contains this (see `skewer devices`).
    #[arg(long)]
    adapter: Option<String>,
    /// Values per GPU dispatch.
    #[arg(long, hide = true)]
    gpu_chunk: Option<usize>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    stats: StatsArgs,
}

#[derive(Args)]
struct BackendArgs {
    /// Where statistics are computed.
    #[arg(long, value_enum, default_value_t = Choice::Auto)]
    backend: Choice,
    /// Use the adapter whose name contains this (see `skewer devices`).
    #[arg(long)]
    adapter: Option<String>,
    /// Values per GPU dispatch (default: 4Mi, capped by the adapter's limits).
    #[arg(long, hide = true)]
    gpu_chunk: Option<usize>,
}

impl BackendArgs {
    fn open(&self) -> anyhow::Result<Backend> {
        let opened = backend::open(&backend::Request {
            choice: self.backend,
            adapter: self.adapter.clone(),
            gpu: gpu::GpuOptions {
                chunk: self.gpu_chunk,
                ..Default::default()
            },
        })?;
        for n in &opened.notes {
            eprintln!("note: {n}");
        }
        Ok(opened.backend)
    }
}

#[derive(Args)]
struct InputArgs {
    /// Input format, overriding the file extension: parquet, csv, arrow, arrow-stream.
    #[arg(long, value_parser = Format::parse)]
    format: Option<Format>,
    /// CSV field delimiter (one byte; "\t" for tab).
    #[arg(long, default_value = ",", value_parser = one_byte)]
    delimiter: u8,
    /// CSV quote character.
    #[arg(long, default_value = "\"", value_parser = one_byte)]
    quote: u8,
    /// CSV escape character (none by default: quotes are doubled).
    #[arg(long, value_parser = one_byte)]
    escape: Option<u8>,
    /// The CSV files have no header row (columns are named column_1, ...).
    #[arg(long)]
    no_header: bool,
    /// CSV records read to infer column types.
    #[arg(long, default_value_t = 100_000)]
    infer_rows: usize,
    /// State a CSV column's type instead of inferring it: COL=TYPE (repeatable),
    /// e.g. --type zip=utf8 --type ts=timestamp[ms].
    #[arg(long = "type", value_name = "COL=TYPE")]
    types: Vec<String>,
    /// CSV fields read as null besides the empty field (comma separated),
    /// e.g. --null-values NA,NULL,N/A: a numeric column with them stays
    /// numeric.
    #[arg(long, value_delimiter = ',', value_name = "VALUES")]
    null_values: Vec<String>,
    /// Rows per record batch.
    #[arg(long, default_value_t = 65536)]
    batch_size: usize,
}

#[derive(Args)]
struct StatsArgs {
    /// Bins of the equal-width histogram.
    #[arg(long, default_value_t = 10)]
    bins: usize,
    /// Buckets of the quantile (equal-count) histogram.
    #[arg(long, default_value_t = 10)]
    quantile_bins: usize,
    /// Most frequent values reported per categorical column.
    #[arg(long, default_value_t = 20)]
    top_k: usize,
    /// Quantile ranks (comma separated, each in [0, 1]).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.01,0.05,0.25,0.5,0.75,0.95,0.99"
    )]
    quantiles: Vec<f64>,
    /// Distinct values counted exactly per column; beyond, an estimate.
    #[arg(long, default_value_t = 1_000_000)]
    unique_cap: usize,
    /// Integer columns to profile as categorical (value counts, top-k,
    /// distinct values) instead of numeric (comma separated).
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
    /// Index bits of the sketch stored in the profile (2^bits buckets at most).
    #[arg(long, default_value_t = 12)]
    sketch_bits: u32,
    /// Memory for keeping numeric values between the two passes (e.g. 512MiB, 2GiB);
    /// columns beyond it are read again.
    #[arg(long, default_value = "1GiB", value_parser = parse_bytes)]
    memory_budget: u64,
}

fn parse_bytes(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n.parse().with_context(|| format!("invalid size {s:?}"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => bail!("invalid size unit {other:?} (use B, KiB, MiB, GiB, KB, MB, GB)"),
    };
    Ok((n * mult) as u64)
}

fn one_byte(s: &str) -> anyhow::Result<u8> {
    let s = match s {
        "\\t" | "tab" => "\t",
        other => other,
    };
    match s.as_bytes() {
        [b] => Ok(*b),
        _ => bail!("must be a single byte"),
    }
}

impl InputArgs {
    fn to_options(&self, columns: Option<Vec<String>>) -> anyhow::Result<SourceOptions> {
        let mut types = Vec::new();
        for t in &self.types {
            let (col, ty) = t
                .split_once('=')
                .with_context(|| format!("--type takes COL=TYPE, got {t:?}"))?;
            types.push((col.to_string(), source::parse_type(ty)?));
        }
        Ok(SourceOptions {
            format: self.format,
            csv: CsvOptions {
                delimiter: self.delimiter,
                quote: self.quote,
                escape: self.escape,
                has_header: !self.no_header,
                infer_rows: self.infer_rows,
                types,
                null_values: self.null_values.clone(),
            },
            columns,
            batch_size: self.batch_size,
        })
    }
}

impl StatsArgs {
    fn to_options(&self) -> anyhow::Result<ProfileOptions> {
        let o = ProfileOptions {
            stats: StatsOptions {
                bins: self.bins,
                quantile_bins: self.quantile_bins,
                top_k: self.top_k,
                quantile_ranks: self.quantiles.clone(),
                unique_cap: self.unique_cap,
                sketch_bits: self.sketch_bits,
            },
            memory_budget: self.memory_budget,
            backend: Backend::cpu(),
            timings: None,
            categorical: self.categorical.clone(),
            single_pass: false,
            slices: None,
            label: None,
        };
        o.validate()?;
        Ok(o)
    }
}

fn run_profile(a: ProfileArgs) -> anyhow::Result<()> {
    let mut opts = a.data.profile_options()?;
    opts.slices = a.slices.slicing();
    a.label.apply(&mut opts);
    let window = a.window(&opts)?;
    // The slice, label and window columns are read (and profiled) even
    // where --columns leaves them out.
    let mut columns = a.label.with_column(a.slices.with_columns(&a.columns));
    if let (Some(cols), Some(by)) = (columns.as_mut(), &window) {
        for c in by.columns() {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
    }
    let src = a.data.input.to_options(columns)?;

    let mut others: Vec<&std::path::Path> = a.files.iter().map(PathBuf::as_path).collect();
    others.extend(a.output.as_deref());
    a.html.check(&others)?;
    if let Some(by) = window {
        let dir = a
            .output
            .as_deref()
            .context("--window writes one profile per window: name their folder with -o")?;
        if skewer::files::is_stdout(dir) {
            bail!("--window writes one profile per window into a folder: -o cannot be -");
        }
        refuse_overwrite(dir, "-o", &others[..a.files.len()])?;
        // Before reading anything: a file where the folder should be.
        if dir.exists() && !dir.is_dir() {
            bail!(
                "{}: --window writes one profile per window into a folder, and this is a file",
                dir.display()
            );
        }
        let ds = Dataset::open(&a.files, &src)?;
        let bar = skewer::report::progress::Bar::new(!a.data.quiet);
        let column = by.columns().remove(0);
        let spec = a.window.as_deref().unwrap_or_default();
        let profiles = engine::profile_windows(&ds, &opts, spec, &bar)?;
        match profiles.first() {
            // Every window's profile has the same warnings.
            Some(p) => p.warnings.iter().for_each(|w| eprintln!("warning: {w}")),
            None => eprintln!("warning: no row has a {column} value: no windows to write"),
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
        // Serialized and written in parallel: each file is whole or absent.
        profiles
            .par_iter()
            .try_for_each(|p| -> anyhow::Result<()> {
                let w = p
                    .window
                    .as_ref()
                    .context("a window profile without its window")?;
                Ok(skewer::write_profile(&dir.join(window_file(w)), p)?)
            })?;
        eprintln!("{} window profiles in {}", profiles.len(), dir.display());
        return Ok(());
    }
    let print = stdout_is_free(&[a.output.as_deref(), a.html.html.as_deref()])?;
    let ds = Dataset::open(&a.files, &src)?;
    let bar = skewer::report::progress::Bar::new(!a.data.quiet);
    let p = engine::profile(&ds, &opts, &bar)?;
    for w in &p.warnings {
        eprintln!("warning: {w}");
    }
    match &a.output {
        Some(path) => skewer::write_profile(path, &p)?,
        None if print => print_summary(&p)?,
        None => {}
    }
    a.html.write(&skewer::report::html::Report::of(&p))
}

/// A window's profile file, named by its start so that names sort in
/// time: `2026-11-23.json` for windows of whole days, else
/// `2026-11-23T05.json`.
fn window_file(w: &profile::Window) -> String {
    let hour = w.start.trim_end_matches(":00:00Z");
    match w.width.ends_with('d') {
        true => format!("{}.json", hour.trim_end_matches("T00")),
        false => format!("{hour}.json"),
    }
}

fn run_show(path: PathBuf) -> anyhow::Result<()> {
    if !skewer::is_profile_path(&path) {
        bail!(
            "{}: show reads a profile JSON (from `skewer profile -o`); for data, run `skewer profile`",
            path.display()
        );
    }
    print_summary(&skewer::read_profile(&path)?)
}

/// A profile's summary table, and a line per slice.
fn print_summary(p: &profile::DatasetProfile) -> anyhow::Result<()> {
    out!(
        "{}",
        skewer::report::summary_table(p, skewer::report::terminal_width())
    );
    // A labelled profile's slices are its label's classes.
    let what = if p.label.is_some() { "class" } else { "slice" };
    for s in &p.slices {
        let name = skewer::report::slice_name(&s.slice);
        outln!("{what} {name}: {} rows", s.num_rows);
    }
    Ok(())
}

fn run_report(a: ReportArgs) -> anyhow::Result<()> {
    let copts = a.drift.to_options();
    copts
        .validate()
        .map_err(|e| anyhow::anyhow!("{e} (--threshold, --alpha, --compare-bins)"))?;
    let mut inputs = vec![a.current.as_path()];
    inputs.extend(a.base.as_deref());
    inputs.extend(a.schema.as_deref());
    refuse_overwrite(&a.output, "-o", &inputs)?;
    let schema = a
        .schema
        .as_deref()
        .map(skewer::schema::read_schema)
        .transpose()?;
    // Two passes: the charts are drawn from exact histograms.
    let opts = a.data.profile_options()?;
    let (cur, ds_cur) = a.data.load(&a.current, &None, &opts)?;
    let (base, ds_base) = a.data.load_opt(&a.base, &opts)?;
    let bar = skewer::report::progress::Bar::new(!a.data.quiet);
    let cmp = base
        .as_ref()
        .map(|b| {
            a.refine.compare(
                (b, ds_base.as_ref()),
                (&cur, ds_cur.as_ref()),
                &copts,
                &opts,
                &bar,
            )
        })
        .transpose()?;
    let anomalies = match &schema {
        Some(s) => Some(skewer::schema::validate(
            s,
            &cur,
            &skewer::schema::Checks {
                previous: base.as_ref(),
                training: None,
                backend: &opts.backend,
                bins: copts.bins,
                data: ds_cur.as_ref().map(|current| skewer::schema::CheckData {
                    current,
                    previous: ds_base.as_ref(),
                    training: None,
                    options: a.refine.options(&opts, &bar),
                }),
            },
        )?),
        None => None,
    };
    write_report(
        &a.output,
        &skewer::report::html::Report {
            current: &cur,
            base: base.as_ref(),
            comparison: cmp.as_ref(),
            schema: schema.as_ref(),
            anomalies: anomalies.as_deref(),
        },
    )
}

fn run_merge(profiles: Vec<PathBuf>, output: Option<PathBuf>) -> anyhow::Result<()> {
    let mut loaded = Vec::with_capacity(profiles.len());
    for p in profiles {
        let d = skewer::read_profile(&p)?;
        loaded.push((p, d));
    }
    let merged = profile::merge::merge_profiles(loaded)?;
    match output {
        Some(path) => skewer::write_profile(&path, &merged)?,
        None => outln!(
            "{}",
            serde_json::to_string_pretty(&merged).context("serializing the profile")?
        ),
    }
    Ok(())
}

/// Whether a command prints its table (or JSON) to standard output: not
/// when one of its outputs is `-` (that output goes there instead). Two
/// outputs cannot share it.
fn stdout_is_free(outputs: &[Option<&std::path::Path>]) -> anyhow::Result<bool> {
    let n = outputs
        .iter()
        .flatten()
        .filter(|p| skewer::files::is_stdout(p))
        .count();
    if n > 1 {
        bail!("-: only one output can be written to standard output");
    }
    Ok(n == 0)
}

/// Writing an output over an input (or another output) would lose it.
fn refuse_overwrite(
    out_path: &std::path::Path,
    flag: &str,
    others: &[&std::path::Path],
) -> anyhow::Result<()> {
    // A path that does not exist yet (another output) by its folder.
    let resolve = |p: &std::path::Path| {
        std::fs::canonicalize(p).ok().or_else(|| {
            let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
            let dir = std::fs::canonicalize(dir.unwrap_or(std::path::Path::new("."))).ok()?;
            Some(dir.join(p.file_name()?))
        })
    };
    if skewer::files::is_stdout(out_path) {
        return Ok(());
    }
    let out = resolve(out_path).unwrap_or_else(|| out_path.to_path_buf());
    if others.iter().any(|p| resolve(p).is_some_and(|p| p == out)) {
        bail!(
            "{}: {flag} would write over an input or another output; name another file",
            out_path.display()
        );
    }
    // Inside a folder that is read as data, the next run would read it.
    if let Some(dir) = others
        .iter()
        .find(|p| p.is_dir() && resolve(p).is_some_and(|d| out.starts_with(d)))
    {
        bail!(
            "{}: {flag} would write into {}, a folder read as data; name a file outside it",
            out_path.display(),
            dir.display()
        );
    }
    Ok(())
}

/// `--html FILE`: the report (`skewer report`) next to a command's usual
/// output.
#[derive(Args)]
struct HtmlArgs {
    /// Also write the HTML report (as `skewer report` does) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

impl HtmlArgs {
    /// Refuse a report path that is one of the command's inputs or other
    /// outputs, before any work.
    fn check(&self, others: &[&std::path::Path]) -> anyhow::Result<()> {
        match &self.html {
            Some(out) => refuse_overwrite(out, "--html", others),
            None => Ok(()),
        }
    }

    fn write(&self, r: &skewer::report::html::Report) -> anyhow::Result<()> {
        if let Some(path) = &self.html {
            write_report(path, r)?;
        }
        Ok(())
    }
}

fn write_report(path: &std::path::Path, r: &skewer::report::html::Report) -> anyhow::Result<()> {
    skewer::files::write_atomic(path, skewer::report::html::render(r).as_bytes())?;
    if !skewer::files::is_stdout(path) {
        eprintln!("report: {}", path.display());
    }
    Ok(())
}

/// mimalloc's `mi_option_purge_delay` (the same index in its v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn run_bench(a: BenchArgs) -> anyhow::Result<()> {
    let tmp;
    let file = match (&a.file, a.synthetic) {
        (Some(f), _) => f.clone(),
        (None, Some(rows)) => {
            tmp = skewer::files::TempFile::create_in_temp_dir("skewer-bench", "parquet")
                .context("creating the synthetic file")?
                .0;
            eprintln!("writing {rows} synthetic rows to {}", tmp.path().display());
            skewer::bench::write_synthetic(tmp.path(), rows)?;
            tmp.path().to_path_buf()
        }
        (None, None) => bail!("give a FILE or --synthetic ROWS"),
    };
    let opts = a.stats.to_options()?;
    let mut backends = vec![Backend::cpu()];
    // Every adapter counts here, a software one too (its row says so).
    let gpu = BackendArgs {
        backend: Choice::Gpu,
        adapter: a.adapter.clone(),
        gpu_chunk: a.gpu_chunk,
    };
    match gpu.open() {
        Ok(b) => backends.push(Arc::new(b)),
        Err(e) => eprintln!("note: {e}; benchmarking the CPU backend only"),
    }
    let rows = skewer::bench::run(&[file], &a.input.to_options(None)?, &opts, backends)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    out!("{}", skewer::bench::table(&rows));
    Ok(())
}

fn run_devices(json: bool) -> anyhow::Result<()> {
    let list = gpu::list_adapters();
    if json {
        outln!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    out!("{}", gpu::adapter::describe_all(&list));
    Ok(())
}

/// The flag that answers a library error, where one does (the library's
/// messages do not know the command line).
fn flag_hint(e: &anyhow::Error) -> &'static str {
    match e.downcast_ref::<skewer::Error>() {
        Some(skewer::Error::UnknownFormat { .. }) => " with --format",
        Some(skewer::Error::NotCategorical { .. }) => " (--categorical)",
        _ => "",
    }
}

/// The way out of running out of memory, in the command line's terms.
const MEMORY_HINT: &str = "lower --memory-budget or --threads, or give the job more memory";

fn main() -> ExitCode {
    // Keep freed pages instead of returning them to the kernel after 10 ms:
    // every batch frees and reallocates the same buffers, and re-faulting
    // them cost a third of the run on the 10M-row benchmark. Peak memory is
    // unchanged (it is a high-water mark either way).
    // SAFETY: sets a process-wide allocator option; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // Before any thread starts (it may set an environment variable).
    gpu::quiet_display_probe();
    skewer::watchdog::set_hints(skewer::watchdog::Hints {
        stall: " (--stall-timeout sets the limit)",
        memory: MEMORY_HINT,
    });
    // Panics (arrow and parquet panic on some corrupt files) become errors
    // that name the file; see skewer::error::catch_panic.
    skewer::error::quiet_panic_hook();
    // Ctrl-C or a job scheduler's SIGTERM: remove the temporary files (a
    // half-written output, the spool of stdin) before going. Outputs are
    // renamed into place only when complete, so none is left half-written.
    let _ = ctrlc::set_handler(|| {
        skewer::files::remove_all_temporary();
        eprintln!("skewer: interrupted");
        std::process::exit(130);
    });
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Some(n) = cli.threads {
        if n == 0 {
            eprintln!("error: --threads must be at least 1");
            return ExitCode::from(2);
        }
        // No pool exists yet: this fails only when its threads cannot
        // start (a memory or process limit).
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!(
                "error: {}",
                skewer::Error::NoThread(format!("{e}; {MEMORY_HINT}"))
            );
            return ExitCode::from(2);
        }
    }
    if cli.stall_timeout > 0 {
        skewer::watchdog::start(std::time::Duration::from_secs(cli.stall_timeout));
    }
    let result = skewer::error::catch_panic(|| match cli.command {
        Command::Profile(a) => run_profile(*a).map(|()| 0),
        Command::Merge { profiles, output } => run_merge(profiles, output).map(|()| 0),
        Command::Report(a) => run_report(*a).map(|()| 0),
        Command::Show { profile } => run_show(profile).map(|()| 0),
        Command::Devices { json } => run_devices(json).map(|()| 0),
        Command::Bench(a) => run_bench(*a).map(|()| 0),
        Command::Compare(a) => run_compare(*a),
        Command::Timeline(a) => run_timeline(*a),
        Command::Schema(SchemaCommand::Infer(a)) => run_infer(*a).map(|()| 0),
        Command::Schema(SchemaCommand::Export(a)) => run_schema_export(*a).map(|()| 0),
        Command::Schema(SchemaCommand::Import(a)) => run_schema_import(*a).map(|()| 0),
        Command::Export(a) => run_export(*a).map(|()| 0),
        Command::Validate(a) => run_validate(*a),
        Command::Skew(a) => run_skew(*a),
    })
    .unwrap_or_else(|m| {
        // A thread pool (rayon's) that got no thread: out of memory, as
        // for skewer's own workers (engine::schedule), not a bug. Rayon
        // says so when it starts its pool, or, where starting it failed
        // before, whenever the pool is used.
        let no_pool = m.starts_with("The global thread pool has not been initialized");
        Err(if m.starts_with("failed to spawn thread") || no_pool {
            skewer::Error::NoThread(format!("{m}; {MEMORY_HINT}"))
        } else {
            skewer::Error::Internal(format!("panic: {m}"))
        }
        .into())
    });
    match result {
        Ok(code) => ExitCode::from(code),
        // Interrupted while failing (a spill file removed under its
        // reader): the interrupt is what happened.
        Err(_) if skewer::files::is_stopping() => ExitCode::from(130),
        Err(e) => {
            eprintln!("error: {e}{}", flag_hint(&e));
            ExitCode::from(2)
        }
    }
}
