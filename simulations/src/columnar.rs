//! The per-replication and per-member results as tables, written both as CSV (Excel, R, any
//! tool) and as Parquet (pandas, polars, R's arrow, DuckDB): one list of typed columns, two
//! encodings, so the files can never disagree.
//!
//! Money is Parquet's DECIMAL(38, s), exact: `s` is the largest scale in the column (at least
//! 4), every
//! value rescaled to it without loss, stored as 16-byte big-endian two's complement — what
//! pyarrow reads as `decimal128(38, s)`. The Parquet files are written without the Arrow
//! crates (a long compile for what four columns need) through the `parquet` crate's own column
//! writers, with Snappy pages; the bytes depend only on the values, so shards merged give the
//! unsharded run's files.

use crate::SimError;
use parquet::basic::{Compression, DecimalType, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// Parquet's largest decimal precision in 16 bytes; rust_decimal's 96-bit mantissa (29 digits)
/// always fits.
const DECIMAL_PRECISION: i32 = 38;
const DECIMAL_BYTES: i32 = 16;
/// Money columns carry at least four decimal places (the means are rounded to four), so the
/// schema of a run's files is the same from run to run and tables concatenate in pandas.
const MONEY_SCALE_MIN: u32 = 4;

/// One column of a results table.
#[derive(Debug)]
pub enum Column {
    Integer(&'static str, Vec<i64>),
    Text(&'static str, Vec<String>),
    /// Text that may be absent (an empty CSV field; a null in Parquet).
    OptionalText(&'static str, Vec<Option<String>>),
    Money(&'static str, Vec<Decimal>),
}

impl Column {
    fn name(&self) -> &'static str {
        match self {
            Self::Integer(n, _)
            | Self::Text(n, _)
            | Self::OptionalText(n, _)
            | Self::Money(n, _) => n,
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Integer(_, v) => v.len(),
            Self::Text(_, v) => v.len(),
            Self::OptionalText(_, v) => v.len(),
            Self::Money(_, v) => v.len(),
        }
    }

    fn csv_cell(&self, row: usize, out: &mut String) {
        let _ = match self {
            Self::Integer(_, v) => v.get(row).map(|x| write!(out, "{x}")),
            Self::Text(_, v) => v.get(row).map(|x| write!(out, "{}", csv_field(x))),
            Self::OptionalText(_, v) => v
                .get(row)
                .and_then(Option::as_ref)
                .map(|x| write!(out, "{}", csv_field(x))),
            Self::Money(_, v) => v.get(row).map(|x| write!(out, "{x}")),
        };
    }
}

/// A field quoted as RFC 4180 asks when it holds a comma, quote or line break.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Columns of equal length: a table.
#[derive(Debug)]
pub struct Table {
    pub columns: Vec<Column>,
}

impl Table {
    fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// The table as CSV, a header line first.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let names: Vec<&str> = self.columns.iter().map(Column::name).collect();
        out.push_str(&names.join(","));
        out.push('\n');
        for row in 0..self.rows() {
            for (i, column) in self.columns.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                column.csv_cell(row, &mut out);
            }
            out.push('\n');
        }
        out
    }

    /// Writes the table to `path` as one Parquet row group.
    pub fn write_parquet(&self, path: &Path) -> Result<(), SimError> {
        let failed = |message: String| SimError::Io {
            path: path.display().to_string(),
            message,
        };
        let file = std::fs::File::create(path).map_err(|e| failed(e.to_string()))?;
        self.write_parquet_to(file)
            .map_err(|e| failed(format!("writing Parquet: {e}")))
    }

    fn write_parquet_to(&self, file: std::fs::File) -> parquet::errors::Result<()> {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut scales = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let (field, scale) = field_of(column)?;
            fields.push(Arc::new(field));
            scales.push(scale);
        }
        let schema = Type::group_type_builder("results")
            .with_fields(fields)
            .build()?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let mut writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(properties))?;
        let mut group = writer.next_row_group()?;
        for (column, scale) in self.columns.iter().zip(scales) {
            let Some(mut out) = group.next_column()? else {
                return Err(parquet::errors::ParquetError::General(
                    "the schema has fewer columns than the table".into(),
                ));
            };
            match column {
                Column::Integer(_, v) => {
                    out.typed::<parquet::data_type::Int64Type>()
                        .write_batch(v, None, None)?;
                }
                Column::Text(_, v) => {
                    let values: Vec<ByteArray> =
                        v.iter().map(|s| ByteArray::from(s.as_str())).collect();
                    out.typed::<ByteArrayType>()
                        .write_batch(&values, None, None)?;
                }
                Column::OptionalText(_, v) => {
                    let values: Vec<ByteArray> = v
                        .iter()
                        .flatten()
                        .map(|s| ByteArray::from(s.as_str()))
                        .collect();
                    let defined: Vec<i16> = v.iter().map(|s| i16::from(s.is_some())).collect();
                    out.typed::<ByteArrayType>()
                        .write_batch(&values, Some(&defined), None)?;
                }
                Column::Money(name, v) => {
                    let values = v
                        .iter()
                        .map(|d| decimal_bytes(*d, scale).map(FixedLenByteArray::from))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            parquet::errors::ParquetError::General(format!(
                                "column {name}: a value does not fit DECIMAL({DECIMAL_PRECISION}, {scale})"
                            ))
                        })?;
                    out.typed::<FixedLenByteArrayType>()
                        .write_batch(&values, None, None)?;
                }
            }
            out.close()?;
        }
        group.close()?;
        writer.close()?;
        Ok(())
    }
}

/// The Parquet field for `column`, and for money the scale every value is written at.
fn field_of(column: &Column) -> parquet::errors::Result<(Type, u32)> {
    let name = column.name();
    Ok(match column {
        Column::Integer(..) => (
            Type::primitive_type_builder(name, PhysicalType::INT64)
                .with_repetition(Repetition::REQUIRED)
                .build()?,
            0,
        ),
        Column::Text(..) | Column::OptionalText(..) => (
            Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
                .with_repetition(if matches!(column, Column::Text(..)) {
                    Repetition::REQUIRED
                } else {
                    Repetition::OPTIONAL
                })
                .with_logical_type(Some(LogicalType::String))
                .build()?,
            0,
        ),
        Column::Money(_, v) => {
            let scale = v.iter().map(Decimal::scale).fold(MONEY_SCALE_MIN, u32::max);
            let scale_i32 = i32::try_from(scale).unwrap_or(0);
            (
                Type::primitive_type_builder(name, PhysicalType::FIXED_LEN_BYTE_ARRAY)
                    .with_repetition(Repetition::REQUIRED)
                    .with_length(DECIMAL_BYTES)
                    .with_logical_type(Some(LogicalType::Decimal(DecimalType {
                        scale: scale_i32,
                        precision: DECIMAL_PRECISION,
                    })))
                    .with_precision(DECIMAL_PRECISION)
                    .with_scale(scale_i32)
                    .build()?,
                scale,
            )
        }
    })
}

/// `d` as an unscaled integer at `scale`, big-endian in 16 bytes; `None` if rescaling would
/// lose digits (rust_decimal rescales as far as it can and no further).
fn decimal_bytes(d: Decimal, scale: u32) -> Option<Vec<u8>> {
    let mut rescaled = d;
    rescaled.rescale(scale);
    (rescaled.scale() == scale && rescaled == d).then(|| rescaled.mantissa().to_be_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decimal_is_its_unscaled_value_at_the_column_scale() {
        let bytes = decimal_bytes(Decimal::new(-1250, 2), 3).unwrap_or_default();
        assert_eq!(bytes, (-12500i128).to_be_bytes().to_vec());
    }

    #[test]
    fn a_value_that_cannot_take_the_scale_is_refused_not_rounded() {
        assert_eq!(decimal_bytes(Decimal::MAX, 5), None);
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        let table = Table {
            columns: vec![
                Column::Text("id", vec!["a,b".into(), "say \"hi\"".into()]),
                Column::OptionalText("when", vec![None, Some("2026-01".into())]),
            ],
        };
        assert_eq!(
            table.to_csv(),
            "id,when\n\"a,b\",\n\"say \"\"hi\"\"\",2026-01\n"
        );
    }
}
