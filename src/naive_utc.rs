//! Naive timestamps read as UTC by relabelling, not converting. The contract says a timestamp
//! without a time zone is UTC, and `raw_touchpoints` types `occurred_at` as zoned UTC. Left to
//! DataFusion, a file with naive timestamps is cast to that type value by value through the
//! time-zone machinery (a local-to-UTC lookup per row, an identity for UTC); here the scan keeps
//! the values and only changes the label, after any change of unit.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType};
use arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{CastExpr, Column};
use datafusion::physical_expr_adapter::{
    DefaultPhysicalExprAdapterFactory, PhysicalExprAdapter, PhysicalExprAdapterFactory,
};

/// DataFusion's adaptation of file columns to the table schema, except that naive timestamps
/// become zoned microseconds by a relabel.
#[derive(Debug)]
pub struct NaiveAsUtcFactory;

impl PhysicalExprAdapterFactory for NaiveAsUtcFactory {
    fn create(
        &self,
        logical_file_schema: SchemaRef,
        physical_file_schema: SchemaRef,
    ) -> Result<Arc<dyn PhysicalExprAdapter>> {
        Ok(Arc::new(NaiveAsUtc {
            default: DefaultPhysicalExprAdapterFactory
                .create(logical_file_schema, Arc::clone(&physical_file_schema))?,
            physical_file_schema,
        }))
    }
}

#[derive(Debug)]
struct NaiveAsUtc {
    default: Arc<dyn PhysicalExprAdapter>,
    physical_file_schema: SchemaRef,
}

impl PhysicalExprAdapter for NaiveAsUtc {
    fn rewrite(&self, expr: Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
        let adapted = self.default.rewrite(expr)?;
        adapted
            .transform(|node| {
                let Some(cast) = node.downcast_ref::<CastExpr>() else {
                    return Ok(Transformed::no(node));
                };
                // Only to UTC: a naive value is a UTC instant by the contract, but arrow's cast
                // reads it as wall-clock time in the target zone, which differs for any other.
                let zone = match cast.cast_type() {
                    DataType::Timestamp(TimeUnit::Microsecond, Some(zone))
                        if matches!(zone.as_ref(), "UTC" | "+00:00") =>
                    {
                        zone.clone()
                    }
                    _ => return Ok(Transformed::no(node)),
                };
                let Some(column) = cast.expr().downcast_ref::<Column>() else {
                    return Ok(Transformed::no(node));
                };
                let from = column.data_type(&self.physical_file_schema)?;
                let DataType::Timestamp(unit, None) = from else {
                    return Ok(Transformed::no(node));
                };
                // Only the unit changes, if at all: plain integer arithmetic.
                let naive_micros: Arc<dyn PhysicalExpr> = if unit == TimeUnit::Microsecond {
                    Arc::clone(cast.expr())
                } else {
                    Arc::new(CastExpr::new(
                        Arc::clone(cast.expr()),
                        DataType::Timestamp(TimeUnit::Microsecond, None),
                        None,
                    ))
                };
                Ok(Transformed::yes(Arc::new(Relabel {
                    input: naive_micros,
                    zone: zone.to_string(),
                })))
            })
            .data()
    }
}

/// Naive microsecond timestamps, the same values labelled with `zone`.
#[derive(Debug, Eq)]
struct Relabel {
    input: Arc<dyn PhysicalExpr>,
    zone: String,
}

impl PartialEq for Relabel {
    fn eq(&self, other: &Self) -> bool {
        self.input.eq(&other.input) && self.zone == other.zone
    }
}

impl Hash for Relabel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.input.hash(state);
        self.zone.hash(state);
    }
}

impl fmt::Display for Relabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "relabel({}, {})", self.input, self.zone)
    }
}

impl PhysicalExpr for Relabel {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some(self.zone.as_str().into()),
        ))
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.input.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let relabel = |array: &dyn Array| -> Arc<dyn Array> {
            Arc::new(
                array
                    .as_primitive::<TimestampMicrosecondType>()
                    .clone()
                    .with_timezone(self.zone.as_str()),
            )
        };
        match self.input.evaluate(batch)? {
            ColumnarValue::Array(array) => Ok(ColumnarValue::Array(relabel(array.as_ref()))),
            ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(value, _)) => {
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(
                    value,
                    Some(self.zone.as_str().into()),
                )))
            }
            ColumnarValue::Scalar(other) => {
                internal_err!("relabel expects microsecond timestamps, got {other:?}")
            }
        }
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        Ok(Arc::new(Relabel {
            input: children.swap_remove(0),
            zone: self.zone.clone(),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{TimestampMicrosecondArray, TimestampMillisecondArray};
    use arrow::datatypes::Field;

    use super::*;

    fn adapt(physical: DataType, column: Arc<dyn Array>) -> Arc<dyn Array> {
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let logical = Arc::new(Schema::new(vec![Field::new("t", utc.clone(), true)]));
        let physical = Arc::new(Schema::new(vec![Field::new("t", physical, true)]));
        let adapter = NaiveAsUtcFactory
            .create(logical, Arc::clone(&physical))
            .expect("adapter");
        let expr = adapter
            .rewrite(Arc::new(Column::new("t", 0)))
            .expect("rewrite");
        assert!(expr.to_string().starts_with("relabel("), "{expr}");
        let batch = RecordBatch::try_new(physical, vec![column]).expect("batch");
        let out = expr
            .evaluate(&batch)
            .expect("evaluate")
            .into_array(batch.num_rows())
            .expect("array");
        assert_eq!(out.data_type(), &utc);
        out
    }

    #[test]
    fn naive_timestamps_keep_their_values_as_utc_in_microseconds() {
        // 2026-03-01 10:00:00.123 UTC, and a null.
        let millis = 1_772_359_200_123_i64;
        let out = adapt(
            DataType::Timestamp(TimeUnit::Millisecond, None),
            Arc::new(TimestampMillisecondArray::from(vec![Some(millis), None])),
        );
        let out = out.as_primitive::<TimestampMicrosecondType>();
        assert_eq!(out.value(0), millis * 1000);
        assert!(out.is_null(1));

        let out = adapt(
            DataType::Timestamp(TimeUnit::Microsecond, None),
            Arc::new(TimestampMicrosecondArray::from(vec![millis * 1000])),
        );
        assert_eq!(
            out.as_primitive::<TimestampMicrosecondType>().value(0),
            millis * 1000
        );
    }
}
