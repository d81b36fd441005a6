//! Turns the run's tables into the sections of the executive report: which month is compared
//! with which, what is suppressed as too small to be a fact, which change is good or bad, the
//! sentences and the charts. Numbers are formatted here in the report's language, so templates
//! only lay out text. A section whose table is missing (its model failed) is `none`, and the
//! template says so instead of failing the whole report.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use minijinja::Value;
use serde::Serialize;
use serde_json::Value as Json;

use super::charts::{self, Bar, Series};
use super::i18n::{self, Lang, label};
use super::pii;
use super::values::TableData;

type Row = BTreeMap<String, Json>;

/// A cohort's size and its rate per month number.
type CohortRates = (f64, BTreeMap<i64, f64>);

/// Everything the templates need beyond the raw tables.
#[derive(Debug, Serialize)]
pub struct Report {
    pub period: Option<Period>,
    pub min_sample: usize,
    pub suppressed_note: String,
    pub kpis: Option<Vec<Kpi>>,
    pub retention: Option<Retention>,
    pub cohorts: Option<Cohorts>,
    pub engagement: Option<Engagement>,
    pub funnel: Option<Funnel>,
    pub channels: Option<Channels>,
    pub voices: Option<Vec<Voice>>,
    pub quality: Quality,
}

/// The months the headline compares.
#[derive(Debug, Serialize)]
pub struct Period {
    pub month: String,
    pub previous: String,
}

/// A chart with what makes it accessible: a title, a sentence saying what it shows, and the
/// same numbers as a table.
#[derive(Debug, Serialize)]
pub struct Figure {
    pub title: String,
    pub summary: String,
    pub svg: Value,
    pub table: DataTable,
}

/// A plain table of formatted cells; the first column heads its row.
#[derive(Debug, Serialize, Default)]
pub struct DataTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct Kpi {
    pub key: &'static str,
    pub label: String,
    pub value: String,
    pub previous: String,
    pub change: Option<String>,
    /// up, down or flat.
    pub direction: &'static str,
    /// good, bad or flat.
    pub tone: &'static str,
    /// "1,234 answers", when the metric rests on a sample worth stating.
    pub sample: Option<String>,
    pub suppressed: bool,
    pub spark: Value,
}

#[derive(Debug, Serialize)]
pub struct Retention {
    pub finding: String,
    pub figure: Figure,
    /// Per class: months 1-3 repurchase rate and customers behind it.
    pub classes: Vec<ClassStat>,
}

#[derive(Debug, Serialize)]
pub struct ClassStat {
    pub name: String,
    pub class: &'static str,
    pub rate: String,
    pub customers: String,
}

#[derive(Debug, Serialize)]
pub struct Cohorts {
    pub purchase: Heatmap,
    pub activity: Heatmap,
}

#[derive(Debug, Serialize)]
pub struct Heatmap {
    pub title: String,
    pub summary: String,
    pub columns: Vec<String>,
    pub rows: Vec<HeatRow>,
}

#[derive(Debug, Serialize)]
pub struct HeatRow {
    pub cohort: String,
    pub size: String,
    pub cells: Vec<HeatCell>,
}

#[derive(Debug, Serialize)]
pub struct HeatCell {
    pub text: String,
    pub background: String,
    pub light: bool,
    /// The month is still running: the value will still rise.
    pub incomplete: bool,
    pub suppressed: bool,
    /// The cohort has not reached this month yet.
    pub empty: bool,
}

#[derive(Debug, Serialize)]
pub struct Engagement {
    pub tiers: Figure,
    pub stickiness: Option<Stickiness>,
    pub lifecycle: Option<Figure>,
}

#[derive(Debug, Serialize)]
pub struct Stickiness {
    pub date: String,
    pub dau: String,
    pub wau: String,
    pub mau: String,
    pub ratio: String,
}

#[derive(Debug, Serialize)]
pub struct Funnel {
    pub figure: Figure,
    /// The latest complete month with enough buyers.
    pub days_to_purchase: Option<DaysToPurchase>,
    pub monthly: DataTable,
}

#[derive(Debug, Serialize)]
pub struct DaysToPurchase {
    pub days: String,
    pub month: String,
}

#[derive(Debug, Serialize)]
pub struct Channels {
    pub month: String,
    pub columns: Vec<String>,
    pub rows: Vec<ChannelRow>,
}

#[derive(Debug, Serialize)]
pub struct ChannelRow {
    pub channel: String,
    pub total: bool,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Serialize)]
pub struct Cell {
    pub text: String,
    pub sample: Option<String>,
    pub tone: &'static str,
    pub suppressed: bool,
}

#[derive(Debug, Serialize)]
pub struct Voice {
    pub date: String,
    pub channel: String,
    pub scores: String,
    pub comment: String,
}

#[derive(Debug, Serialize)]
pub struct Quality {
    pub items: Vec<(String, String)>,
    pub run_date: String,
    pub generated_at: String,
    pub input: String,
    pub version: String,
    pub run_id: String,
    pub models: String,
    /// "36 passed, 0 warned, 0 failed"; empty when the project has no tests.
    pub tests: String,
    pub problems: Vec<(String, String)>,
}

/// What `build` needs to know about the run.
pub struct RunFacts<'a> {
    pub date: NaiveDate,
    pub generated_at: &'a str,
    pub input: &'a str,
    pub version: &'a str,
    pub id: &'a str,
    /// (model, status, error)
    pub models: Vec<(String, String, Option<String>)>,
    /// (path, reason) of input files left out.
    pub skipped_files: Vec<(String, String)>,
    /// (test, status, failing rows)
    pub tests: Vec<(String, String, Option<u64>)>,
}

pub struct Builder<'a> {
    tables: &'a BTreeMap<String, TableData>,
    lang: Lang,
    min: f64,
    run_date: NaiveDate,
}

/// The tables the report's own sections read; loaded whatever their size.
pub const TABLES: &[&str] = &[
    "rpt_kpis_monthly",
    "experience_retention",
    "retention_monthly",
    "engagement_tiers",
    "stickiness_daily",
    "lifecycle_weekly",
    "journey_funnel",
    "experience_quality_monthly",
    "rpt_verbatims",
    "data_quality",
];

pub fn build(
    tables: &BTreeMap<String, TableData>,
    lang: Lang,
    min_sample: usize,
    run: &RunFacts<'_>,
) -> Report {
    let b = Builder {
        tables,
        lang,
        min: min_sample as f64,
        run_date: run.date,
    };
    let (latest, previous) = b.period();
    Report {
        period: Some(Period {
            month: i18n::month(latest, lang),
            previous: i18n::month(previous, lang),
        }),
        min_sample,
        suppressed_note: label("suppressed_note", lang).replace("{n}", &min_sample.to_string()),
        kpis: b.kpis(latest, previous),
        retention: b.retention(),
        cohorts: b.cohorts(),
        engagement: b.engagement(),
        funnel: b.funnel(),
        channels: b.channels(latest),
        voices: b.voices(),
        quality: b.quality(run),
    }
}

fn num(row: &Row, col: &str) -> Option<f64> {
    row.get(col)
        .and_then(Json::as_f64)
        .filter(|v| v.is_finite())
}

fn text<'r>(row: &'r Row, col: &str) -> Option<&'r str> {
    row.get(col).and_then(Json::as_str)
}

fn day(row: &Row, col: &str) -> Option<NaiveDate> {
    text(row, col).and_then(i18n::parse_date)
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap_or(d)
}

fn svg(markup: String) -> Value {
    Value::from_safe_string(markup)
}

/// Which way is better for a metric.
#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
}

/// How a KPI's value and change are written.
#[derive(Clone, Copy)]
enum Kind {
    /// A count; change in percent.
    Count,
    /// An amount; change in percent.
    Money,
    /// A score with decimals; change in its own units (points).
    Score(usize),
    /// A fraction; shown in percent, change in percentage points.
    Rate,
}

struct KpiDef {
    key: &'static str,
    column: &'static str,
    sample: Option<(&'static str, &'static str)>,
    better: Better,
    kind: Kind,
}

const KPIS: &[KpiDef] = &[
    KpiDef {
        key: "active_customers",
        column: "active_customers",
        sample: None,
        better: Better::Higher,
        kind: Kind::Count,
    },
    KpiDef {
        key: "net_revenue",
        column: "net_revenue",
        sample: None,
        better: Better::Higher,
        kind: Kind::Money,
    },
    KpiDef {
        key: "nps",
        column: "nps",
        sample: Some(("nps_responses", "answers")),
        better: Better::Higher,
        kind: Kind::Score(0),
    },
    KpiDef {
        key: "csat",
        column: "csat",
        sample: Some(("csat_responses", "answers")),
        better: Better::Higher,
        kind: Kind::Score(1),
    },
    KpiDef {
        key: "ces",
        column: "ces_avg",
        sample: Some(("ces_responses", "answers")),
        better: Better::Higher,
        kind: Kind::Score(2),
    },
    KpiDef {
        key: "failed_search_rate",
        column: "failed_search_rate",
        sample: Some(("searches", "searches")),
        better: Better::Lower,
        kind: Kind::Rate,
    },
    KpiDef {
        key: "resolution_rate",
        column: "resolution_rate",
        sample: Some(("support_contacts", "contacts")),
        better: Better::Higher,
        kind: Kind::Rate,
    },
    KpiDef {
        key: "month1_retention",
        column: "month1_purchase_retention",
        sample: Some(("month1_cohort_customers", "customers")),
        better: Better::Higher,
        kind: Kind::Rate,
    },
];

/// The change between two values as shown, and whether it rounds to nothing.
pub fn change_text(
    current: f64,
    previous: f64,
    kind_is_relative: bool,
    decimals: usize,
    lang: Lang,
) -> (String, bool) {
    if kind_is_relative {
        if previous.abs() < f64::EPSILON {
            return ("–".into(), true);
        }
        let rel = (current - previous) / previous.abs();
        let text = i18n::signed(rel * 100.0, 1, lang);
        let flat = text.starts_with('±');
        let unit = if lang == Lang::De { "\u{a0}%" } else { "%" };
        (format!("{text}{unit}"), flat)
    } else {
        let text = i18n::signed(current - previous, decimals, lang);
        let flat = text.starts_with('±');
        let unit = if lang == Lang::De {
            "\u{a0}Pkt."
        } else {
            "\u{a0}pts"
        };
        (format!("{text}{unit}"), flat)
    }
}

impl Builder<'_> {
    fn rows(&self, table: &str) -> Option<&[Row]> {
        self.tables.get(table).map(|t| t.rows.as_slice())
    }

    fn n(&self, v: f64) -> String {
        i18n::integer(v, self.lang)
    }

    fn pct(&self, v: f64) -> String {
        i18n::percent(v, 1, self.lang)
    }

    fn l(&self, key: &str) -> String {
        label(key, self.lang).to_string()
    }

    /// A calendar month is complete once its last day is on or before the run date.
    fn complete(&self, month: NaiveDate) -> bool {
        add_months(month_start(month), 1) <= self.run_date + chrono::Days::new(1)
    }

    /// The latest complete month and the one before.
    fn period(&self) -> (NaiveDate, NaiveDate) {
        let this = month_start(self.run_date);
        let latest = if self.complete(this) {
            this
        } else {
            this.checked_sub_months(Months::new(1)).unwrap_or(this)
        };
        let previous = latest.checked_sub_months(Months::new(1)).unwrap_or(latest);
        (latest, previous)
    }

    fn kpis(&self, latest: NaiveDate, previous: NaiveDate) -> Option<Vec<Kpi>> {
        let rows = self.rows("rpt_kpis_monthly")?;
        let by_month: BTreeMap<NaiveDate, &Row> = rows
            .iter()
            .filter_map(|r| day(r, "month").map(|m| (m, r)))
            .collect();
        let value_of = |def: &KpiDef, month: NaiveDate| -> (Option<f64>, Option<f64>) {
            let Some(row) = by_month.get(&month) else {
                return (None, None);
            };
            let sample = def.sample.map(|(col, _)| num(row, col).unwrap_or(0.0));
            let value = num(row, def.column);
            match sample {
                Some(n) if n < self.min => (None, Some(n)),
                _ => (value, sample),
            }
        };
        let spark_months: Vec<NaiveDate> = (0..12)
            .rev()
            .filter_map(|back| latest.checked_sub_months(Months::new(back)))
            .collect();
        let mut kpis = Vec::new();
        for def in KPIS {
            let (current, sample) = value_of(def, latest);
            let (before, _) = value_of(def, previous);
            let format = |v: f64| match def.kind {
                Kind::Count => self.n(v),
                Kind::Money => i18n::compact(v, self.lang),
                Kind::Score(d) => {
                    if def.key == "csat" {
                        i18n::percent(v / 100.0, d, self.lang)
                    } else {
                        i18n::number(v, d, self.lang)
                    }
                }
                Kind::Rate => self.pct(v),
            };
            let (change, direction, tone) = match (current, before) {
                (Some(c), Some(p)) => {
                    let (text, flat) = match def.kind {
                        Kind::Count | Kind::Money => change_text(c, p, true, 1, self.lang),
                        Kind::Score(d) => change_text(c, p, false, d, self.lang),
                        Kind::Rate => change_text(c * 100.0, p * 100.0, false, 1, self.lang),
                    };
                    let up = c > p;
                    let good = matches!(
                        (def.better, up),
                        (Better::Higher, true) | (Better::Lower, false)
                    );
                    if flat {
                        (Some(text), "flat", "flat")
                    } else {
                        (
                            Some(text),
                            if up { "up" } else { "down" },
                            if good { "good" } else { "bad" },
                        )
                    }
                }
                _ => (None, "flat", "flat"),
            };
            let sample_text = def.sample.and_then(|(_, unit)| {
                sample.map(|n| format!("{} {}", self.n(n), label(unit, self.lang)))
            });
            let spark_values: Vec<Option<f64>> =
                spark_months.iter().map(|m| value_of(def, *m).0).collect();
            let title = self.l(def.key);
            kpis.push(Kpi {
                key: def.key,
                label: title.clone(),
                value: current.map_or_else(|| "–".to_string(), format),
                previous: before.map_or_else(|| "–".to_string(), format),
                change,
                direction,
                tone,
                sample: sample_text,
                suppressed: current.is_none() && sample.is_some_and(|n| n < self.min),
                spark: svg(charts::sparkline(&title, &spark_values)),
            });
        }
        Some(kpis)
    }

    /// Pooled purchasing rate per experience class and month number, over complete cells only;
    /// None where fewer than the minimum customers stand behind it.
    fn class_rates(&self, rows: &[Row]) -> BTreeMap<(String, i64), (f64, f64)> {
        let mut pooled: BTreeMap<(String, i64), (f64, f64)> = BTreeMap::new();
        for row in rows {
            let (Some(cohort), Some(class), Some(n)) = (
                day(row, "cohort_month"),
                text(row, "experience_class"),
                num(row, "month_number"),
            ) else {
                continue;
            };
            let n = n as i64;
            if n < 0 || !self.complete(add_months(cohort, n as u32)) {
                continue;
            }
            let entry = pooled.entry((class.to_string(), n)).or_default();
            entry.0 += num(row, "purchasing_customers").unwrap_or(0.0);
            entry.1 += num(row, "cohort_customers").unwrap_or(0.0);
        }
        pooled
    }

    fn retention(&self) -> Option<Retention> {
        let rows = self.rows("experience_retention")?;
        let pooled = self.class_rates(rows);
        let rate = |class: &str, n: i64| -> Option<f64> {
            pooled
                .get(&(class.to_string(), n))
                .filter(|(_, size)| *size >= self.min && *size > 0.0)
                .map(|(buying, size)| buying / size)
        };
        let last_month = pooled
            .keys()
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
            .clamp(1, 12);
        let months: Vec<i64> = (1..=last_month).collect();
        let classes = ["good", "neutral", "poor"];
        let series: Vec<Series> = classes
            .iter()
            .map(|c| Series {
                name: self.l(&format!("class_{c}")),
                class: format!("s-{c}"),
                points: months.iter().map(|n| rate(c, *n)).collect(),
            })
            .collect();
        let max = series
            .iter()
            .flat_map(|s| s.points.iter().flatten())
            .copied()
            .fold(0.0, f64::max);
        let ticks: Vec<(f64, String)> = charts::nice_ticks(max, 4)
            .into_iter()
            .map(|t| (t, i18n::percent(t, 0, self.lang)))
            .collect();
        let x_labels: Vec<String> = months.iter().map(|n| n.to_string()).collect();
        let title = self.l("retention_chart");
        let chart = charts::line_chart(&title, &x_labels, &series, &ticks);

        // Months 1-3 pooled: the comparison the finding states.
        let early = |class: &str| -> Option<f64> {
            let (buying, size) = (1..=3).fold((0.0, 0.0), |acc, n| {
                pooled
                    .get(&(class.to_string(), n))
                    .map_or(acc, |(b, s)| (acc.0 + b, acc.1 + s))
            });
            (size >= self.min && size > 0.0).then(|| buying / size)
        };
        let finding = finding(early("good"), early("poor"), self.lang);
        let size = |class: &str| pooled.get(&(class.to_string(), 0)).map_or(0.0, |(_, s)| *s);
        let customers: f64 = classes.iter().map(|c| size(c)).sum();
        let at = |n: i64| -> String {
            let values: Vec<String> = series
                .iter()
                .map(|s| {
                    let v = usize::try_from(n - 1)
                        .ok()
                        .and_then(|i| s.points.get(i).copied().flatten());
                    format!(
                        "{} {}",
                        s.name.to_lowercase(),
                        v.map_or_else(|| "–".to_string(), |v| self.pct(v))
                    )
                })
                .collect();
            values.join(", ")
        };
        let summary = match self.lang {
            Lang::En => format!(
                "Month 1: {}. Month {last_month}: {}. Based on {} customers whose first 30 days are complete; points resting on fewer than {} customers are left out.",
                at(1),
                at(last_month),
                self.n(customers),
                self.min
            ),
            Lang::De => format!(
                "Monat 1: {}. Monat {last_month}: {}. Grundlage: {} Kunden mit abgeschlossenen ersten 30 Tagen; Punkte aus weniger als {} Kunden fehlen.",
                at(1),
                at(last_month),
                self.n(customers),
                self.min
            ),
        };
        let class_stats = classes
            .iter()
            .zip(&series)
            .map(|(c, s)| ClassStat {
                name: s.name.clone(),
                class: match *c {
                    "good" => "good",
                    "neutral" => "neutral",
                    _ => "poor",
                },
                rate: early(c).map_or_else(|| "–".to_string(), |v| self.pct(v)),
                customers: self.n(size(c)),
            })
            .collect();
        let mut table = DataTable {
            columns: vec![self.l("month_n")],
            rows: Vec::new(),
        };
        table.columns.extend(series.iter().map(|s| s.name.clone()));
        for (i, n) in months.iter().enumerate() {
            let mut cells = vec![n.to_string()];
            cells.extend(
                series
                    .iter()
                    .map(|s| s.points[i].map_or_else(|| "–".to_string(), |v| self.pct(v))),
            );
            table.rows.push(cells);
        }
        Some(Retention {
            finding,
            classes: class_stats,
            figure: Figure {
                title,
                summary,
                svg: svg(chart),
                table,
            },
        })
    }

    fn cohorts(&self) -> Option<Cohorts> {
        let rows = self.rows("retention_monthly")?;
        Some(Cohorts {
            purchase: self.heatmap(rows, "purchasing_rate", "purchase_heatmap"),
            activity: self.heatmap(rows, "active_rate", "activity_heatmap"),
        })
    }

    fn heatmap(&self, rows: &[Row], rate_col: &str, title_key: &str) -> Heatmap {
        let mut cohorts: BTreeMap<NaiveDate, CohortRates> = BTreeMap::new();
        for row in rows {
            let (Some(cohort), Some(n), Some(size)) = (
                day(row, "cohort_month"),
                num(row, "month_number"),
                num(row, "cohort_customers"),
            ) else {
                continue;
            };
            let entry = cohorts.entry(cohort).or_default();
            entry.0 = size;
            if let Some(rate) = num(row, rate_col) {
                entry.1.insert(n as i64, rate);
            }
        }
        let shown: Vec<(&NaiveDate, &CohortRates)> = cohorts.iter().rev().take(12).collect();
        let max_n = shown
            .iter()
            .flat_map(|(_, (_, m))| m.keys().copied())
            .max()
            .unwrap_or(0)
            .clamp(1, 12);
        let max_rate = shown
            .iter()
            .filter(|(_, (size, _))| *size >= self.min)
            .flat_map(|(_, (_, m))| m.iter().filter(|(n, _)| **n >= 1).map(|(_, r)| *r))
            .fold(0.0, f64::max);
        let mut out_rows = Vec::new();
        let mut best: Option<(f64, NaiveDate)> = None;
        let mut worst: Option<(f64, NaiveDate)> = None;
        for (cohort, (size, rates)) in shown.iter().rev() {
            let small = *size < self.min;
            let cells = (1..=max_n)
                .map(|n| {
                    let incomplete = !self.complete(add_months(**cohort, n as u32));
                    match rates.get(&n) {
                        None => HeatCell {
                            text: String::new(),
                            background: String::new(),
                            light: false,
                            incomplete: false,
                            suppressed: false,
                            empty: true,
                        },
                        Some(_) if small => HeatCell {
                            text: "–".into(),
                            background: String::new(),
                            light: false,
                            incomplete,
                            suppressed: true,
                            empty: false,
                        },
                        Some(rate) => {
                            if n == 1 && !incomplete {
                                if best.is_none_or(|(b, _)| *rate > b) {
                                    best = Some((*rate, **cohort));
                                }
                                if worst.is_none_or(|(w, _)| *rate < w) {
                                    worst = Some((*rate, **cohort));
                                }
                            }
                            let (background, light) = charts::heat(*rate, max_rate);
                            HeatCell {
                                text: i18n::percent(*rate, 0, self.lang),
                                background,
                                light,
                                incomplete,
                                suppressed: false,
                                empty: false,
                            }
                        }
                    }
                })
                .collect();
            out_rows.push(HeatRow {
                cohort: i18n::month_abbr(**cohort, self.lang),
                size: if small {
                    format!("<\u{a0}{}", self.min)
                } else {
                    self.n(*size)
                },
                cells,
            });
        }
        let summary = match (best, worst) {
            (Some((b, bm)), Some((w, wm))) => match self.lang {
                Lang::En => format!(
                    "In month 1 after their first purchase, {} of the best cohort ({}) and {} of the weakest ({}) were still there.",
                    self.pct(b),
                    i18n::month_abbr(bm, self.lang),
                    self.pct(w),
                    i18n::month_abbr(wm, self.lang)
                ),
                Lang::De => format!(
                    "Im ersten Monat nach dem Erstkauf waren es {} in der besten Kohorte ({}) und {} in der schwächsten ({}).",
                    self.pct(b),
                    i18n::month_abbr(bm, self.lang),
                    self.pct(w),
                    i18n::month_abbr(wm, self.lang)
                ),
            },
            _ => match self.lang {
                Lang::En => "No cohort has a complete month 1 with enough customers yet.".into(),
                Lang::De => {
                    "Noch keine Kohorte hat einen vollständigen ersten Monat mit genügend Kunden."
                        .into()
                }
            },
        };
        Heatmap {
            title: self.l(title_key),
            summary,
            columns: (1..=max_n).map(|n| n.to_string()).collect(),
            rows: out_rows,
        }
    }

    fn engagement(&self) -> Option<Engagement> {
        let rows = self.rows("engagement_tiers")?;
        let total: f64 = rows.iter().filter_map(|r| num(r, "customers")).sum();
        let mut bars = Vec::new();
        let mut table = DataTable {
            columns: vec![self.l("tier"), self.l("cohort_size"), self.l("share")],
            rows: Vec::new(),
        };
        let mut shares: BTreeMap<String, f64> = BTreeMap::new();
        for row in rows {
            let tier = text(row, "tier").unwrap_or("?");
            let customers = num(row, "customers").unwrap_or(0.0);
            let share = num(row, "share").unwrap_or(0.0);
            shares.insert(tier.to_string(), share);
            let name = self.l(&format!("tier_{tier}"));
            bars.push(Bar {
                label: name.clone(),
                value: share,
                value_text: format!("{} · {}", self.pct(share), self.n(customers)),
                class: format!("t-{tier}"),
            });
            table
                .rows
                .push(vec![name, self.n(customers), self.pct(share)]);
        }
        let get = |t: &str| shares.get(t).copied().unwrap_or(0.0);
        let summary = match self.lang {
            Lang::En => format!(
                "Of {} customers ever active, {} were active on 4 or more of the last 28 days and {} not at all.",
                self.n(total),
                self.pct(get("power") + get("core")),
                self.pct(get("dormant"))
            ),
            Lang::De => format!(
                "Von {} jemals aktiven Kunden waren {} an 4 oder mehr der letzten 28 Tage aktiv, {} gar nicht.",
                self.n(total),
                self.pct(get("power") + get("core")),
                self.pct(get("dormant"))
            ),
        };
        let title = self.l("tiers_chart");
        let tiers = Figure {
            svg: svg(charts::bar_chart(&title, &bars)),
            title,
            summary,
            table,
        };
        Some(Engagement {
            tiers,
            stickiness: self.stickiness(),
            lifecycle: self.lifecycle(),
        })
    }

    fn stickiness(&self) -> Option<Stickiness> {
        let row = self
            .rows("stickiness_daily")?
            .iter()
            .filter(|r| day(r, "activity_date").is_some_and(|d| d <= self.run_date))
            .max_by_key(|r| day(r, "activity_date"))?;
        Some(Stickiness {
            date: day(row, "activity_date").map_or_else(String::new, |d| i18n::date(d, self.lang)),
            dau: self.n(num(row, "dau").unwrap_or(0.0)),
            wau: self.n(num(row, "wau").unwrap_or(0.0)),
            mau: self.n(num(row, "mau").unwrap_or(0.0)),
            ratio: num(row, "stickiness").map_or_else(|| "–".into(), |v| self.pct(v)),
        })
    }

    fn lifecycle(&self) -> Option<Figure> {
        let rows = self.rows("lifecycle_weekly")?;
        let mut weeks: Vec<(NaiveDate, &Row)> = rows
            .iter()
            .filter_map(|r| day(r, "week_start").map(|d| (d, r)))
            .filter(|(d, _)| *d + chrono::Days::new(6) <= self.run_date)
            .collect();
        weeks.sort_by_key(|(d, _)| *d);
        let weeks: Vec<(NaiveDate, &Row)> = weeks.into_iter().rev().take(12).rev().collect();
        let (last_week, last) = weeks.last()?;
        let kinds = ["new", "returning", "resurrecting"];
        let up: Vec<Series> = kinds
            .iter()
            .map(|k| Series {
                name: self.l(k),
                class: format!("l-{k}"),
                points: weeks.iter().map(|(_, r)| num(r, k)).collect(),
            })
            .collect();
        let down = Series {
            name: self.l("dormant"),
            class: "l-dormant".into(),
            points: weeks.iter().map(|(_, r)| num(r, "dormant")).collect(),
        };
        let legend: Vec<(String, String)> = up
            .iter()
            .chain(std::iter::once(&down))
            .map(|s| (s.name.clone(), s.class.clone()))
            .collect();
        let x_labels: Vec<String> = weeks
            .iter()
            .map(|(d, _)| i18n::day_month(*d, self.lang))
            .collect();
        let title = self.l("lifecycle_chart");
        let chart = charts::diverging_columns(&title, &x_labels, &up, &down, &legend);
        let mut table = DataTable {
            columns: vec![self.l("week")],
            rows: Vec::new(),
        };
        table.columns.extend(legend.iter().map(|(n, _)| n.clone()));
        for (d, r) in &weeks {
            let mut cells = vec![i18n::date(*d, self.lang)];
            for k in ["new", "returning", "resurrecting", "dormant"] {
                cells.push(self.n(num(r, k).unwrap_or(0.0)));
            }
            table.rows.push(cells);
        }
        let v = |k: &str| num(last, k).unwrap_or(0.0);
        let active = v("new") + v("returning") + v("resurrecting");
        let net = v("new") + v("resurrecting") - v("dormant");
        let summary = match self.lang {
            Lang::En => format!(
                "Week of {}: {} active customers ({} new, {} returning, {} resurrected); {} went dormant, a net change of {}.",
                i18n::date(*last_week, self.lang),
                self.n(active),
                self.n(v("new")),
                self.n(v("returning")),
                self.n(v("resurrecting")),
                self.n(v("dormant")),
                i18n::signed(net, 0, self.lang)
            ),
            Lang::De => format!(
                "Woche ab {}: {} aktive Kunden ({} neu, {} wiederkehrend, {} reaktiviert); {} wurden inaktiv, netto {}.",
                i18n::date(*last_week, self.lang),
                self.n(active),
                self.n(v("new")),
                self.n(v("returning")),
                self.n(v("resurrecting")),
                self.n(v("dormant")),
                i18n::signed(net, 0, self.lang)
            ),
        };
        Some(Figure {
            title,
            summary,
            svg: svg(chart),
            table,
        })
    }

    fn funnel(&self) -> Option<Funnel> {
        let rows = self.rows("journey_funnel")?;
        let stages = [
            "persons",
            "considered",
            "purchased",
            "repeated",
            "advocated",
        ];
        let totals: Vec<f64> = stages
            .iter()
            .map(|s| rows.iter().filter_map(|r| num(r, s)).sum())
            .collect();
        let months: Vec<NaiveDate> = rows
            .iter()
            .filter_map(|r| day(r, "first_touch_month"))
            .collect();
        let first = months.iter().min().copied();
        let last = months.iter().max().copied();
        let mut bars = Vec::new();
        let mut table = DataTable {
            columns: vec![self.l("stage"), self.l("people"), self.l("conversion")],
            rows: Vec::new(),
        };
        for (i, stage) in stages.iter().enumerate() {
            let name = self.l(&format!("stage_{stage}"));
            let conversion = (i > 0 && totals[i - 1] > 0.0).then(|| totals[i] / totals[i - 1]);
            let conversion_text = conversion.map_or_else(String::new, |c| self.pct(c));
            bars.push(Bar {
                label: name.clone(),
                value: totals[i],
                value_text: if conversion_text.is_empty() {
                    self.n(totals[i])
                } else {
                    format!(
                        "{} · {} {}",
                        self.n(totals[i]),
                        conversion_text,
                        self.l("of_previous")
                    )
                },
                class: format!("f-{stage}"),
            });
            table
                .rows
                .push(vec![name, self.n(totals[i]), conversion_text]);
        }
        let share = |i: usize| {
            if totals[0] > 0.0 {
                self.pct(totals[i] / totals[0])
            } else {
                "–".into()
            }
        };
        let span = match (first, last) {
            (Some(a), Some(b)) => format!(
                "{} – {}",
                i18n::month_abbr(a, self.lang),
                i18n::month_abbr(b, self.lang)
            ),
            _ => String::new(),
        };
        let summary = match self.lang {
            Lang::En => format!(
                "Of {} people first seen {span}, {} considered a product, {} bought, {} bought again and {} became advocates.",
                self.n(totals[0]),
                share(1),
                share(2),
                share(3),
                share(4)
            ),
            Lang::De => format!(
                "Von {} Personen mit erstem Kontakt {span} zeigten {} Interesse, {} kauften, {} kauften erneut und {} empfahlen weiter.",
                self.n(totals[0]),
                share(1),
                share(2),
                share(3),
                share(4)
            ),
        };
        // Time to purchase by month of first touch, latest months first.
        let mut monthly = DataTable {
            columns: vec![
                self.l("first_touch_month"),
                self.l("people"),
                self.l("stage_purchased"),
                self.l("median_days"),
            ],
            rows: Vec::new(),
        };
        let mut by_month: Vec<(NaiveDate, &Row)> = rows
            .iter()
            .filter_map(|r| day(r, "first_touch_month").map(|d| (d, r)))
            .collect();
        by_month.sort_by_key(|(d, _)| std::cmp::Reverse(*d));
        let mut days_to_purchase = None;
        for (m, r) in by_month.iter().take(6) {
            let purchased = num(r, "purchased").unwrap_or(0.0);
            let days = num(r, "median_days_to_purchase").filter(|_| purchased >= self.min);
            if days_to_purchase.is_none() && self.complete(*m) {
                days_to_purchase = days.map(|d| DaysToPurchase {
                    days: i18n::number(d, 1, self.lang),
                    month: i18n::month(*m, self.lang),
                });
            }
            monthly.rows.push(vec![
                i18n::month_abbr(*m, self.lang),
                self.n(num(r, "persons").unwrap_or(0.0)),
                self.n(purchased),
                days.map_or_else(|| "–".into(), |d| i18n::number(d, 1, self.lang)),
            ]);
        }
        let title = self.l("funnel_chart");
        Some(Funnel {
            figure: Figure {
                svg: svg(charts::bar_chart(&title, &bars)),
                title,
                summary,
                table,
            },
            days_to_purchase,
            monthly,
        })
    }

    fn channels(&self, latest: NaiveDate) -> Option<Channels> {
        let rows: Vec<&Row> = self
            .rows("experience_quality_monthly")?
            .iter()
            .filter(|r| day(r, "month") == Some(latest))
            .collect();
        let all = rows
            .iter()
            .find(|r| text(r, "channel") == Some("all"))
            .copied();
        let order = [
            "web", "app", "email", "chat", "phone", "store", "social", "voice", "other",
        ];
        let mut channels: Vec<&Row> = rows
            .iter()
            .filter(|r| text(r, "channel") != Some("all"))
            .copied()
            .collect();
        channels.sort_by_key(|r| {
            let c = text(r, "channel").unwrap_or("");
            (
                order.iter().position(|o| *o == c).unwrap_or(order.len()),
                c.to_string(),
            )
        });
        // (value column, sample column, sample unit, better, margin that counts as clearly
        // different from all channels, how to format)
        type Fmt<'f> = &'f dyn Fn(f64) -> String;
        let pct0 = |v: f64| self.pct(v);
        let score0 = |v: f64| i18n::number(v, 0, self.lang);
        let csat = |v: f64| i18n::percent(v / 100.0, 1, self.lang);
        let ces = |v: f64| i18n::number(v, 2, self.lang);
        let wait = |v: f64| minutes(v, self.lang);
        let metrics: [(&str, &str, Better, f64, Fmt<'_>); 6] = [
            ("nps", "nps_responses", Better::Higher, 10.0, &score0),
            ("csat", "csat_responses", Better::Higher, 5.0, &csat),
            ("ces_avg", "ces_responses", Better::Higher, 0.3, &ces),
            ("failed_search_rate", "searches", Better::Lower, 0.02, &pct0),
            (
                "resolution_rate",
                "support_contacts",
                Better::Higher,
                0.05,
                &pct0,
            ),
            (
                "median_wait_s",
                "support_contacts",
                Better::Lower,
                60.0,
                &wait,
            ),
        ];
        let cells = |row: &Row, compare: bool| -> Vec<Cell> {
            metrics
                .iter()
                .map(|(col, sample_col, better, margin, fmt)| {
                    let n = num(row, sample_col).unwrap_or(0.0);
                    let value = num(row, col);
                    let survey = sample_col.ends_with("_responses");
                    if value.is_some() && n < self.min {
                        return Cell {
                            text: "–".into(),
                            sample: Some(format!("n\u{a0}=\u{a0}{}", self.n(n))),
                            tone: "flat",
                            suppressed: true,
                        };
                    }
                    let tone = match (value, all.and_then(|a| num(a, col)), compare) {
                        (Some(v), Some(base), true) if (v - base).abs() >= *margin => {
                            let higher = v > base;
                            if matches!(
                                (better, higher),
                                (Better::Higher, true) | (Better::Lower, false)
                            ) {
                                "good"
                            } else {
                                "bad"
                            }
                        }
                        _ => "flat",
                    };
                    Cell {
                        text: value.map_or_else(|| "–".into(), fmt),
                        sample: (survey && value.is_some())
                            .then(|| format!("n\u{a0}=\u{a0}{}", self.n(n))),
                        tone,
                        suppressed: false,
                    }
                })
                .collect()
        };
        let mut out = Vec::new();
        for row in &channels {
            let channel = text(row, "channel").unwrap_or("?");
            let key = format!("channel_{channel}");
            let name = label(&key, self.lang);
            out.push(ChannelRow {
                channel: if name == key {
                    channel.to_string()
                } else {
                    name.to_string()
                },
                total: false,
                cells: cells(row, true),
            });
        }
        if let Some(all) = all {
            out.push(ChannelRow {
                channel: self.l("all_channels"),
                total: true,
                cells: cells(all, false),
            });
        }
        Some(Channels {
            month: i18n::month(latest, self.lang),
            columns: vec![
                self.l("nps"),
                self.l("csat"),
                self.l("ces"),
                self.l("failed_search_rate"),
                self.l("resolution_rate"),
                self.l("median_wait"),
            ],
            rows: out,
        })
    }

    fn voices(&self) -> Option<Vec<Voice>> {
        let rows = self.rows("rpt_verbatims")?;
        let mut voices: Vec<(Option<chrono::NaiveDateTime>, Voice)> = rows
            .iter()
            .filter_map(|r| {
                let comment = text(r, "comment")?.trim();
                if comment.is_empty() {
                    return None;
                }
                let at = text(r, "occurred_at").and_then(i18n::parse_instant);
                let mut scores = Vec::new();
                for (col, name) in [("nps", "NPS"), ("csat", "CSAT"), ("ces", "CES")] {
                    if let Some(v) = num(r, col) {
                        scores.push(format!("{name} {}", v as i64));
                    }
                }
                Some((
                    at,
                    Voice {
                        date: at.map_or_else(String::new, |t| i18n::date(t.date(), self.lang)),
                        channel: {
                            let channel = text(r, "channel").unwrap_or("");
                            let key = format!("channel_{channel}");
                            let name = label(&key, self.lang);
                            if name == key {
                                channel.to_string()
                            } else {
                                name.to_string()
                            }
                        },
                        scores: scores.join(" · "),
                        comment: truncate(&pii::mask(comment), 600),
                    },
                ))
            })
            .collect();
        // Newest first, whatever order the model returned.
        voices.sort_by_key(|v| std::cmp::Reverse(v.0));
        Some(voices.into_iter().map(|(_, v)| v).collect())
    }

    fn quality(&self, run: &RunFacts<'_>) -> Quality {
        let mut items = Vec::new();
        if let Some(row) = self.rows("data_quality").and_then(|r| r.first()) {
            for key in [
                "rows_read",
                "rows_kept",
                "dropped_invalid",
                "duplicates",
                "late_events",
                "out_of_range_scores",
                "unknown_channels",
                "unknown_touchpoints",
                "files_read",
            ] {
                let mut value = num(row, key).map_or_else(|| "–".into(), |v| self.n(v));
                if key == "files_read"
                    && let Some(b) = num(row, "bytes_read")
                {
                    value = format!("{value} ({})", i18n::bytes(b, self.lang));
                }
                items.push((self.l(key), value));
            }
        }
        let count = |s: &str| run.models.iter().filter(|m| m.1 == s).count();
        let models = format!(
            "{} {}, {} {}, {} {}",
            count("ok"),
            self.l("models_ok"),
            count("failed"),
            self.l("models_failed"),
            count("skipped"),
            self.l("models_skipped")
        );
        Quality {
            items,
            run_date: i18n::date(run.date, self.lang),
            generated_at: i18n::parse_instant(run.generated_at).map_or_else(
                || run.generated_at.to_string(),
                |t| i18n::datetime(t, self.lang),
            ),
            input: run.input.to_string(),
            version: run.version.to_string(),
            run_id: run.id.to_string(),
            models,
            tests: if run.tests.is_empty() {
                String::new()
            } else {
                let tests = |s: &[&str]| {
                    run.tests
                        .iter()
                        .filter(|t| s.contains(&t.1.as_str()))
                        .count()
                };
                format!(
                    "{} {}, {} {}, {} {}",
                    tests(&["pass"]),
                    self.l("tests_passed"),
                    tests(&["warn"]),
                    self.l("tests_warned"),
                    tests(&["fail", "error"]),
                    self.l("tests_failed")
                )
            },
            problems: run
                .models
                .iter()
                .filter(|m| m.1 != "ok")
                .map(|m| (m.0.clone(), m.2.clone().unwrap_or_else(|| m.1.clone())))
                .chain(
                    run.skipped_files.iter().map(|(path, reason)| {
                        (self.l("skipped_file"), format!("{path}: {reason}"))
                    }),
                )
                .chain(
                    run.tests
                        .iter()
                        .filter(|t| t.1 != "pass" && t.1 != "skipped")
                        .map(|t| {
                            let rows = t.2.map_or_else(String::new, |n| {
                                format!(": {} {}", self.n(n as f64), self.l("failing_rows"))
                            });
                            (t.0.clone(), format!("{}{rows}", t.1))
                        }),
                )
                .collect(),
        }
    }
}

/// Seconds as "4.5 min" (or seconds when short).
fn minutes(seconds: f64, lang: Lang) -> String {
    if seconds < 90.0 {
        format!("{}\u{a0}s", i18n::number(seconds, 0, lang))
    } else {
        format!("{}\u{a0}min", i18n::number(seconds / 60.0, 1, lang))
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max_chars).collect();
        out.push('…');
        out
    }
}

/// The one sentence the retention section leads with, from the month 1-3 repurchase rates of
/// customers with a good and a poor first month.
pub fn finding(good: Option<f64>, poor: Option<f64>, lang: Lang) -> String {
    let (Some(good), Some(poor)) = (good, poor) else {
        return match lang {
            Lang::En => "Not enough customers with a complete first month yet to compare good and poor first experiences.".into(),
            Lang::De => "Noch zu wenige Kunden mit abgeschlossenem ersten Monat, um gute und schlechte erste Erlebnisse zu vergleichen.".into(),
        };
    };
    let rates = |a: f64, b: f64| match lang {
        Lang::En => format!(
            "({} vs {} bought again in months 1–3)",
            i18n::percent(a, 1, lang),
            i18n::percent(b, 1, lang)
        ),
        Lang::De => format!(
            "({} ggü. {} Wiederkäufer in den Monaten 1–3)",
            i18n::percent(a, 1, lang),
            i18n::percent(b, 1, lang)
        ),
    };
    let detail = rates(poor, good);
    if good <= 0.0 {
        return match lang {
            Lang::En => {
                format!("Customers with a good first month did not buy again yet {detail}.")
            }
            Lang::De => {
                format!("Kunden mit gutem ersten Monat haben noch nicht wieder gekauft {detail}.")
            }
        };
    }
    let ratio = poor / good;
    if ratio < 0.1 {
        return match lang {
            Lang::En => format!(
                "Customers with a poor first month almost never buy again, unlike those with a good one {detail}."
            ),
            Lang::De => format!(
                "Kunden mit schlechtem ersten Monat kaufen fast nie wieder, anders als Kunden mit gutem {detail}."
            ),
        };
    }
    if ratio > 1.1 {
        return match lang {
            Lang::En => format!(
                "Customers with a poor first month buy again more often than those with a good one {detail} — worth a closer look."
            ),
            Lang::De => format!(
                "Kunden mit schlechtem ersten Monat kaufen häufiger wieder als Kunden mit gutem {detail} – das verdient einen genaueren Blick."
            ),
        };
    }
    if ratio >= 0.9 {
        return match lang {
            Lang::En => format!(
                "Customers keep buying at about the same rate whether their first month was good or poor {detail}."
            ),
            Lang::De => format!(
                "Kunden kaufen etwa gleich häufig wieder, ob ihr erster Monat gut oder schlecht war {detail}."
            ),
        };
    }
    let words: [(f64, &str, &str); 5] = [
        (0.25, "a quarter of the rate", "nur ein Viertel so häufig"),
        (
            1.0 / 3.0,
            "a third of the rate",
            "nur ein Drittel so häufig",
        ),
        (0.5, "half the rate", "nur halb so häufig"),
        (
            2.0 / 3.0,
            "two thirds of the rate",
            "nur zwei Drittel so häufig",
        ),
        (
            0.75,
            "three quarters of the rate",
            "nur drei Viertel so häufig",
        ),
    ];
    let word = words.iter().find(|(f, _, _)| (ratio - f).abs() <= 0.04);
    match (lang, word) {
        (Lang::En, Some((_, en, _))) => format!(
            "Customers with a poor first month keep buying at {en} of those with a good one {detail}."
        ),
        (Lang::En, None) => format!(
            "Customers with a poor first month keep buying at {} of the rate of those with a good one {detail}.",
            i18n::percent(ratio, 0, lang)
        ),
        (Lang::De, Some((_, _, de))) => format!(
            "Kunden mit schlechtem ersten Monat kaufen {de} wieder wie Kunden mit gutem {detail}."
        ),
        (Lang::De, None) => format!(
            "Kunden mit schlechtem ersten Monat kaufen mit nur {} der Rate von Kunden mit gutem wieder {detail}.",
            i18n::percent(ratio, 0, lang)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_names_the_ratio_in_words() {
        assert_eq!(
            finding(Some(0.30), Some(0.15), Lang::En),
            "Customers with a poor first month keep buying at half the rate of those with a good one (15.0% vs 30.0% bought again in months 1–3)."
        );
        assert_eq!(
            finding(Some(0.30), Some(0.15), Lang::De),
            "Kunden mit schlechtem ersten Monat kaufen nur halb so häufig wieder wie Kunden mit gutem (15,0\u{a0}% ggü. 30,0\u{a0}% Wiederkäufer in den Monaten 1–3)."
        );
        assert!(finding(Some(0.30), Some(0.174), Lang::En).contains("at 58% of the rate"));
        assert!(finding(Some(0.30), Some(0.29), Lang::En).contains("about the same rate"));
        assert!(finding(Some(0.20), Some(0.30), Lang::En).contains("more often"));
        assert!(finding(None, Some(0.30), Lang::En).starts_with("Not enough"));
        assert!(finding(Some(0.30), Some(0.0), Lang::En).contains("almost never buy again"));
    }

    #[test]
    fn changes_round_to_flat_and_carry_units() {
        assert_eq!(
            change_text(105.0, 100.0, true, 1, Lang::En),
            ("+5.0%".into(), false)
        );
        assert_eq!(
            change_text(30.0, 32.0, false, 0, Lang::De),
            ("\u{2212}2\u{a0}Pkt.".into(), false)
        );
        assert!(change_text(30.01, 30.0, false, 1, Lang::En).1);
    }

    #[test]
    fn waits_read_in_minutes() {
        assert_eq!(minutes(45.0, Lang::En), "45\u{a0}s");
        assert_eq!(minutes(270.0, Lang::De), "4,5\u{a0}min");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }
}
