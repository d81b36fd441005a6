//! cxpipe's own SQL functions, for models and analysts alike. Every session that plans or runs
//! a model has them: the local one, and under a cluster the driver's, the scheduler's and each
//! executor's (a plan names a function; where it runs, the name is looked up).
//!
//! - `has_text(s)`: whether `s` holds anything but spaces, which is what
//!   `nullif(trim(s), '') is not null` says, without building the trimmed string. The validity
//!   check runs it on every row read, before any cleaning, so it pays to be cheap.
//! - `trimmed(s)`: `nullif(trim(s), '')`, the value without the spaces around it, or null when
//!   nothing is left; a column whose values are all clean already comes back as it is, not
//!   copied. The cleaning runs it on every id of every row read.
//! - `days_after(d, n)`: the date `n` days after `d` (`d + interval 'n days'`),
//!   `week_start(d)`: the Monday of `d`'s ISO week (`date_trunc('week', d)` as a date), and
//!   `month_start(d)`: the first of `d`'s month. On dates as day counts, where the interval and
//!   `date_trunc` forms go through timestamps per row (and fail before 1677): the stickiness and
//!   lifecycle counters run them on every active day.
//! - `year_month(d)`: `d`'s month as text, `2026-11` (`to_char(d, '%Y-%m')` without formatting
//!   each date through chrono): what a `partition_by: month(col)` model's files are named by.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, Date32Array, StringArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use chrono::Datelike;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// The functions, ready to register with a session or a function registry.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        has_text_udf(),
        trimmed_udf(),
        create_udf(
            "days_after",
            vec![DataType::Date32, DataType::Int64],
            DataType::Date32,
            Volatility::Immutable,
            Arc::new(|args: &[ColumnarValue]| {
                on_arrays(args, |arrays| match arrays {
                    [dates, days] => days_after(dates, days),
                    _ => exec_err!("days_after takes a date and a number of days"),
                })
            }),
        ),
        create_udf(
            "month_start",
            vec![DataType::Date32],
            DataType::Date32,
            Volatility::Immutable,
            Arc::new(|args: &[ColumnarValue]| {
                on_arrays(args, |arrays| match arrays {
                    [dates] => month_start(dates),
                    _ => exec_err!("month_start takes a date"),
                })
            }),
        ),
        create_udf(
            "year_month",
            vec![DataType::Date32],
            DataType::Utf8,
            Volatility::Immutable,
            Arc::new(|args: &[ColumnarValue]| {
                on_arrays(args, |arrays| match arrays {
                    [dates] => year_month(dates),
                    _ => exec_err!("year_month takes a date"),
                })
            }),
        ),
        create_udf(
            "week_start",
            vec![DataType::Date32],
            DataType::Date32,
            Volatility::Immutable,
            Arc::new(|args: &[ColumnarValue]| {
                on_arrays(args, |arrays| match arrays {
                    [dates] => week_start(dates),
                    _ => exec_err!("week_start takes a date"),
                })
            }),
        ),
    ]
}

/// Runs `f` on the arguments as arrays of one length; all-scalar arguments give a scalar.
fn on_arrays(
    args: &[ColumnarValue],
    f: impl Fn(&[Arc<dyn Array>]) -> Result<Arc<dyn Array>>,
) -> Result<ColumnarValue> {
    let scalars = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let result = f(&ColumnarValue::values_to_arrays(args)?)?;
    if scalars {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

fn days_after(dates: &Arc<dyn Array>, days: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    let (Some(dates), Some(days)) = (
        dates.as_primitive_opt::<Date32Type>(),
        days.as_primitive_opt::<Int64Type>(),
    ) else {
        return exec_err!("days_after expects a date and a whole number of days");
    };
    let shifted: Date32Array = arrow::compute::binary(dates, days, |d, n| {
        // Out of i32's range is out of every calendar's: saturate rather than wrap.
        i32::try_from(i64::from(d) + n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
    })?;
    Ok(Arc::new(shifted))
}

fn week_start(dates: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    let Some(dates) = dates.as_primitive_opt::<Date32Type>() else {
        return exec_err!("week_start expects a date");
    };
    // Day 0, 1970-01-01, was a Thursday: three days after a Monday.
    let mondays: Date32Array = dates.unary(|d| d - (d + 3).rem_euclid(7));
    Ok(Arc::new(mondays))
}

fn month_start(dates: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    let Some(dates) = dates.as_primitive_opt::<Date32Type>() else {
        return exec_err!("month_start expects a date");
    };
    // Days since 0001-01-01 (chrono's day 1) of 1970-01-01, Date32's day 0.
    const EPOCH_FROM_CE: i32 = 719_163;
    let firsts: Date32Array = dates.unary(|d| {
        chrono::NaiveDate::from_num_days_from_ce_opt(d + EPOCH_FROM_CE)
            .and_then(|date| date.with_day(1))
            .map_or(d, |first| first.num_days_from_ce() - EPOCH_FROM_CE)
    });
    Ok(Arc::new(firsts))
}

fn year_month(dates: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    let Some(dates) = dates.as_primitive_opt::<Date32Type>() else {
        return exec_err!("year_month expects a date");
    };
    const EPOCH_FROM_CE: i32 = 719_163;
    let mut texts = arrow::array::StringBuilder::with_capacity(dates.len(), dates.len() * 7);
    // Dates come clustered: the text of the month the last date fell in, and its days.
    let mut month: Option<(std::ops::Range<i32>, String)> = None;
    for date in dates.iter() {
        let Some(d) = date else {
            texts.append_null();
            continue;
        };
        match &month {
            Some((days, text)) if days.contains(&d) => texts.append_value(text),
            _ => {
                let Some(day) = chrono::NaiveDate::from_num_days_from_ce_opt(d + EPOCH_FROM_CE)
                else {
                    return exec_err!("year_month: day {d} is out of range");
                };
                let first = day.with_day(1).unwrap_or(day);
                let next = first
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(day);
                let text = format!("{:04}-{:02}", first.year(), first.month());
                texts.append_value(&text);
                let days = first.num_days_from_ce() - EPOCH_FROM_CE
                    ..next.num_days_from_ce() - EPOCH_FROM_CE;
                month = Some((days, text));
            }
        }
    }
    Ok(Arc::new(texts.finish()))
}

fn has_text_udf() -> ScalarUDF {
    create_udf(
        "has_text",
        // Other string types are cast to Utf8 by the planner.
        vec![DataType::Utf8],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            on_arrays(args, |arrays| match arrays {
                [strings] => Ok(Arc::new(has_text(strings)?) as Arc<dyn Array>),
                _ => exec_err!("has_text takes one argument"),
            })
        }),
    )
}

/// Null and blank alike are false, so a validity check needs no coalesce.
fn has_text(array: &dyn Array) -> Result<BooleanArray> {
    let Some(strings) = array.as_string_opt::<i32>() else {
        return exec_err!("has_text expects a string, got {}", array.data_type());
    };
    // Straight from the offsets and bytes: most values answer at their first byte.
    let (offsets, bytes) = (strings.value_offsets(), strings.value_data());
    let flags = BooleanBuffer::collect_bool(strings.len(), |i| {
        strings.is_valid(i)
            && bytes[offsets[i] as usize..offsets[i + 1] as usize]
                .iter()
                .any(|&b| b != b' ')
    });
    Ok(BooleanArray::new(flags, None))
}

fn trimmed_udf() -> ScalarUDF {
    create_udf(
        "trimmed",
        // Other string types are cast to Utf8 by the planner.
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            on_arrays(args, |arrays| match arrays {
                [strings] => trimmed(strings),
                _ => exec_err!("trimmed takes one argument"),
            })
        }),
    )
}

/// `nullif(trim(s), '')`: the values without the spaces around them, blank ones null. Values
/// read are nearly always clean already, and then the column is returned as it is instead of
/// being copied (the raw events' ids were a tenth of a full run's cleaning).
fn trimmed(array: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    let Some(strings) = array.as_string_opt::<i32>() else {
        return exec_err!("trimmed expects a string, got {}", array.data_type());
    };
    let (offsets, bytes) = (strings.value_offsets(), strings.value_data());
    let clean = (0..strings.len()).all(|i| {
        let value = &bytes[offsets[i] as usize..offsets[i + 1] as usize];
        strings.is_null(i)
            || value
                .first()
                .zip(value.last())
                .is_some_and(|(&first, &last)| first != b' ' && last != b' ')
    });
    if clean {
        return Ok(Arc::clone(array));
    }
    let cleaned: StringArray = strings
        .iter()
        .map(|s| s.map(|s| s.trim_matches(' ')).filter(|s| !s.is_empty()))
        .collect();
    Ok(Arc::new(cleaned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;

    fn dates(days: &[Option<i32>]) -> Arc<dyn Array> {
        Arc::new(Date32Array::from(days.to_vec()))
    }

    fn days_of(array: &Arc<dyn Array>) -> Vec<Option<i32>> {
        array.as_primitive::<Date32Type>().iter().collect()
    }

    #[test]
    fn year_month_names_the_month_across_year_ends() {
        // 2025-12-31 is day 20453, 2026-01-01 day 20454; 1969-12-31 is day -1.
        let texts = year_month(&dates(&[
            Some(20_453),
            Some(20_454),
            None,
            Some(20_453),
            Some(-1),
            Some(0),
        ]))
        .expect("dates");
        let texts: Vec<Option<&str>> = texts.as_string::<i32>().iter().collect();
        assert_eq!(
            texts,
            [
                Some("2025-12"),
                Some("2026-01"),
                None,
                Some("2025-12"),
                Some("1969-12"),
                Some("1970-01")
            ]
        );
    }

    #[test]
    fn days_after_adds_days_and_keeps_nulls() {
        // 2024-02-28 is day 19781: one day on is the leap day, two is March 1st.
        let shifted = days_after(
            &dates(&[Some(19_781), Some(19_781), None, Some(0)]),
            &(Arc::new(arrow::array::Int64Array::from(vec![1, 2, 7, -1])) as Arc<dyn Array>),
        )
        .expect("dates and days");
        assert_eq!(
            days_of(&shifted),
            [Some(19_782), Some(19_783), None, Some(-1)]
        );
    }

    #[test]
    fn week_start_is_the_monday_of_the_iso_week() {
        // 1970-01-01 (0) was a Thursday, its Monday 1969-12-29 (-3); 2026-03-01 (20513) was a
        // Sunday, its Monday 2026-02-23 (20507); a Monday is its own week's start.
        let mondays =
            week_start(&dates(&[Some(0), Some(20_513), Some(20_507), None])).expect("dates");
        assert_eq!(
            days_of(&mondays),
            [Some(-3), Some(20_507), Some(20_507), None]
        );
    }

    #[test]
    fn month_start_is_the_first_of_the_month_in_any_year() {
        // 2024-02-29 (19782) -> 2024-02-01 (19754); 1970-01-01 (0) is its own; 0001-01-15
        // (-719148) -> 0001-01-01 (-719162), long before timestamps can go.
        let firsts =
            month_start(&dates(&[Some(19_782), Some(0), Some(-719_148), None])).expect("dates");
        assert_eq!(
            days_of(&firsts),
            [Some(19_754), Some(0), Some(-719_162), None]
        );
    }

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
        // A slice reads its own rows.
        let sliced = has_text(&input.slice(3, 2)).expect("strings");
        assert_eq!(sliced.iter().collect::<Vec<_>>(), [Some(true), Some(true)]);
    }

    fn texts(array: &Arc<dyn Array>) -> Vec<Option<String>> {
        array
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    }

    #[test]
    fn trimmed_drops_surrounding_spaces_and_blanks_like_nullif_trim() {
        let input: Arc<dyn Array> = Arc::new(StringArray::from(vec![
            None,
            Some(""),
            Some("   "),
            Some(" a b "),
            Some("\tx"),
            Some("c"),
        ]));
        let got = texts(&trimmed(&input).expect("strings"));
        let want = [None, None, None, Some("a b"), Some("\tx"), Some("c")];
        assert_eq!(got, want.map(|s| s.map(str::to_string)));
    }

    #[test]
    fn trimmed_returns_a_clean_column_as_it_is() {
        let input: Arc<dyn Array> =
            Arc::new(StringArray::from(vec![Some("e1"), None, Some("e 2")]));
        let got = trimmed(&input).expect("strings");
        assert!(Arc::ptr_eq(&got, &input), "a clean column is not copied");
        // A clean slice of a column that is not clean elsewhere.
        let dirty: Arc<dyn Array> = Arc::new(StringArray::from(vec![" x", "y", "z "]));
        let middle = dirty.slice(1, 1);
        assert_eq!(
            texts(&trimmed(&middle).expect("strings")),
            [Some("y".to_string())]
        );
        assert_eq!(
            texts(&trimmed(&dirty).expect("strings")),
            ["x", "y", "z"].map(|s| Some(s.to_string()))
        );
    }
}
