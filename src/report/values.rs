//! Turns a model's table into rows of plain values for templates.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use datafusion::scalar::ScalarValue;
use serde::Serialize;
use serde_json::Value;

use crate::error::Result;

/// A table as templates see it: column names and rows keyed by column.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableData {
    pub columns: Vec<String>,
    pub rows: Vec<BTreeMap<String, Value>>,
}

pub fn table_data(batches: &[RecordBatch]) -> Result<TableData> {
    let mut data = TableData::default();
    let Some(first) = batches.first() else {
        return Ok(data);
    };
    data.columns = first
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let mut values = BTreeMap::new();
            for (name, column) in data.columns.iter().zip(batch.columns()) {
                let scalar = ScalarValue::try_from_array(column, row)?;
                values.insert(name.clone(), to_json(&scalar));
            }
            data.rows.push(values);
        }
    }
    Ok(data)
}

fn to_json(value: &ScalarValue) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    match value {
        ScalarValue::Boolean(Some(b)) => Value::from(*b),
        ScalarValue::Int8(Some(v)) => Value::from(*v),
        ScalarValue::Int16(Some(v)) => Value::from(*v),
        ScalarValue::Int32(Some(v)) => Value::from(*v),
        ScalarValue::Int64(Some(v)) => Value::from(*v),
        ScalarValue::UInt8(Some(v)) => Value::from(*v),
        ScalarValue::UInt16(Some(v)) => Value::from(*v),
        ScalarValue::UInt32(Some(v)) => Value::from(*v),
        ScalarValue::UInt64(Some(v)) => Value::from(*v),
        ScalarValue::Float32(Some(v)) => finite(f64::from(*v)),
        ScalarValue::Float64(Some(v)) => finite(*v),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Value::from(s.clone()),
        // Dates and timestamps as ISO text; decimals and the rest as their display form.
        ScalarValue::Date32(Some(_)) | ScalarValue::Date64(Some(_)) => {
            Value::from(value.to_string())
        }
        ScalarValue::TimestampSecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..) => arrow::compute::cast(
            &value.to_array().unwrap_or_else(|_| {
                arrow::array::new_null_array(&arrow::datatypes::DataType::Null, 1)
            }),
            &arrow::datatypes::DataType::Utf8,
        )
        .ok()
        .and_then(|a| ScalarValue::try_from_array(&a, 0).ok())
        .map_or(Value::Null, |s| Value::from(s.to_string())),
        other => Value::from(other.to_string()),
    }
}

fn finite(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}
