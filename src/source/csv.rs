//! CSV: schema inference with user overrides, and one schema for many files.
//!
//! Types are inferred by arrow-csv from the first `infer_rows` records of each
//! file (Int64, Float64, Boolean, dates, timestamps, else Utf8). Several files
//! of one dataset must have the same header; where their inferred types
//! differ they widen (Int64 with Float64 gives Float64, anything else gives
//! Utf8). `--type COL=TYPE` fixes a column's type and wins over inference;
//! a value that then fails to parse is an error naming the line.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow::csv::reader::Format as CsvFormat;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};

/// How CSV files are parsed.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    pub delimiter: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    pub has_header: bool,
    /// Records read to infer column types.
    pub infer_rows: usize,
    /// Column types stated by the user, overriding inference.
    pub types: Vec<(String, DataType)>,
    /// Fields read as null besides the empty field (`NA`, `NULL`, ...),
    /// in inference and in reading alike.
    pub null_values: Vec<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            quote: b'"',
            escape: None,
            has_header: true,
            infer_rows: 100_000,
            types: Vec::new(),
            null_values: Vec::new(),
        }
    }
}

impl CsvOptions {
    fn format(&self) -> CsvFormat {
        let mut f = CsvFormat::default()
            .with_header(self.has_header)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote);
        if let Some(e) = self.escape {
            f = f.with_escape(e);
        }
        match self.null_regex() {
            Some(r) => f.with_null_regex(r),
            None => f,
        }
    }

    /// The fields that are null: the empty field and each null value, whole
    /// and literal (None: arrow's default, the empty field alone).
    fn null_regex(&self) -> Option<regex::Regex> {
        if self.null_values.is_empty() {
            return None;
        }
        let alternatives: Vec<String> = self.null_values.iter().map(|v| regex::escape(v)).collect();
        // Escaped literals always make a valid pattern.
        regex::Regex::new(&format!("^(?:|{})$", alternatives.join("|"))).ok()
    }
}

/// Infer the schema of one CSV file and apply the user's type overrides.
pub fn infer(path: &Path, opts: &CsvOptions, r: impl Read) -> Result<Schema> {
    let (schema, _) = opts
        .format()
        .infer_schema(r, Some(opts.infer_rows))
        .map_err(|e| Error::arrow(path, "cannot infer the CSV column types", e))?;
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (name, dt) in &opts.types {
        match fields.iter_mut().find(|f| f.name() == name) {
            Some(f) => *f = f.clone().with_data_type(dt.clone()),
            None => {
                return Err(Error::UnknownColumn {
                    path: path.into(),
                    column: name.clone(),
                    available: fields
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        }
    }
    // A column with no values in the sample is inferred as Null: read it as text.
    for f in fields.iter_mut() {
        if f.data_type() == &DataType::Null {
            *f = f.clone().with_data_type(DataType::Utf8);
        }
    }
    Ok(Schema::new(fields))
}

fn widen(a: &DataType, b: &DataType) -> DataType {
    use DataType::*;
    match (a, b) {
        _ if a == b => a.clone(),
        (Int64, Float64) | (Float64, Int64) => Float64,
        _ => Utf8,
    }
}

/// Give every CSV file of a dataset the same schema (same header required).
pub fn unify_schemas(files: &mut [(&Path, &mut SchemaRef)]) -> Result<()> {
    let Some((first_path, first)) = files.first() else {
        return Ok(());
    };
    let first_path = first_path.to_path_buf();
    let mut fields: Vec<Field> = first.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (path, schema) in files.iter().skip(1) {
        let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
        if names.len() != fields.len() || names.iter().zip(&fields).any(|(n, f)| *n != f.name()) {
            let col = fields
                .iter()
                .zip(names.iter().map(Some).chain(std::iter::repeat(None)))
                .find(|(f, n)| n.is_none_or(|n| *n != f.name()))
                .map(|(f, _)| f.name().clone())
                .unwrap_or_else(|| names.last().map(|n| n.to_string()).unwrap_or_default());
            return Err(Error::SchemaMismatch {
                first: first_path,
                path: path.to_path_buf(),
                column: col,
                detail: format!(
                    "the CSV header differs: {}",
                    names
                        .iter()
                        .map(|n| n.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            });
        }
        for (f, g) in fields.iter_mut().zip(schema.fields()) {
            let w = widen(f.data_type(), g.data_type());
            *f = f.clone().with_data_type(w);
        }
    }
    let unified = Arc::new(Schema::new(fields));
    for (_, schema) in files.iter_mut() {
        **schema = unified.clone();
    }
    Ok(())
}

/// A CSV batch reader over `r` with a fixed schema and projection.
pub fn reader<R: Read>(
    opts: &CsvOptions,
    schema: SchemaRef,
    projection: Vec<usize>,
    batch_size: usize,
    r: R,
) -> std::result::Result<arrow::csv::Reader<R>, arrow::error::ArrowError> {
    let mut b = arrow::csv::ReaderBuilder::new(schema)
        .with_header(opts.has_header)
        .with_delimiter(opts.delimiter)
        .with_quote(opts.quote)
        .with_batch_size(batch_size)
        .with_projection(projection);
    if let Some(e) = opts.escape {
        b = b.with_escape(e);
    }
    if let Some(n) = opts.null_regex() {
        b = b.with_null_regex(n);
    }
    b.build(r)
}

/// A CSV batch's error, with the column named and the line as a file's
/// line (arrow-csv names the column by its index in the file and counts
/// records from 0, the header included: the line of a record is one more,
/// where no quoted field spans lines). arrow-csv words a value that does
/// not parse two ways: timestamps ("Error parsing column C at line L:
/// why") and the other types ("Error while parsing value 'V' as type 'T'
/// for column C at line L. Row data: '…'"). The row's data is never
/// repeated: the line finds it.
pub fn read_error(path: &Path, schema: &Schema, e: arrow::error::ArrowError) -> Error {
    let msg = match &e {
        arrow::error::ArrowError::ParseError(m) => m.as_str(),
        _ => "",
    };
    let column = |c: &str| {
        Some(
            schema
                .fields()
                .get(c.parse::<usize>().ok()?)?
                .name()
                .clone(),
        )
    };
    let times = || {
        let rest = msg.strip_prefix("Error parsing column ")?;
        let (col, rest) = rest.split_once(" at line ")?;
        let (line, why) = rest.split_once(": ")?;
        let why = why.trim_start_matches("Parser error: ").to_string();
        Some((column(col)?, line.parse::<u64>().ok()?, why))
    };
    let values = || {
        let rest = msg.strip_prefix("Error while parsing value '")?;
        // The row's data comes last and may hold anything: cut it first.
        let (rest, _) = rest.rsplit_once(". Row data: ")?;
        let (rest, line) = rest.rsplit_once(" at line ")?;
        let (rest, col) = rest.rsplit_once("' for column ")?;
        let (value, ty) = rest.rsplit_once("' as type '")?;
        let why = format!("'{value}' is not a valid {ty}");
        Some((column(col)?, line.parse::<u64>().ok()?, why))
    };
    match times().or_else(values) {
        Some((column, line, why)) => Error::BadDataset {
            path: path.into(),
            detail: format!(
                "cannot read CSV: column {column:?}, line {}: {why}",
                line + 1
            ),
        },
        // Another wording: arrow's message, less any row's data.
        None => match e.to_string().split_once(". Row data: ") {
            Some((head, _)) => Error::BadDataset {
                path: path.into(),
                detail: format!("cannot read CSV: {head}"),
            },
            None => Error::arrow(path, "cannot read CSV", e),
        },
    }
}

#[cfg(test)]
mod read_error_tests {
    use super::*;

    #[test]
    fn names_the_column_and_the_files_line() {
        let schema = Schema::new(vec![
            Field::new("v", DataType::Int64, true),
            Field::new("ts", DataType::Utf8, true),
        ]);
        let e = arrow::error::ArrowError::ParseError(
            "Error parsing column 1 at line 3: Parser error: Error parsing timestamp from 'bad'"
                .into(),
        );
        let msg = read_error(Path::new("d.csv"), &schema, e).to_string();
        assert!(msg.contains("d.csv"), "{msg}");
        assert!(
            msg.contains("column \"ts\", line 4: Error parsing timestamp from 'bad'"),
            "{msg}"
        );
        // Every other type's wording; the row's data is left out.
        let e = arrow::error::ArrowError::ParseError(
            "Error while parsing value '2.x' as type 'Int64' for column 0 at line 2. \
             Row data: '[2.x,secret]'"
                .into(),
        );
        let msg = read_error(Path::new("d.csv"), &schema, e).to_string();
        assert!(
            msg.contains("column \"v\", line 3: '2.x' is not a valid Int64"),
            "{msg}"
        );
        assert!(!msg.contains("secret"), "{msg}");
        // A value that reads like the other wording is still a value, and
        // no row's data is repeated, whatever the value holds.
        for (value, shown) in [
            (
                "Error parsing column 0 at line 9: z",
                "'Error parsing column 0 at line 9: z'",
            ),
            (
                "a' as type 'b' for column x at line y",
                "'a' as type 'b' for column x at line y'",
            ),
        ] {
            let e = arrow::error::ArrowError::ParseError(format!(
                "Error while parsing value '{value}' as type 'Int64' for column 0 at line 2. \
                 Row data: '[{value},secret]'"
            ));
            let msg = read_error(Path::new("d.csv"), &schema, e).to_string();
            assert!(
                msg.contains(&format!(
                    "column \"v\", line 3: {shown} is not a valid Int64"
                )),
                "{msg}"
            );
            assert!(!msg.contains("secret"), "{msg}");
        }
        // An unknown wording keeps arrow's message, less the row's data.
        let e = arrow::error::ArrowError::ParseError(
            "Error while parsing something. Row data: '[secret]'".into(),
        );
        let msg = read_error(Path::new("d.csv"), &schema, e).to_string();
        assert!(
            msg.contains("Error while parsing something") && !msg.contains("secret"),
            "{msg}"
        );
        // Anything else is arrow's message as it is.
        let e = arrow::error::ArrowError::ParseError("something else".into());
        assert!(read_error(Path::new("d.csv"), &schema, e)
            .to_string()
            .contains("something else"));
    }
}
