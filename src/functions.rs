//! cxpipe's own SQL functions, for models and analysts alike. Every session that plans or runs
//! a model has them: the local one, and under a cluster the driver's, the scheduler's and each
//! executor's (a plan names a function; where it runs, the name is looked up).
//!
//! - `has_text(s)`: whether `s` holds anything but spaces, which is what
//!   `nullif(trim(s), '') is not null` says, without building the trimmed string. The validity
//!   check runs it on every row read, before any cleaning, so it pays to be cheap.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// The functions, ready to register with a session or a function registry.
pub fn all() -> Vec<ScalarUDF> {
    vec![create_udf(
        "has_text",
        // Other string types are cast to Utf8 by the planner.
        vec![DataType::Utf8],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| match args {
            [ColumnarValue::Array(array)] => Ok(ColumnarValue::Array(Arc::new(has_text(array)?))),
            [ColumnarValue::Scalar(scalar)] => {
                let flags = has_text(&scalar.to_array()?)?;
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                    &flags, 0,
                )?))
            }
            _ => exec_err!("has_text takes one argument"),
        }),
    )]
}

/// Null and blank alike are false, so a validity check needs no coalesce.
fn has_text(array: &dyn Array) -> Result<BooleanArray> {
    let Some(strings) = array.as_string_opt::<i32>() else {
        return exec_err!("has_text expects a string, got {}", array.data_type());
    };
    Ok(strings
        .iter()
        .map(|s| Some(s.is_some_and(|s| s.bytes().any(|b| b != b' '))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;

    #[test]
    fn has_text_is_false_for_null_empty_and_spaces_only() {
        let input = StringArray::from(vec![
            None,
            Some(""),
            Some("   "),
            Some(" a "),
            Some("\t"),
            Some("x"),
        ]);
        let flags: Vec<_> = has_text(&input).expect("strings").iter().collect();
        // A tab is text: trim() removes spaces only, so `nullif(trim('\t'), '')` is not null.
        let expected = [false, false, false, true, true, true].map(Some);
        assert_eq!(flags, expected);
    }
}
