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
//! - `lower_trim(s)` and `upper_trim(s)`: `lower(trim(s))` and `upper(trim(s))`, keeping the
//!   values that are clean already instead of building every string anew (most batches of
//!   channels hold a few that are not, so a whole-column shortcut alone would rarely apply).
//!   The cleaning runs them on the channel, touchpoint and country of every row read.
//! - `days_after(d, n)`: the date `n` days after `d` (`d + interval 'n days'`),
//!   `week_start(d)`: the Monday of `d`'s ISO week (`date_trunc('week', d)` as a date), and
//!   `month_start(d)`: the first of `d`'s month. On dates as day counts, where the interval and
//!   `date_trunc` forms go through timestamps per row (and fail before 1677): the stickiness and
//!   lifecycle counters run them on every active day.
//! - `utc_date(t)`: the UTC calendar day of the instant `t`, `cast(t as date)` for a UTC
//!   timestamp, as a division of its microseconds instead of building a zoned date-time per
//!   row: the cleaning runs it on every event read.
//! - `id_hash(s)`: a 126-bit hash of `s` (two seeded XXH64 lanes) as a `decimal(38, 0)`, null
//!   for null. Grouping and joining ten million event ids by it costs a fraction of doing so by
//!   the strings; two different ids sharing a hash among ten million is about as likely as
//!   1 in 10^23. Not stable across cxpipe versions: for within-run work, never stored.
//! - `valid_score(x, lo, hi)`: `x` as an integer when it is a whole number from `lo` to `hi`,
//!   else null (`case when x between lo and hi and x = trunc(x) then cast(x as int) end` in one
//!   pass, without CASE's filtering and scattering of mostly-null columns). The cleaning runs it
//!   on each score of every row read; its `is null` on a score that was there counts the
//!   out-of-range ones.
//! - `year_month(d)`: `d`'s month as text, `2026-11` (`to_char(d, '%Y-%m')` without formatting
//!   each date through chrono): what a `partition_by: month(col)` model's files are named by.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, Date32Array, Int32Array, StringViewArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
use chrono::Datelike;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// The functions, ready to register with a session or a function registry.
pub fn all() -> Vec<ScalarUDF> {
    use arrow::datatypes::TimeUnit;
    let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    vec![
        // The string functions take views, the raw files' strings as read; other string types
        // are cast to views, other timestamps to UTC microseconds, by the planner.
        unary_udf(
            "has_text",
            DataType::Utf8View,
            DataType::Boolean,
            |strings| Ok(Arc::new(has_text(strings)?)),
        ),
        unary_udf("trimmed", DataType::Utf8View, DataType::Utf8View, trimmed),
        unary_udf(
            "lower_trim",
            DataType::Utf8View,
            DataType::Utf8View,
            |strings| recased(strings, Case::Lower),
        ),
        unary_udf(
            "upper_trim",
            DataType::Utf8View,
            DataType::Utf8View,
            |strings| recased(strings, Case::Upper),
        ),
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
        unary_udf(
            "month_start",
            DataType::Date32,
            DataType::Date32,
            month_start,
        ),
        unary_udf("week_start", DataType::Date32, DataType::Date32, week_start),
        unary_udf("utc_date", utc, DataType::Date32, utc_date),
        unary_udf(
            "id_hash",
            DataType::Utf8View,
            DataType::Decimal128(38, 0),
            id_hash,
        ),
        unary_udf("year_month", DataType::Date32, DataType::Utf8, year_month),
        create_udf(
            "valid_score",
            vec![DataType::Float64, DataType::Int64, DataType::Int64],
            DataType::Int32,
            Volatility::Immutable,
            Arc::new(valid_score),
        ),
    ]
}

/// A one-argument function's work on an array of its argument.
type OnArray = fn(&Arc<dyn Array>) -> Result<Arc<dyn Array>>;

/// A function of one argument of type `input`, computed by `f` on arrays (see [`on_arrays`]).
fn unary_udf(name: &'static str, input: DataType, output: DataType, f: OnArray) -> ScalarUDF {
    create_udf(
        name,
        vec![input],
        output,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            on_arrays(args, |arrays| match arrays {
                [array] => f(array),
                _ => exec_err!("{name} takes one argument"),
            })
        }),
    )
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

fn valid_score(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let [
        score,
        ColumnarValue::Scalar(ScalarValue::Int64(Some(lo))),
        ColumnarValue::Scalar(ScalarValue::Int64(Some(hi))),
    ] = args
    else {
        return exec_err!(
            "valid_score takes a score and two whole numbers as its bounds: valid_score(nps, 0, 10)"
        );
    };
    let (lo, hi) = (*lo as f64, *hi as f64);
    // NaN and the infinities fail the comparisons and come out null, as in the SQL form.
    let whole_in_range = move |x: f64| (x >= lo && x <= hi && x == x.trunc()).then_some(x as i32);
    match score {
        ColumnarValue::Array(scores) => {
            let Some(scores) = scores.as_primitive_opt::<Float64Type>() else {
                return exec_err!("valid_score expects a number");
            };
            let valid: Int32Array = scores.unary_opt(whole_in_range);
            Ok(ColumnarValue::Array(Arc::new(valid)))
        }
        ColumnarValue::Scalar(ScalarValue::Float64(x)) => Ok(ColumnarValue::Scalar(
            ScalarValue::Int32(x.and_then(whole_in_range)),
        )),
        ColumnarValue::Scalar(_) => exec_err!("valid_score expects a number"),
    }
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

fn utc_date(instants: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    let Some(instants) = instants.as_primitive_opt::<arrow::datatypes::TimestampMicrosecondType>()
    else {
        return exec_err!("utc_date expects a timestamp, got {}", instants.data_type());
    };
    const MICROS_PER_DAY: i64 = 86_400_000_000;
    // i64 microseconds span ±292,000 years, whose day counts all fit in an i32.
    let days: Date32Array = instants.unary(|t| t.div_euclid(MICROS_PER_DAY) as i32);
    Ok(Arc::new(days))
}

fn id_hash(strings: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    let views = string_views(strings, "id_hash")?;
    let strings = views.as_string_view();
    // 126 bits: |value| < 2^126 < 10^38, a valid decimal(38, 0).
    const MASK: u64 = u64::MAX >> 2;
    let values: Vec<i128> = (0..strings.len())
        .map(|i| {
            // A null's slot holds 0: its view may point anywhere.
            if strings.is_null(i) {
                return 0;
            }
            let s = strings.value(i).as_bytes();
            let (high, low) = (xxh64(s, 0), xxh64(s, SECOND_SEED));
            (i128::from(high & MASK) << 64) | i128::from(low)
        })
        .collect();
    let hashes = arrow::array::Decimal128Array::new(values.into(), strings.nulls().cloned())
        .with_precision_and_scale(38, 0)?;
    Ok(Arc::new(hashes))
}

/// The second lane's seed: the fractional part of the golden ratio.
const SECOND_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// XXH64 (Yann Collet's xxHash, 64-bit variant), as specified in xxhash's doc/xxhash_spec.md.
fn xxh64(input: &[u8], seed: u64) -> u64 {
    const P1: u64 = 0x9e37_79b1_85eb_ca87;
    const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;
    const P3: u64 = 0x1656_67b1_9e37_79f9;
    const P4: u64 = 0x85eb_ca77_c2b2_ae63;
    const P5: u64 = 0x27d4_eb2f_1656_67c5;
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let round = |acc: u64, lane: u64| {
        acc.wrapping_add(lane.wrapping_mul(P2))
            .rotate_left(31)
            .wrapping_mul(P1)
    };
    let merge = |acc: u64, v: u64| (acc ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4);
    let mut rest = input;
    let mut hash = if input.len() >= 32 {
        let mut v = [
            seed.wrapping_add(P1).wrapping_add(P2),
            seed.wrapping_add(P2),
            seed,
            seed.wrapping_sub(P1),
        ];
        while rest.len() >= 32 {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, word(&rest[i * 8..i * 8 + 8]));
            }
            rest = &rest[32..];
        }
        let mut acc = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for lane in v {
            acc = merge(acc, lane);
        }
        acc
    } else {
        seed.wrapping_add(P5)
    };
    hash = hash.wrapping_add(input.len() as u64);
    while rest.len() >= 8 {
        hash = (hash ^ round(0, word(&rest[..8])))
            .rotate_left(27)
            .wrapping_mul(P1)
            .wrapping_add(P4);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        hash = (hash ^ word(&rest[..4]).wrapping_mul(P1))
            .rotate_left(23)
            .wrapping_mul(P2)
            .wrapping_add(P3);
        rest = &rest[4..];
    }
    for &byte in rest {
        hash = (hash ^ u64::from(byte).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(P2);
    hash ^= hash >> 29;
    hash = hash.wrapping_mul(P3);
    hash ^ (hash >> 32)
}

/// Null and blank alike are false, so a validity check needs no coalesce.
fn has_text(array: &Arc<dyn Array>) -> Result<BooleanArray> {
    let views = string_views(array, "has_text")?;
    let strings = views.as_string_view();
    // Most values answer at their first byte.
    let flags = BooleanBuffer::collect_bool(strings.len(), |i| {
        strings.is_valid(i) && strings.value(i).bytes().any(|b| b != b' ')
    });
    Ok(BooleanArray::new(flags, None))
}

/// `nullif(trim(s), '')`: the values without the spaces around them, blank ones null. Values
/// read are nearly always clean already, and then the column is returned as it is instead of
/// being copied (the raw events' ids were a tenth of a full run's cleaning).
fn trimmed(array: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    let views = string_views(array, "trimmed")?;
    let strings = views.as_string_view();
    let clean = |s: &str| {
        let b = s.as_bytes();
        b.first()
            .zip(b.last())
            .is_some_and(|(&first, &last)| first != b' ' && last != b' ')
    };
    if every_value(strings, clean) {
        return Ok(views);
    }
    let cleaned: StringViewArray = strings
        .iter()
        .map(|s| s.map(|s| s.trim_matches(' ')).filter(|s| !s.is_empty()))
        .collect();
    Ok(Arc::new(cleaned))
}

/// `array` as views, the type the string functions are declared to take: the planner casts
/// other string types before calling them, so only a direct caller's `Utf8` is cast here.
fn string_views(array: &Arc<dyn Array>, function: &str) -> Result<Arc<dyn Array>> {
    match array.data_type() {
        DataType::Utf8View => Ok(Arc::clone(array)),
        DataType::Utf8 | DataType::LargeUtf8 => {
            Ok(arrow::compute::cast(array, &DataType::Utf8View)?)
        }
        other => exec_err!("{function} expects a string, got {other}"),
    }
}

/// Whether `test` holds for every value that is not null.
fn every_value(strings: &StringViewArray, test: impl Fn(&str) -> bool) -> bool {
    (0..strings.len()).all(|i| strings.is_null(i) || test(strings.value(i)))
}

/// Which way [`recased`] folds letters.
#[derive(Clone, Copy)]
enum Case {
    Lower,
    Upper,
}

/// `lower(trim(s))` or `upper(trim(s))`. A value that is ASCII, unpadded and already
/// in the case is kept (a whole clean column comes back as it is); only the others are
/// folded, with Unicode's rules as `lower` and `upper` have them.
fn recased(array: &Arc<dyn Array>, case: Case) -> Result<Arc<dyn Array>> {
    let views = string_views(array, "lower_trim and upper_trim")?;
    let strings = views.as_string_view();
    let wrong_case = |b: &u8| match case {
        Case::Lower => b.is_ascii_uppercase(),
        Case::Upper => b.is_ascii_lowercase(),
    };
    let clean = |s: &str| {
        let b = s.as_bytes();
        b.first() != Some(&b' ')
            && b.last() != Some(&b' ')
            && b.iter().all(|b| b.is_ascii() && !wrong_case(b))
    };
    if every_value(strings, clean) {
        return Ok(views);
    }
    let mut out = arrow::array::StringViewBuilder::with_capacity(strings.len());
    for value in strings.iter() {
        match value {
            None => out.append_null(),
            Some(s) if clean(s) => out.append_value(s),
            Some(s) => {
                let s = s.trim_matches(' ');
                out.append_value(match case {
                    Case::Lower => s.to_lowercase(),
                    Case::Upper => s.to_uppercase(),
                });
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::Int32Type;

    fn dates(days: &[Option<i32>]) -> Arc<dyn Array> {
        Arc::new(Date32Array::from(days.to_vec()))
    }

    fn days_of(array: &Arc<dyn Array>) -> Vec<Option<i32>> {
        array.as_primitive::<Date32Type>().iter().collect()
    }

    #[test]
    fn utc_date_is_the_day_of_the_instant_before_and_after_1970() {
        // 2026-01-01T00:00:00Z is day 20454; a microsecond earlier is still 2025-12-31;
        // 1969-12-31T23:59:59.999999Z is day -1.
        let instants: Arc<dyn Array> = Arc::new(
            arrow::array::TimestampMicrosecondArray::from(vec![
                Some(20_454 * 86_400_000_000),
                Some(20_454 * 86_400_000_000 - 1),
                Some(-1),
                None,
            ])
            .with_timezone("UTC"),
        );
        assert_eq!(
            days_of(&utc_date(&instants).expect("timestamps")),
            [Some(20_454), Some(20_453), Some(-1), None]
        );
    }

    #[test]
    fn xxh64_matches_the_reference_vectors() {
        // From xxhash's own test suite (and `xxhsum -H1`).
        assert_eq!(xxh64(b"", 0), 0xef46_db37_51d8_e999);
        assert_eq!(xxh64(b"a", 0), 0xd24e_c4f1_a98c_6e5b);
        assert_eq!(xxh64(b"abc", 0), 0x44bc_2cf5_ad77_0999);
        assert_eq!(
            xxh64(b"Nobody inspects the spammish repetition", 0),
            0xfbce_a83c_8a37_8bf1
        );
    }

    #[test]
    fn valid_score_keeps_whole_numbers_in_range_and_nulls_the_rest() {
        let scores = Float64Array::from(vec![
            Some(0.0),
            Some(10.0),
            Some(-0.0),
            Some(7.0),
            Some(11.0),
            Some(-1.0),
            Some(6.5),
            Some(f64::NAN),
            Some(f64::INFINITY),
            None,
        ]);
        let args = [
            ColumnarValue::Array(Arc::new(scores)),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(0))),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(10))),
        ];
        let ColumnarValue::Array(valid) = valid_score(&args).expect("valid_score") else {
            panic!("an array of scores gives an array");
        };
        let valid: Vec<Option<i32>> = valid.as_primitive::<Int32Type>().iter().collect();
        assert_eq!(
            valid,
            vec![
                Some(0),
                Some(10),
                Some(0),
                Some(7),
                None,
                None,
                None,
                None,
                None,
                None
            ]
        );
        let bounds = [
            ColumnarValue::Scalar(ScalarValue::Float64(Some(3.0))),
            ColumnarValue::Array(Arc::new(Int64Array::from(vec![1]))),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(5))),
        ];
        let err = valid_score(&bounds).expect_err("bounds must be literals");
        assert!(err.to_string().contains("valid_score(nps, 0, 10)"), "{err}");
    }

    #[test]
    fn id_hash_tells_ids_apart_and_keeps_nulls() {
        let ids: Arc<dyn Array> = Arc::new(StringArray::from(vec![
            Some("e-1"),
            Some("e-2"),
            None,
            Some("e-1"),
            Some("a much longer event id, past the 32 bytes of a stripe"),
        ]));
        let [plain, views] = both_layouts(&ids).map(|ids| id_hash(&ids).expect("strings"));
        assert_eq!(
            plain.as_ref(),
            views.as_ref(),
            "an id hashes alike in both layouts"
        );
        let hashes = views.as_primitive::<arrow::datatypes::Decimal128Type>();
        assert_eq!(hashes.value(0), hashes.value(3));
        assert_ne!(hashes.value(0), hashes.value(1));
        assert!(hashes.is_null(2));
        assert!(hashes.iter().flatten().all(|h| h.unsigned_abs() < 1 << 126));
        assert!(hashes.validate_decimal_precision(38).is_ok());
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
        let input: Arc<dyn Array> = Arc::new(input);
        for input in both_layouts(&input) {
            let flags: Vec<_> = has_text(&input).expect("strings").iter().collect();
            // A tab is text: trim() removes spaces only, so `nullif(trim('\t'), '')` is not null.
            let expected = [false, false, false, true, true, true].map(Some);
            assert_eq!(flags, expected);
            // A slice reads its own rows.
            let sliced = has_text(&input.slice(3, 2)).expect("strings");
            assert_eq!(sliced.iter().collect::<Vec<_>>(), [Some(true), Some(true)]);
        }
    }

    fn texts(array: &Arc<dyn Array>) -> Vec<Option<String>> {
        let utf8 = arrow::compute::cast(array, &DataType::Utf8).expect("a string column");
        utf8.as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    }

    /// The column as `Utf8` and as `Utf8View`: the functions take views (the raw files' strings
    /// as read), and a direct caller's `Utf8` must give the same values.
    fn both_layouts(array: &Arc<dyn Array>) -> [Arc<dyn Array>; 2] {
        let view = arrow::compute::cast(array, &DataType::Utf8View).expect("a string column");
        [Arc::clone(array), view]
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
            Some("  a value longer than a view's twelve inline bytes "),
        ]));
        for input in both_layouts(&input) {
            let got = trimmed(&input).expect("strings");
            assert_eq!(got.data_type(), &DataType::Utf8View, "views, as declared");
            let want = [
                None,
                None,
                None,
                Some("a b"),
                Some("\tx"),
                Some("c"),
                Some("a value longer than a view's twelve inline bytes"),
            ];
            assert_eq!(texts(&got), want.map(|s| s.map(str::to_string)));
        }
    }

    #[test]
    fn lower_trim_and_upper_trim_fold_like_lower_and_upper_of_trim() {
        let input: Arc<dyn Array> = Arc::new(StringArray::from(vec![
            Some("web"),
            Some(" Web "),
            None,
            Some("   "),
            Some("EMAIL"),
            Some("\tapp"),
            Some("Ärger"),
            Some("a clean value longer than twelve bytes"),
        ]));
        for input in both_layouts(&input) {
            let lower = recased(&input, Case::Lower).expect("strings");
            assert_eq!(lower.data_type(), &DataType::Utf8View);
            let want = [
                Some("web"),
                Some("web"),
                None,
                Some(""),
                Some("email"),
                Some("\tapp"),
                Some("ärger"),
                Some("a clean value longer than twelve bytes"),
            ];
            assert_eq!(texts(&lower), want.map(|s| s.map(str::to_string)));
            let upper = recased(&input, Case::Upper).expect("strings");
            let want = [
                Some("WEB"),
                Some("WEB"),
                None,
                Some(""),
                Some("EMAIL"),
                Some("\tAPP"),
                Some("ÄRGER"),
                Some("A CLEAN VALUE LONGER THAN TWELVE BYTES"),
            ];
            assert_eq!(texts(&upper), want.map(|s| s.map(str::to_string)));
        }
        // A clean column of views is not copied.
        let clean: Arc<dyn Array> = Arc::new(StringViewArray::from(vec![Some("DE"), None]));
        let got = recased(&clean, Case::Upper).expect("strings");
        assert!(Arc::ptr_eq(&got, &clean), "a clean column is not copied");
    }

    #[test]
    fn trimmed_returns_a_clean_column_as_it_is() {
        let clean: Arc<dyn Array> =
            Arc::new(StringArray::from(vec![Some("e1"), None, Some("e 2")]));
        let dirty: Arc<dyn Array> = Arc::new(StringArray::from(vec![" x", "y", "z "]));
        // A clean column of views, the type the function takes, is not copied; as `Utf8` it
        // comes back with the same values.
        let [plain, views] = both_layouts(&clean);
        let got = trimmed(&views).expect("strings");
        assert!(Arc::ptr_eq(&got, &views), "a clean column is not copied");
        assert_eq!(texts(&trimmed(&plain).expect("strings")), texts(&plain));
        for dirty in both_layouts(&dirty) {
            // A clean slice of a column that is not clean elsewhere.
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
}
