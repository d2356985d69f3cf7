//! Readers: files of one dataset as streams of Arrow `RecordBatch`es.
//!
//! A [`Dataset`] is opened once: formats are resolved from the file names
//! (or `--format`), schemas are read and checked to agree, and the requested
//! columns are projected so that readers decode nothing else. It is then cut
//! into [`Partition`]s (a Parquet row group, or a whole CSV / Arrow file) that
//! the engine reads in parallel, each as a bounded stream of batches: memory
//! never depends on the number of rows. Standard input ("-") is spooled to a
//! temporary file first, because exact quantiles may need a second pass.

mod blob;
mod csv;
mod expand;
mod footer;
pub mod remote;
pub mod types;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::basic::Encoding;
use parquet::file::metadata::ParquetMetaData;

use self::blob::Blob;
pub use self::csv::CsvOptions;
use self::remote::RemoteFile;
use crate::error::{Error, Result};

/// The file formats skewer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
    /// Arrow IPC file (random access, `.arrow`, `.feather`, `.ipc`).
    ArrowFile,
    /// Arrow IPC stream (`.arrows`).
    ArrowStream,
}

impl Format {
    /// The format named by a file's extension.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "parquet" | "pq" => Format::Parquet,
            "csv" | "tsv" | "txt" => Format::Csv,
            "arrow" | "feather" | "ipc" => Format::ArrowFile,
            "arrows" => Format::ArrowStream,
            _ => return None,
        })
    }

    /// Parse a `--format` value.
    pub fn parse(s: &str) -> Result<Format> {
        Ok(match s {
            "parquet" => Format::Parquet,
            "csv" => Format::Csv,
            "arrow" | "ipc" | "feather" => Format::ArrowFile,
            "arrow-stream" | "arrows" => Format::ArrowStream,
            other => {
                return Err(Error::InvalidOption(format!(
                    "unknown format {other:?}: use parquet, csv, arrow or arrow-stream"
                )))
            }
        })
    }
}

/// How to open the inputs.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Overrides the format inferred from file names.
    pub format: Option<Format>,
    pub csv: CsvOptions,
    /// Profile only these columns (all when None).
    pub columns: Option<Vec<String>>,
    /// Rows per record batch.
    pub batch_size: usize,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            format: None,
            csv: CsvOptions::default(),
            columns: None,
            batch_size: 64 * 1024,
        }
    }
}

/// One input file, opened.
#[derive(Debug)]
struct Input {
    /// The name the user gave (for messages and the profile's sources).
    name: PathBuf,
    /// Where the bytes are (a spool file for standard input).
    path: PathBuf,
    format: Format,
    size: u64,
    rows: Option<u64>,
    parquet: Option<ArrowReaderMetadata>,
    /// The file's full schema (for CSV: the schema to parse with).
    file_schema: SchemaRef,
    /// Indices of the profiled columns in `file_schema`.
    projection: Vec<usize>,
    /// For each profiled column, the wider type it is cast to where another
    /// file of the dataset has it wider.
    casts: Vec<Option<DataType>>,
    /// The values of the dataset's partition keys for this file.
    partition: Vec<Option<String>>,
    /// The temporary copy of standard input, removed on drop.
    _spool: Option<crate::files::TempFile>,
    /// The object, when the name is a URL (read instead of `path`).
    remote: Option<RemoteFile>,
    /// Record batches handed over in memory (the Python package's Arrow
    /// streams), in runs of [`ITEM_ROWS`]: one partition each.
    memory: Option<Vec<Vec<RecordBatch>>>,
}

impl Input {
    /// A new handle on the input's bytes (one per reading thread).
    fn open(&self) -> Result<Blob> {
        match &self.remote {
            Some(r) => Ok(Blob::Remote(r.reopen())),
            None => File::open(&self.path)
                .map(Blob::Local)
                .map_err(|e| Error::io(&self.name, e)),
        }
    }
}

/// A unit of parallel reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub file: usize,
    /// Parquet row group; None for the whole file.
    pub row_group: Option<usize>,
}

/// The files of one dataset, with one schema.
#[derive(Debug)]
pub struct Dataset {
    inputs: Vec<Input>,
    /// The files' profiled columns, then the partition keys' columns.
    schema: SchemaRef,
    /// The partition keys that are columns of the schema (indices into
    /// each input's `partition`).
    partition_keys: Vec<usize>,
    batch_size: usize,
    csv: CsvOptions,
}

impl Dataset {
    /// Open every file that `paths` name (files, folders and globs: see
    /// [`expand::expand`]), check that their schemas agree (widening
    /// integer and float columns where files differ in width) and resolve
    /// the projection.
    pub fn open(paths: &[PathBuf], opts: &SourceOptions) -> Result<Dataset> {
        if paths.is_empty() {
            return Err(Error::InvalidOption("no input files".into()));
        }
        if opts.batch_size == 0 {
            return Err(Error::InvalidOption("batch size must be at least 1".into()));
        }
        let entries = expand::expand(paths, opts.format)?;
        let mut inputs = Vec::with_capacity(entries.len());
        for e in &entries {
            let p = &e.name;
            // (Not for stdin, which may be slow to arrive without being stuck.)
            let _active = (p.as_os_str() != "-")
                .then(|| ActiveRead::start(format!("{} (its metadata)", p.display())));
            let mut input = crate::error::catch_panic(|| open_input(p, opts))
                .unwrap_or_else(|detail| Err(Error::corrupt_at(p, "", detail)))?;
            input.partition = e.partition.iter().map(|(_, v)| v.clone()).collect();
            inputs.push(input);
        }
        if inputs.iter().any(|i| i.format == Format::Csv) {
            csv::unify_schemas(&mut inputs_csv_view(&mut inputs))?;
        }
        // The partition folders' keys (the same for every file) are columns
        // after the files' own.
        let keys: Vec<&str> = entries[0]
            .partition
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        let is_key = |c: &String| keys.contains(&c.as_str());
        let file_columns: Option<Vec<String>> = opts
            .columns
            .as_ref()
            .map(|c| c.iter().filter(|c| !is_key(c)).cloned().collect());
        let wanted_keys: Vec<usize> = (0..keys.len())
            .filter(|&k| {
                opts.columns
                    .as_ref()
                    .is_none_or(|c| c.iter().any(|c| c == keys[k]))
            })
            .collect();
        let project_files = |input: &Input| match &file_columns {
            // Only partition columns asked for: no column of the files.
            Some(c) if c.is_empty() && !wanted_keys.is_empty() => Ok(Vec::new()),
            c => project(&input.name, &input.file_schema, c.as_deref()),
        };
        // Projection against the first file, then every other file must
        // agree, up to a wider type: `origin` is the file each column's
        // type comes from (for messages).
        let first = &inputs[0];
        let projection = project_files(first)?;
        let mut fields: Vec<Field> = projection
            .iter()
            .map(|&i| first.file_schema.field(i).clone())
            .collect();
        let mut origin = vec![first.name.clone(); fields.len()];
        let first_name = first.name.clone();
        for input in inputs.iter_mut() {
            let proj = project_files(input)?;
            let got: Vec<&Field> = proj.iter().map(|&i| input.file_schema.field(i)).collect();
            if got.len() != fields.len() {
                let missing = fields
                    .iter()
                    .find(|f| !got.iter().any(|g| g.name() == f.name()))
                    .map(|f| f.name().clone())
                    .or_else(|| {
                        got.iter()
                            .find(|g| !fields.iter().any(|f| f.name() == g.name()))
                            .map(|g| g.name().clone())
                    })
                    .unwrap_or_default();
                return Err(Error::SchemaMismatch {
                    first: first_name.clone(),
                    path: input.name.clone(),
                    column: missing,
                    detail: format!("{} columns here, {} there", got.len(), fields.len()),
                });
            }
            for (k, g) in got.iter().enumerate() {
                let f = &fields[k];
                if f.name() != g.name() {
                    return Err(Error::SchemaMismatch {
                        first: first_name.clone(),
                        path: input.name.clone(),
                        column: f.name().clone(),
                        detail: format!("found column {:?} in its place", g.name()),
                    });
                }
                if f.data_type() == g.data_type() {
                    continue;
                }
                match types::common_type(f.data_type(), g.data_type()) {
                    Some(t) if &t == f.data_type() => {}
                    Some(t) => {
                        fields[k] = f.clone().with_data_type(t);
                        origin[k] = input.name.clone();
                    }
                    None => {
                        return Err(Error::SchemaMismatch {
                            first: origin[k].clone(),
                            path: input.name.clone(),
                            column: f.name().clone(),
                            detail: format!(
                                "type {} here, {} there",
                                crate::engine::type_name(g.data_type()),
                                crate::engine::type_name(f.data_type())
                            ),
                        })
                    }
                }
            }
            input.projection = proj;
        }
        for input in inputs.iter_mut() {
            input.casts = input
                .projection
                .iter()
                .zip(&fields)
                .map(|(&i, f)| {
                    (input.file_schema.field(i).data_type() != f.data_type())
                        .then(|| f.data_type().clone())
                })
                .collect();
        }
        for input in &inputs {
            if let Some(k) = keys.iter().find(|k| input.file_schema.index_of(k).is_ok()) {
                return Err(Error::BadDataset {
                    path: input.name.clone(),
                    detail: format!(
                        "its partition folder {k:?} names a column that the file has too"
                    ),
                });
            }
        }
        for &k in &wanted_keys {
            // Integers when every value is one as written (not "007": a
            // code, whose zeros would be lost), else strings.
            let ints = inputs
                .iter()
                .all(|i| i.partition[k].as_deref().is_none_or(is_integer));
            let t = if ints {
                DataType::Int64
            } else {
                DataType::Utf8
            };
            fields.push(Field::new(keys[k], t, true));
        }
        // Features are known by name (compare, validate and merge match them
        // so): two columns of one name would be compared with each other.
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = fields.iter().find(|f| !seen.insert(f.name())) {
            return Err(Error::DuplicateColumn {
                path: first_name,
                column: dup.name().clone(),
            });
        }
        let schema = Arc::new(Schema::new(
            fields
                .into_iter()
                .map(|f| f.with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        Ok(Dataset {
            inputs,
            schema,
            partition_keys: wanted_keys,
            batch_size: opts.batch_size,
            csv: opts.csv.clone(),
        })
    }

    /// How many of the schema's columns are the files' own (the partition
    /// keys' come after them).
    fn file_fields(&self) -> usize {
        self.schema.fields().len() - self.partition_keys.len()
    }

    /// A dataset of record batches in memory (`name` names it in the
    /// profile's sources and in messages): read where they are, never
    /// copied; partitions are runs of at least [`ITEM_ROWS`] rows.
    pub fn from_batches(
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<Dataset> {
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = schema.fields().iter().find(|f| !seen.insert(f.name())) {
            return Err(Error::DuplicateColumn {
                path: name.into(),
                column: dup.name().clone(),
            });
        }
        for b in &batches {
            let got = b.schema();
            if !same_columns(&got, &schema) {
                return Err(Error::BadDataset {
                    path: name.into(),
                    detail: format!(
                        "a record batch has the columns ({}) where the schema has ({})",
                        field_list(&got),
                        field_list(&schema)
                    ),
                });
            }
        }
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let size: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
        let runs = runs_of_rows(&batches, ITEM_ROWS)
            .into_iter()
            .map(|r| batches[r].to_vec())
            .collect();
        let n = schema.fields().len();
        Ok(Dataset {
            inputs: vec![Input {
                name: name.into(),
                path: PathBuf::new(),
                format: Format::ArrowStream,
                size: size as u64,
                rows: Some(rows as u64),
                parquet: None,
                file_schema: schema.clone(),
                projection: (0..n).collect(),
                casts: vec![None; n],
                partition: Vec::new(),
                _spool: None,
                remote: None,
                memory: Some(runs),
            }],
            schema,
            partition_keys: Vec::new(),
            batch_size: 1 << 16,
            csv: CsvOptions::default(),
        })
    }

    /// The projected schema: the columns that are profiled.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Whether any of the files is CSV (whose column types come from the
    /// text, or `--type`).
    pub fn has_csv(&self) -> bool {
        self.inputs.iter().any(|i| i.format == Format::Csv)
    }

    /// The files read, by the names the user gave them (a folder's or a
    /// glob's files each by its path under it).
    pub fn sources(&self) -> Vec<String> {
        self.inputs
            .iter()
            .map(|i| i.name.display().to_string())
            .collect()
    }

    /// Total rows, when every file's metadata says (Parquet, Arrow file).
    pub fn total_rows(&self) -> Option<u64> {
        self.inputs.iter().map(|i| i.rows).sum()
    }

    /// Total size of the files in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.inputs.iter().map(|i| i.size).sum()
    }

    /// The partitions, in a fixed order (file, then row group).
    pub fn partitions(&self) -> Vec<Partition> {
        let mut out = Vec::new();
        for (f, input) in self.inputs.iter().enumerate() {
            if let Some(runs) = &input.memory {
                out.extend((0..runs.len()).map(|r| Partition {
                    file: f,
                    row_group: Some(r),
                }));
                continue;
            }
            match &input.parquet {
                Some(m) if m.metadata().num_row_groups() > 0 => {
                    for rg in 0..m.metadata().num_row_groups() {
                        out.push(Partition {
                            file: f,
                            row_group: Some(rg),
                        })
                    }
                }
                _ => out.push(Partition {
                    file: f,
                    row_group: None,
                }),
            }
        }
        out
    }

    /// Whether a partition can be read a few columns at a time (so that
    /// columns decode in parallel).
    pub fn splits_by_column(&self, part: &Partition) -> bool {
        let input = &self.inputs[part.file];
        if input.memory.is_some() {
            return true;
        }
        // An Arrow IPC file is read a record batch at a time, all columns
        // of it: over the network, once per column would fetch it as often.
        match input.format {
            Format::Parquet => true,
            Format::ArrowFile => input.remote.is_none(),
            _ => false,
        }
    }

    /// Rows in a partition, when the metadata says.
    pub fn partition_rows(&self, part: &Partition) -> Option<u64> {
        let input = &self.inputs[part.file];
        if let (Some(runs), Some(r)) = (&input.memory, part.row_group) {
            return Some(runs[r].iter().map(|b| b.num_rows() as u64).sum());
        }
        match (&input.parquet, part.row_group) {
            (Some(m), Some(rg)) => Some(m.metadata().row_group(rg).num_rows().max(0) as u64),
            _ => input.rows,
        }
    }

    /// Read one partition, calling `f` with each batch (holding the columns
    /// `columns`, indices into [`Dataset::schema`]) and the input bytes it
    /// stands for.
    ///
    /// A panic while decoding (arrow and parquet panic on some corrupt
    /// files) or in `f`, and corrupt values that `f` finds, become
    /// [`Error::Corrupt`] naming the file, row group and columns.
    pub fn read(
        &self,
        part: &Partition,
        columns: &[usize],
        f: impl FnMut(RecordBatch, u64) -> Result<()>,
    ) -> Result<()> {
        let location = self.location(part, columns);
        let _active = ActiveRead::start(format!(
            "{}{location}",
            self.inputs[part.file].name.display()
        ));
        let mut f = f;
        let f = |batch, bytes| {
            progress();
            f(batch, bytes)
        };
        let path = &self.inputs[part.file].name;
        match crate::error::catch_panic(|| self.read_unguarded(part, columns, f)) {
            Ok(Err(Error::Corrupt { detail, .. })) => {
                Err(Error::corrupt_at(path, location, detail))
            }
            // A GPU failure (out of device memory, a lost device) says what
            // was being profiled.
            Ok(Err(Error::Gpu(m))) => Err(Error::Gpu(format!("{}{location}: {m}", path.display()))),
            Ok(r) => r,
            Err(panic) => Err(Error::corrupt_at(path, location, panic)),
        }
    }

    /// ", row group N, column C" for messages about a read.
    fn location(&self, part: &Partition, columns: &[usize]) -> String {
        let mut location = String::new();
        if let Some(rg) = part.row_group {
            location += &format!(", row group {rg}");
        }
        let names: Vec<&str> = columns
            .iter()
            .map(|&c| self.schema.field(c).name().as_str())
            .collect();
        if names.len() == 1 {
            location += &format!(", column {:?}", names[0]);
        } else if names.len() <= 4 {
            location += &format!(", columns {}", names.join(", "));
        }
        location
    }

    fn read_unguarded(
        &self,
        part: &Partition,
        columns: &[usize],
        mut f: impl FnMut(RecordBatch, u64) -> Result<()>,
    ) -> Result<()> {
        let input = &self.inputs[part.file];
        let name = &input.name;
        if let (Some(runs), Some(r)) = (&input.memory, part.row_group) {
            for b in &runs[r] {
                let b = b
                    .project(columns)
                    .map_err(|e| Error::arrow(name, "cannot pick the columns", e))?;
                let bytes = b.get_array_memory_size() as u64;
                f(b, bytes)?;
            }
            return Ok(());
        }
        // The file's columns to decode, in the file's order (the order
        // Parquet returns them in, whatever the order asked).
        let mut file_cols: Vec<usize> = columns
            .iter()
            .filter(|&&c| c < self.file_fields())
            .map(|&c| input.projection[c])
            .collect();
        file_cols.sort_unstable();
        file_cols.dedup();
        // Only partition columns: Parquet gives the rows without a column;
        // other formats read one column for them, dropped.
        let row_count_only = file_cols.is_empty();
        if row_count_only && input.format != Format::Parquet {
            file_cols.push(0);
        }
        let plain = !row_count_only
            && columns.len() == file_cols.len()
            && columns
                .iter()
                .zip(&file_cols)
                .all(|(&c, &f)| c < self.file_fields() && input.projection[c] == f)
            && columns.iter().all(|&c| input.casts[c].is_none());
        // Columns cast to the dataset's type and the partition keys'
        // values added, in the order of `columns`; a column that is not
        // cast keeps the type it decoded as (a Parquet string column may
        // come dictionary-encoded).
        let order = file_cols.clone();
        let mut f = |batch: RecordBatch, bytes| {
            if plain {
                return f(batch, bytes);
            }
            let rows = batch.num_rows();
            let mut fields = Vec::with_capacity(columns.len());
            let mut out = Vec::with_capacity(columns.len());
            for &c in columns {
                let field = self.schema.field(c);
                let a = if c < self.file_fields() {
                    let a = order
                        .binary_search(&input.projection[c])
                        .ok()
                        .and_then(|k| batch.columns().get(k))
                        .ok_or_else(|| Error::Internal("a decoded batch lacks a column".into()))?;
                    match &input.casts[c] {
                        Some(t) => types::to_type(a, t)
                            .map_err(|e| Error::arrow(name, "cannot widen a column", e))?,
                        None => a.clone(),
                    }
                } else {
                    let key = self.partition_keys[c - self.file_fields()];
                    constant(field.data_type(), input.partition[key].as_deref(), rows)
                };
                fields.push(Field::new(field.name(), a.data_type().clone(), true));
                out.push(a);
            }
            let opts = arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows));
            let batch =
                RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), out, &opts)
                    .map_err(|e| Error::arrow(name, "cannot add the partition columns", e))?;
            f(batch, bytes)
        };
        let open = || input.open();
        match input.format {
            Format::Parquet => {
                let meta = input
                    .parquet
                    .as_ref()
                    .ok_or_else(|| Error::Internal("parquet metadata missing".into()))?;
                let rows = meta.metadata().file_metadata().num_rows().max(1) as u64;
                let mask = ProjectionMask::roots(
                    meta.metadata().file_metadata().schema_descr(),
                    file_cols,
                );
                let mut b =
                    ParquetRecordBatchReaderBuilder::new_with_metadata(open()?, meta.clone())
                        .with_projection(mask)
                        .with_batch_size(self.batch_size);
                if let Some(rg) = part.row_group {
                    b = b.with_row_groups(vec![rg]);
                }
                let reader = b.build().map_err(|e| Error::parquet(name, e))?;
                let mut got = 0u64;
                for batch in reader {
                    let batch =
                        batch.map_err(|e| Error::arrow(name, "cannot decode Parquet", e))?;
                    got += batch.num_rows() as u64;
                    let bytes = input.size * batch.num_rows() as u64 / rows;
                    f(batch, bytes)?;
                }
                // Pages whose headers disagree with the row group's metadata
                // can decode to fewer rows: that is corrupt, not short data.
                if let Some(want) = self.partition_rows(part).filter(|&w| w != got) {
                    return Err(Error::corrupt(format!(
                        "{got} rows decoded where the metadata says {want}"
                    )));
                }
            }
            Format::Csv => {
                let counter = Arc::new(AtomicU64::new(0));
                let reader = Counting {
                    inner: open()?,
                    n: counter.clone(),
                };
                let r = csv::reader(
                    &self.csv,
                    input.file_schema.clone(),
                    file_cols,
                    self.batch_size,
                    BufReader::with_capacity(1 << 20, reader),
                )
                .map_err(|e| Error::arrow(name, "cannot read CSV", e))?;
                let mut seen = 0;
                for batch in r {
                    let batch = batch.map_err(|e| csv::read_error(name, &input.file_schema, e))?;
                    let now = counter.load(Ordering::Relaxed);
                    f(batch, now - seen)?;
                    seen = now;
                }
            }
            Format::ArrowFile => {
                let r = arrow::ipc::reader::FileReader::try_new(
                    BufReader::new(open()?),
                    Some(file_cols),
                )
                .map_err(|e| Error::arrow(name, "cannot read Arrow IPC file", e))?;
                for batch in r {
                    let batch =
                        batch.map_err(|e| Error::arrow(name, "cannot read Arrow IPC file", e))?;
                    let bytes = batch.get_array_memory_size() as u64;
                    f(batch, bytes)?;
                }
            }
            Format::ArrowStream => {
                let r = arrow::ipc::reader::StreamReader::try_new(
                    BufReader::new(open()?),
                    Some(file_cols),
                )
                .map_err(|e| Error::arrow(name, "cannot read Arrow IPC stream", e))?;
                for batch in r {
                    let batch =
                        batch.map_err(|e| Error::arrow(name, "cannot read Arrow IPC stream", e))?;
                    let bytes = batch.get_array_memory_size() as u64;
                    f(batch, bytes)?;
                }
            }
        }
        Ok(())
    }
}

/// Whether a partition value is an integer written as Rust writes it
/// (so that reading it as one loses nothing).
fn is_integer(v: &str) -> bool {
    v.parse::<i64>().is_ok_and(|n| n.to_string() == v)
}

/// A column of `rows` copies of a partition key's value (null for none),
/// of the type [`Dataset::open`] gave the key.
fn constant(t: &DataType, value: Option<&str>, rows: usize) -> arrow::array::ArrayRef {
    use arrow::array::{Int64Array, StringArray};
    match (t, value.map(|v| (v, v.parse::<i64>()))) {
        (DataType::Int64, Some((_, Ok(v)))) => Arc::new(Int64Array::from_value(v, rows)),
        (DataType::Utf8, Some((v, _))) => {
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, rows)))
        }
        _ => arrow::array::new_null_array(t, rows),
    }
}

/// Reads under way: id → (what is read, when it last made progress). For
/// the stall watchdog ([`stalled_read`]) and for the messages that cannot
/// carry context (out of memory, [`with_current_read`]).
static ACTIVE: std::sync::Mutex<std::collections::BTreeMap<u64, (String, std::time::Instant)>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

thread_local! {
    /// The read this thread is doing ([`NO_READ`] when none).
    static CURRENT: std::cell::Cell<u64> = const { std::cell::Cell::new(NO_READ) };
}
const NO_READ: u64 = u64::MAX;

/// One read under way, registered in [`ACTIVE`] (and as this thread's
/// current read) until dropped.
struct ActiveRead {
    id: u64,
    /// The thread's read before this one (reads do not nest today, but the
    /// registry must not lose one if they do).
    outer: u64,
}

impl ActiveRead {
    fn start(what: String) -> ActiveRead {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut a) = ACTIVE.lock() {
            a.insert(id, (what, std::time::Instant::now()));
        }
        ActiveRead {
            id,
            outer: CURRENT.replace(id),
        }
    }
}

impl Drop for ActiveRead {
    fn drop(&mut self) {
        CURRENT.set(self.outer);
        if let Ok(mut a) = ACTIVE.lock() {
            a.remove(&self.id);
        }
    }
}

/// This thread's read made progress (a batch decoded, bytes read).
fn progress() {
    let id = CURRENT.get();
    if id == NO_READ {
        return;
    }
    if let Ok(mut a) = ACTIVE.lock() {
        if let Some(e) = a.get_mut(&id) {
            e.1 = std::time::Instant::now();
        }
    }
}

/// The read that has gone longest without decoding a batch, if that is
/// longer than `limit`: what it reads ("file, row group N, column C") and
/// for how long. A decoder that loops on corrupt data never returns, and
/// no thread can be stopped from outside, so the program that calls this
/// (the `skewer` binary's watchdog) ends the process with an error instead
/// of hanging forever.
pub fn stalled_read(limit: std::time::Duration) -> Option<(String, std::time::Duration)> {
    let a = ACTIVE.lock().ok()?;
    a.values()
        .map(|(what, t)| (what, t.elapsed()))
        .filter(|(_, idle)| *idle > limit)
        .max_by_key(|(_, idle)| *idle)
        .map(|(what, idle)| (what.clone(), idle))
}

/// Call `f` with what this thread is reading or, on a thread that is not
/// reading (a worker of a parallel computation), the read most recently
/// started. Does not block or allocate (for an out-of-memory handler).
pub fn with_current_read(f: impl FnOnce(&str)) {
    let id = CURRENT.try_with(|c| c.get()).unwrap_or(NO_READ);
    if let Ok(a) = ACTIVE.try_lock() {
        if let Some((what, _)) = a.get(&id).or_else(|| a.values().next_back()) {
            f(what)
        }
    }
}

/// A reader that counts the bytes read through it (for progress).
struct Counting<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        // Bytes arriving is progress too (a slow pipe is not stuck).
        progress();
        Ok(k)
    }
}

fn inputs_csv_view(inputs: &mut [Input]) -> Vec<(&Path, &mut SchemaRef)> {
    inputs
        .iter_mut()
        .filter(|i| i.format == Format::Csv)
        .map(|i| (i.name.as_path(), &mut i.file_schema))
        .collect()
}

/// Indices of the requested columns in a schema (all of them when None).
fn project(path: &Path, schema: &Schema, columns: Option<&[String]>) -> Result<Vec<usize>> {
    if schema.fields().is_empty() {
        return Err(Error::NoColumns { path: path.into() });
    }
    let Some(cols) = columns else {
        return Ok((0..schema.fields().len()).collect());
    };
    let mut idx = Vec::with_capacity(cols.len());
    for c in cols {
        match schema.index_of(c) {
            Ok(i) => idx.push(i),
            Err(_) => {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(Error::UnknownColumn {
                    path: path.into(),
                    column: c.clone(),
                    available: names.join(", "),
                });
            }
        }
    }
    idx.sort_unstable();
    idx.dedup();
    if idx.is_empty() {
        return Err(Error::NoColumns { path: path.into() });
    }
    Ok(idx)
}

/// The format of spooled standard input, from its first bytes: Parquet and
/// Arrow IPC files by their magic, an Arrow IPC stream by its continuation
/// marker, anything else CSV.
fn sniff(head: &[u8]) -> Format {
    if head.starts_with(b"PAR1") {
        Format::Parquet
    } else if head.starts_with(b"ARROW1") {
        Format::ArrowFile
    } else if head.starts_with(&[0xff; 4]) {
        Format::ArrowStream
    } else {
        Format::Csv
    }
}

fn open_input(name: &Path, opts: &SourceOptions) -> Result<Input> {
    let stdin = name.as_os_str() == "-";
    // Standard input is spooled to a file first: every format can be read
    // from it, the format named by --format or else told by its bytes.
    let (path, spool) = if stdin {
        let (spool, mut out) = crate::files::TempFile::create_in_temp_dir("skewer-stdin", "tmp")
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let p = spool.path().to_path_buf();
        std::io::copy(&mut std::io::stdin().lock(), &mut out).map_err(|e| Error::io(name, e))?;
        (p, Some(spool))
    } else {
        (name.to_path_buf(), None)
    };
    let format = match opts.format {
        Some(f) => f,
        None if stdin => {
            let mut head = Vec::with_capacity(6);
            File::open(&path)
                .and_then(|f| f.take(6).read_to_end(&mut head))
                .map_err(|e| Error::io(name, e))?;
            sniff(&head)
        }
        None => {
            Format::from_path(name).ok_or_else(|| Error::UnknownFormat { path: name.into() })?
        }
    };
    let file = open_blob(name, &path)?;
    let size = parquet::file::reader::Length::len(&file);
    let remote = match &file {
        Blob::Remote(r) => Some(r.reopen()),
        Blob::Local(_) => None,
    };
    let mut input = Input {
        name: name.to_path_buf(),
        path,
        format,
        size,
        rows: None,
        parquet: None,
        file_schema: Arc::new(Schema::empty()),
        projection: Vec::new(),
        casts: Vec::new(),
        partition: Vec::new(),
        _spool: spool,
        remote,
        memory: None,
    };
    match format {
        Format::Parquet => {
            footer::check(&file, size)
                .map_err(|e| Error::io(name, e))?
                .map_err(|detail| Error::corrupt_at(name, "", detail))?;
            let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
                .map_err(|e| Error::parquet(name, e))?;
            // Blocks of an object stop at column chunks' ends: a projected
            // column is fetched without its neighbours.
            input.remote = input
                .remote
                .map(|r| r.with_fences(column_chunk_bounds(meta.metadata())));
            input.rows = Some(meta.metadata().file_metadata().num_rows().max(0) as u64);
            input.file_schema = meta.schema().clone();
            input.parquet = Some(with_dictionary_hints(meta));
        }
        Format::Csv => {
            // Through `Counting`, so that a pipe that is slow to fill is
            // progress for the watchdog, not a stall.
            let counted = Counting {
                inner: file,
                n: Arc::new(AtomicU64::new(0)),
            };
            input.file_schema = Arc::new(csv::infer(name, &opts.csv, BufReader::new(counted))?);
        }
        Format::ArrowFile => {
            footer::check_ipc_file(&file, size)
                .map_err(|e| Error::io(name, e))?
                .map_err(|detail| Error::corrupt_at(name, "", detail))?;
            let r = arrow::ipc::reader::FileReader::try_new(BufReader::new(file), None)
                .map_err(|e| Error::arrow(name, "cannot read Arrow IPC file", e))?;
            input.file_schema = r.schema();
        }
        Format::ArrowStream => {
            let r = arrow::ipc::reader::StreamReader::try_new(BufReader::new(file), None)
                .map_err(|e| Error::arrow(name, "cannot read Arrow IPC stream", e))?;
            input.file_schema = r.schema();
        }
    }
    Ok(input)
}

/// The bytes of an input: the object when its name is a URL, else the file
/// at `path`.
fn open_blob(name: &Path, path: &Path) -> Result<Blob> {
    if let Some(url) = name.to_str().filter(|n| remote::is_url(n)) {
        return Ok(Blob::Remote(RemoteFile::open(url)?));
    }
    let file = File::open(path).map_err(|e| Error::io(name, e))?;
    let md = file.metadata().map_err(|e| Error::io(name, e))?;
    if md.is_dir() {
        return Err(Error::io(
            name,
            std::io::Error::other("is a directory, not a file"),
        ));
    }
    Ok(Blob::Local(file))
}

/// Where every column chunk of a Parquet file starts and ends.
fn column_chunk_bounds(pq: &ParquetMetaData) -> Vec<u64> {
    pq.row_groups()
        .iter()
        .flat_map(|rg| rg.columns())
        .flat_map(|c| {
            let (start, len) = c.byte_range();
            [start, start.saturating_add(len)]
        })
        .collect()
}

/// Ask the Parquet reader for string columns as dictionary arrays where
/// every data page of the column is dictionary-encoded: the decoder then
/// hands over the codes instead of materialising every string, and value
/// counting touches each distinct value once per batch. Columns that fell
/// back to plain encoding are read as plain strings.
fn with_dictionary_hints(meta: ArrowReaderMetadata) -> ArrowReaderMetadata {
    let schema = meta.schema().clone();
    let pq: &ParquetMetaData = meta.metadata();
    let descr = pq.file_metadata().schema_descr();
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let f = f.as_ref().clone();
            let stringy = matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary
            );
            // Top-level leaf column with this name.
            let leaf = (0..descr.num_columns()).find(|&i| {
                let c = descr.column(i);
                c.path().parts().len() == 1 && c.path().parts()[0] == *f.name()
            });
            match leaf {
                Some(i) if stringy && pq.num_row_groups() > 0 && all_pages_dictionary(pq, i) => {
                    changed = true;
                    let dt = f.data_type().clone();
                    f.with_data_type(DataType::Dictionary(
                        Box::new(DataType::Int32),
                        Box::new(dt),
                    ))
                }
                _ => f,
            }
        })
        .collect();
    if !changed {
        return meta;
    }
    let hinted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(
        Arc::new(pq.clone()),
        ArrowReaderOptions::new().with_schema(hinted),
    )
    .unwrap_or(meta)
}

/// Whether every data page of leaf column `i` is dictionary-encoded, by the
/// page encoding statistics (absent statistics: not known, so no).
fn all_pages_dictionary(pq: &ParquetMetaData, i: usize) -> bool {
    pq.row_groups().iter().all(|rg| {
        let c = rg.column(i);
        let dict =
            |e: &Encoding| matches!(e, Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY);
        c.dictionary_page_offset().is_some()
            && match (c.page_encoding_stats_mask(), c.page_encoding_stats()) {
                (Some(mask), _) => {
                    mask.is_only(Encoding::PLAIN_DICTIONARY)
                        || mask.is_only(Encoding::RLE_DICTIONARY)
                }
                (None, Some(stats)) => stats.iter().all(|s| {
                    !matches!(
                        s.page_type,
                        parquet::basic::PageType::DATA_PAGE
                            | parquet::basic::PageType::DATA_PAGE_V2
                    ) || dict(&s.encoding)
                }),
                (None, None) => false,
            }
    })
}

/// Rows per partition of batches in memory at least: a partition starts
/// its own states (a numeric column's sketch is 2^16 counts), so many
/// small batches (Spark hands over 10,000 rows at a time) go together.
pub const ITEM_ROWS: usize = 1 << 17;

/// Consecutive runs of `batches` of at least `min_rows` rows (the last may
/// have fewer): cut by the batches alone, so that what is merged in which
/// order does not depend on the number of threads.
pub fn runs_of_rows(batches: &[RecordBatch], min_rows: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut rows) = (0, 0);
    for (i, b) in batches.iter().enumerate() {
        rows += b.num_rows();
        if rows >= min_rows {
            out.push(start..i + 1);
            (start, rows) = (i + 1, 0);
        }
    }
    if start < batches.len() {
        out.push(start..batches.len());
    }
    out
}

/// Whether two schemas have the same columns: names and types, in order.
pub fn same_columns(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

/// "name type, …" of a schema's columns, for messages.
pub fn field_list(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse a type name given on the command line (`--type col=TYPE`).
pub fn parse_type(s: &str) -> Result<DataType> {
    use arrow::datatypes::TimeUnit::*;
    Ok(match s.to_ascii_lowercase().as_str() {
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" | "int" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        "float16" => DataType::Float16,
        "float32" => DataType::Float32,
        "float64" | "float" | "double" => DataType::Float64,
        "bool" | "boolean" => DataType::Boolean,
        "utf8" | "string" | "str" => DataType::Utf8,
        "binary" => DataType::Binary,
        "date32" | "date" => DataType::Date32,
        "date64" => DataType::Date64,
        "timestamp[s]" => DataType::Timestamp(Second, None),
        "timestamp[ms]" => DataType::Timestamp(Millisecond, None),
        "timestamp[us]" => DataType::Timestamp(Microsecond, None),
        "timestamp[ns]" | "timestamp" => DataType::Timestamp(Nanosecond, None),
        other => {
            return Err(Error::InvalidOption(format!(
                "unknown type {other:?} (int8..int64, uint8..uint64, float16/32/64, bool, utf8, binary, date32, date64, timestamp[s|ms|us|ns])"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, Int64Array};

    fn batch(rows: usize) -> RecordBatch {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![1i64; rows]));
        RecordBatch::try_from_iter([("x", a)]).unwrap()
    }

    #[test]
    fn runs_of_batches_hold_enough_rows() {
        let b: Vec<RecordBatch> = [100_000, 50_000, 10_000, 200_000, 5]
            .into_iter()
            .map(batch)
            .collect();
        assert_eq!(runs_of_rows(&b, ITEM_ROWS), vec![0..2, 2..4, 4..5]);
        assert_eq!(runs_of_rows(&b[..2], ITEM_ROWS), vec![0..2]);
        assert_eq!(runs_of_rows(&b[2..3], ITEM_ROWS), vec![0..1]);
        assert!(runs_of_rows(&[], ITEM_ROWS).is_empty());
    }

    #[test]
    fn batches_in_memory_are_a_dataset() {
        let b: Vec<RecordBatch> = [100_000, 50_000, 7].into_iter().map(batch).collect();
        let ds = Dataset::from_batches("mem", b[0].schema(), b.clone()).unwrap();
        let parts = ds.partitions();
        assert_eq!(parts.len(), 2);
        assert_eq!(ds.partition_rows(&parts[1]), Some(7));
        assert_eq!(ds.total_rows(), Some(150_007));
        assert!(ds.splits_by_column(&parts[0]));
        let mut rows = 0;
        ds.read(&parts[0], &[0], |batch, _| {
            rows += batch.num_rows();
            Ok(())
        })
        .unwrap();
        assert_eq!(rows, 150_000);
        // A batch of other columns is refused, by name.
        let other =
            RecordBatch::try_from_iter([("y", Arc::new(Int64Array::from(vec![1i64])) as ArrayRef)])
                .unwrap();
        let e = Dataset::from_batches("mem", b[0].schema(), vec![other]).unwrap_err();
        assert!(
            e.to_string()
                .contains("(y Int64) where the schema has (x Int64)"),
            "{e}"
        );
    }
}
