//! Filters and functions for templates, so analysts' sections format numbers and dates the way
//! the rest of the report does, in the report's language (read from the context's `lang`):
//!
//! - `x|num` / `x|num(1)`: 1,234 / 1.234,5;  `x|pct` / `x|pct(0)`: a fraction as 12.3%;
//! - `x|date`: 22 Nov 2026 / 22.11.2026;  `x|month`: November 2026;
//! - `bar_chart(rows, label="col", value="col", title="...", percent=false)`: horizontal bars
//!   as inline SVG from a table's rows.
//!
//! A missing value (none) shows as "–" rather than failing the report.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use super::charts::{self, Bar};
use super::i18n::{self, Lang};

const MISSING: &str = "–";

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("num", num);
    env.add_filter("pct", pct);
    env.add_filter("date", date);
    env.add_filter("month", month);
    env.add_function("bar_chart", bar_chart);
}

fn lang(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().map(Lang::parse))
        .unwrap_or(Lang::En)
}

fn number_of(value: &Value) -> Result<Option<f64>, Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(None);
    }
    if let Some(text) = value.as_str() {
        return text.trim().parse::<f64>().map(Some).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("expected a number, got the text {text:?}"),
            )
        });
    }
    f64::try_from(value.clone()).map(Some)
}

fn num(state: &State, value: Value, decimals: Option<usize>) -> Result<String, Error> {
    Ok(number_of(&value)?.map_or_else(
        || MISSING.to_string(),
        |v| i18n::number(v, decimals.unwrap_or(0), lang(state)),
    ))
}

fn pct(state: &State, value: Value, decimals: Option<usize>) -> Result<String, Error> {
    Ok(number_of(&value)?.map_or_else(
        || MISSING.to_string(),
        |v| i18n::percent(v, decimals.unwrap_or(1), lang(state)),
    ))
}

fn date(state: &State, value: Value) -> String {
    value
        .as_str()
        .and_then(i18n::parse_date)
        .map_or_else(|| MISSING.to_string(), |d| i18n::date(d, lang(state)))
}

fn month(state: &State, value: Value) -> String {
    value
        .as_str()
        .and_then(i18n::parse_date)
        .map_or_else(|| MISSING.to_string(), |d| i18n::month(d, lang(state)))
}

fn bar_chart(state: &State, rows: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let label_col: &str = kwargs.get("label")?;
    let value_col: &str = kwargs.get("value")?;
    let title: Option<&str> = kwargs.get("title")?;
    let percent: Option<bool> = kwargs.get("percent")?;
    kwargs.assert_all_used()?;
    let lang = lang(state);
    let mut bars = Vec::new();
    for row in rows.try_iter()? {
        let value = number_of(&row.get_attr(value_col)?)?;
        let label = row.get_attr(label_col)?;
        bars.push(Bar {
            label: label
                .as_str()
                .map_or_else(|| label.to_string(), str::to_string),
            value: value.unwrap_or(0.0),
            value_text: value.map_or_else(
                || MISSING.to_string(),
                |v| {
                    if percent.unwrap_or(false) {
                        i18n::percent(v, 1, lang)
                    } else {
                        i18n::number(v, 0, lang)
                    }
                },
            ),
            class: "s-accent".into(),
        });
    }
    Ok(Value::from_safe_string(charts::bar_chart(
        title.unwrap_or(value_col),
        &bars,
    )))
}
