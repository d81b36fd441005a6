//! Language of the report: the labels templates show (`t.<key>`) and how numbers, percentages
//! and dates are written in English (1,234.5 · 22 Nov 2026) and German (1.234,5 · 22.11.2026).
//! Pure functions of their inputs; it does not decide what is shown, only how it reads.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// "de" (or "de-DE", "de_AT") is German; anything else is English.
    pub fn parse(code: &str) -> Lang {
        if code.trim().to_ascii_lowercase().starts_with("de") {
            Lang::De
        } else {
            Lang::En
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    fn separators(self) -> (char, char) {
        match self {
            Lang::En => (',', '.'),
            Lang::De => ('.', ','),
        }
    }
}

/// The minus sign used for negative numbers (U+2212 reads better than a hyphen).
const MINUS: char = '\u{2212}';

/// `v` with `decimals` decimals and thousands grouped: 1,234.5 / 1.234,5.
pub fn number(v: f64, decimals: usize, lang: Lang) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let (group, point) = lang.separators();
    let text = format!("{:.*}", decimals, v.abs());
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let digits: Vec<char> = int_part.chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(group);
        }
        grouped.push(*c);
    }
    let mut out = String::new();
    // "-0.0" is zero: no sign.
    let is_zero = text.chars().all(|c| c == '0' || c == '.');
    if v < 0.0 && !is_zero {
        out.push(MINUS);
    }
    out.push_str(&grouped);
    if let Some(frac) = frac_part {
        out.push(point);
        out.push_str(&frac);
    }
    out
}

/// A whole number with grouping: 12,345 / 12.345.
pub fn integer(v: f64, lang: Lang) -> String {
    number(v, 0, lang)
}

/// A fraction as a percentage: 0.1234 -> 12.3% / 12,3 %.
pub fn percent(fraction: f64, decimals: usize, lang: Lang) -> String {
    let n = number(fraction * 100.0, decimals, lang);
    match lang {
        Lang::En => format!("{n}%"),
        Lang::De => format!("{n}\u{a0}%"),
    }
}

/// A change with its sign: +1.2 / −0.4 / ±0.
pub fn signed(v: f64, decimals: usize, lang: Lang) -> String {
    let text = number(v, decimals, lang);
    if text.starts_with(MINUS) {
        text
    } else if text.chars().all(|c| !c.is_ascii_digit() || c == '0') {
        format!("±{text}")
    } else {
        format!("+{text}")
    }
}

/// Large amounts shortened: 950 / 12.3k / 1.23M (de: 12,3 Tsd. / 1,23 Mio.).
pub fn compact(v: f64, lang: Lang) -> String {
    let a = v.abs();
    let (scaled, decimals, suffix) = if a >= 999_500.0 {
        (
            v / 1_000_000.0,
            2,
            if lang == Lang::En { "M" } else { "\u{a0}Mio." },
        )
    } else if a >= 10_000.0 {
        (
            v / 1_000.0,
            1,
            if lang == Lang::En { "k" } else { "\u{a0}Tsd." },
        )
    } else {
        (v, 0, "")
    };
    format!("{}{suffix}", number(scaled, decimals, lang))
}

/// Bytes in KB, MB, GB (decimal units).
pub fn bytes(v: f64, lang: Lang) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut value = v;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if unit == 0 { 0 } else { 1 };
    format!("{}\u{a0}{}", number(value, decimals, lang), units[unit])
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

fn month_name(month0: u32, lang: Lang) -> &'static str {
    let names = match lang {
        Lang::En => &MONTHS_EN,
        Lang::De => &MONTHS_DE,
    };
    names.get(month0 as usize).copied().unwrap_or("?")
}

fn month_short(month0: u32, lang: Lang) -> String {
    month_name(month0, lang).chars().take(3).collect()
}

/// A day: 22 Nov 2026 / 22.11.2026.
pub fn date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{} {} {}", d.day(), month_short(d.month0(), lang), d.year()),
        Lang::De => d.format("%d.%m.%Y").to_string(),
    }
}

/// A day without the year, for axes: 22 Nov / 22.11.
pub fn day_month(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{} {}", d.day(), month_short(d.month0(), lang)),
        Lang::De => d.format("%d.%m.").to_string(),
    }
}

/// A month in full: November 2026.
pub fn month(d: NaiveDate, lang: Lang) -> String {
    format!("{} {}", month_name(d.month0(), lang), d.year())
}

/// A month shortened, for axes and tables: Nov 2026 / Nov 2026.
pub fn month_abbr(d: NaiveDate, lang: Lang) -> String {
    format!("{} {}", month_short(d.month0(), lang), d.year())
}

/// A UTC instant: 22 Nov 2026, 14:05 UTC / 22.11.2026, 14:05 UTC.
pub fn datetime(t: NaiveDateTime, lang: Lang) -> String {
    format!("{}, {} UTC", date(t.date(), lang), t.format("%H:%M"))
}

/// Parses the ISO forms tables and the run hand over: 2026-11-22, 2026-11-22T14:05:00(.123)(Z).
pub fn parse_instant(text: &str) -> Option<NaiveDateTime> {
    let trimmed = text.trim().trim_end_matches('Z');
    let trimmed = trimmed.split('+').next().unwrap_or(trimmed);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(trimmed, format) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    parse_instant(text).map(|t| t.date())
}

/// Every label a template can show, as `t.<key>`. A missing key is a render error (strict
/// undefined), so a typo in a template cannot silently print nothing.
const LABELS: &[(&str, &str, &str)] = &[
    (
        "title",
        "Customer experience report",
        "Kundenerlebnis-Bericht",
    ),
    ("run_date", "Run date", "Stichtag"),
    ("generated_at", "Generated", "Erstellt"),
    (
        "period",
        "Latest complete month",
        "Letzter vollständiger Monat",
    ),
    ("versus", "vs", "ggü."),
    (
        "not_available",
        "Not available in this run",
        "In diesem Lauf nicht verfügbar",
    ),
    (
        "missing_model",
        "the model it needs did not produce a table",
        "das benötigte Modell hat keine Tabelle erzeugt",
    ),
    ("suppressed", "too few to show", "zu wenige"),
    (
        "suppressed_note",
        "Values based on fewer than {n} answers or customers are not shown (–).",
        "Werte aus weniger als {n} Antworten bzw. Kunden werden nicht gezeigt (–).",
    ),
    ("incomplete_note", "Month still running", "Monat läuft noch"),
    ("data_table", "Data table", "Datentabelle"),
    ("contents", "Contents", "Inhalt"),
    // Section 1
    ("kpis", "Headline numbers", "Kennzahlen"),
    ("active_customers", "Active customers", "Aktive Kunden"),
    ("net_revenue", "Net revenue", "Nettoumsatz"),
    ("nps", "NPS", "NPS"),
    ("csat", "CSAT", "CSAT"),
    ("ces", "CES", "CES"),
    ("failed_search_rate", "Failed searches", "Erfolglose Suchen"),
    (
        "resolution_rate",
        "Support resolution",
        "Gelöste Supportfälle",
    ),
    (
        "month1_retention",
        "Month-1 repurchase",
        "Wiederkauf im Folgemonat",
    ),
    ("answers", "answers", "Antworten"),
    ("customers", "customers", "Kunden"),
    ("searches", "searches", "Suchen"),
    ("contacts", "contacts", "Kontakte"),
    ("previous", "previous", "Vormonat"),
    ("no_change", "no change", "unverändert"),
    (
        "kpi_help",
        "Green: better than the month before; red: worse.",
        "Grün: besser als im Vormonat; rot: schlechter.",
    ),
    // Section 2
    (
        "retention",
        "Retention by first experience",
        "Bindung nach erstem Erlebnis",
    ),
    (
        "retention_chart",
        "Share of customers buying again, by months since first purchase",
        "Anteil wiederkaufender Kunden nach Monaten seit dem Erstkauf",
    ),
    (
        "months_since_first",
        "Months since first purchase",
        "Monate seit Erstkauf",
    ),
    ("class_good", "Good", "Gut"),
    ("class_neutral", "Neutral", "Neutral"),
    ("class_poor", "Poor", "Schlecht"),
    ("month_n", "Month", "Monat"),
    // Section 3
    ("cohorts", "Cohort retention", "Kohorten-Bindung"),
    ("cohort", "First purchase", "Erstkauf"),
    ("cohort_size", "Customers", "Kunden"),
    ("purchase_heatmap", "Still buying", "Kaufen weiter"),
    ("activity_heatmap", "Still active", "Weiter aktiv"),
    (
        "cohort_help",
        "Share of each month's new customers who bought (or were active) N months later. Month 0 is 100% by definition.",
        "Anteil der Neukunden eines Monats, die N Monate später kauften (bzw. aktiv waren). Monat 0 ist per Definition 100 %.",
    ),
    // Section 4
    ("engagement", "Engagement", "Nutzungsintensität"),
    (
        "tiers_chart",
        "Customers by active days in the last 28 days",
        "Kunden nach aktiven Tagen in den letzten 28 Tagen",
    ),
    ("tier", "Tier", "Stufe"),
    ("share", "Share", "Anteil"),
    ("tier_power", "Power (12+ days)", "Intensiv (12+ Tage)"),
    ("tier_core", "Core (4–11 days)", "Regelmäßig (4–11 Tage)"),
    (
        "tier_casual",
        "Casual (1–3 days)",
        "Gelegentlich (1–3 Tage)",
    ),
    ("tier_dormant", "Dormant (0 days)", "Ruhend (0 Tage)"),
    (
        "stickiness",
        "Stickiness (DAU / MAU)",
        "Stickiness (DAU / MAU)",
    ),
    (
        "lifecycle_chart",
        "Weekly active customers: where they come from and who slipped away",
        "Wöchentlich aktive Kunden: Zugänge und Abgänge",
    ),
    ("week", "Week of", "Woche ab"),
    ("new", "New", "Neu"),
    ("returning", "Returning", "Wiederkehrend"),
    ("resurrecting", "Resurrected", "Reaktiviert"),
    ("dormant", "Went dormant", "Inaktiv geworden"),
    // Section 5
    ("funnel", "Customer journey", "Customer Journey"),
    (
        "funnel_chart",
        "From first touch to advocacy",
        "Vom ersten Kontakt bis zur Weiterempfehlung",
    ),
    ("stage", "Stage", "Stufe"),
    ("people", "People", "Personen"),
    ("conversion", "From previous stage", "Aus der Vorstufe"),
    ("of_previous", "of previous", "der Vorstufe"),
    ("stage_persons", "First touch", "Erster Kontakt"),
    ("stage_considered", "Considered", "Interessiert"),
    ("stage_purchased", "Purchased", "Gekauft"),
    ("stage_repeated", "Bought again", "Wiedergekauft"),
    ("stage_advocated", "Advocated", "Empfohlen"),
    (
        "days_to_purchase",
        "Median days to first purchase",
        "Median Tage bis zum Erstkauf",
    ),
    ("first_touch_month", "First touch", "Erster Kontakt"),
    ("median_days", "Median days", "Median Tage"),
    ("days", "days", "Tage"),
    (
        "by_first_touch",
        "By month of first touch",
        "Nach Monat des ersten Kontakts",
    ),
    (
        "months_1_3",
        "bought again in months 1–3",
        "kauften in Monat 1–3 erneut",
    ),
    ("as_of", "as of", "Stand"),
    // Section 6
    ("channels", "Experience by channel", "Erlebnis nach Kanal"),
    ("channel", "Channel", "Kanal"),
    ("all_channels", "All channels", "Alle Kanäle"),
    ("median_wait", "Median wait", "Median Wartezeit"),
    (
        "channels_help",
        "Green / red: clearly better / worse than all channels together.",
        "Grün / rot: deutlich besser / schlechter als alle Kanäle zusammen.",
    ),
    ("channel_web", "Web", "Web"),
    ("channel_app", "App", "App"),
    ("channel_email", "E-mail", "E-Mail"),
    ("channel_chat", "Chat", "Chat"),
    ("channel_phone", "Phone", "Telefon"),
    ("channel_store", "Store", "Filiale"),
    ("channel_social", "Social", "Social Media"),
    ("channel_voice", "Voice assistant", "Sprachassistent"),
    ("channel_other", "Other", "Sonstige"),
    // Section 7
    ("voices", "Voice of the customer", "Stimme der Kunden"),
    (
        "voices_help",
        "Latest comments from detractors (NPS 0–6) and customers who found it hard (CES 1–3), newest first. E-mail addresses and phone numbers are masked.",
        "Neueste Kommentare von Kritikern (NPS 0–6) und Kunden mit hohem Aufwand (CES 1–3), neueste zuerst. E-Mail-Adressen und Telefonnummern sind maskiert.",
    ),
    (
        "no_voices",
        "No comments from detractors or high-effort answers in this run.",
        "Keine Kommentare von Kritikern oder mit hohem Aufwand in diesem Lauf.",
    ),
    // Section 8
    (
        "quality",
        "Data quality and freshness",
        "Datenqualität und Aktualität",
    ),
    ("rows_read", "Rows read", "Gelesene Zeilen"),
    ("rows_kept", "Rows kept", "Verwendete Zeilen"),
    (
        "dropped_invalid",
        "Dropped (invalid or after run date)",
        "Verworfen (ungültig oder nach Stichtag)",
    ),
    ("duplicates", "Duplicates", "Duplikate"),
    ("late_events", "Late events", "Verspätete Ereignisse"),
    (
        "out_of_range_scores",
        "Out-of-range scores",
        "Ungültige Bewertungen",
    ),
    ("unknown_channels", "Unknown channels", "Unbekannte Kanäle"),
    (
        "unknown_touchpoints",
        "Unknown touchpoints",
        "Unbekannte Touchpoints",
    ),
    ("files_read", "Files read", "Gelesene Dateien"),
    ("input", "Input", "Eingabe"),
    ("version", "cxpipe version", "cxpipe-Version"),
    ("run_id", "Run", "Lauf"),
    ("models", "Models", "Modelle"),
    ("models_ok", "ran", "gelaufen"),
    ("models_failed", "failed", "fehlgeschlagen"),
    ("models_skipped", "skipped", "übersprungen"),
    ("data_tests", "Data tests", "Datentests"),
    ("tests_passed", "passed", "bestanden"),
    ("tests_warned", "warned", "Warnungen"),
    ("tests_failed", "failed", "fehlgeschlagen"),
    ("failing_rows", "failing rows", "fehlerhafte Zeilen"),
    ("skipped_file", "Skipped file", "Übersprungene Datei"),
];

/// The labels of a language, keyed for templates.
pub fn labels(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    LABELS
        .iter()
        .map(|(key, en, de)| (*key, if lang == Lang::De { *de } else { *en }))
        .collect()
}

/// One label, for Rust code that builds sentences; the key itself if unknown.
pub fn label(key: &str, lang: Lang) -> &str {
    LABELS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(key, |(_, en, de)| if lang == Lang::De { de } else { en })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(number(1234.5, 1, Lang::En), "1,234.5");
        assert_eq!(number(1234.5, 1, Lang::De), "1.234,5");
        assert_eq!(number(1_234_567.0, 0, Lang::De), "1.234.567");
        assert_eq!(number(-0.04, 1, Lang::En), "0.0");
        assert_eq!(number(-12.0, 0, Lang::En), "\u{2212}12");
        assert_eq!(number(999.0, 0, Lang::En), "999");
        assert_eq!(percent(0.1234, 1, Lang::En), "12.3%");
        assert_eq!(percent(0.1234, 1, Lang::De), "12,3\u{a0}%");
        assert_eq!(signed(1.26, 1, Lang::En), "+1.3");
        assert_eq!(signed(-1.26, 1, Lang::De), "\u{2212}1,3");
        assert_eq!(signed(0.01, 1, Lang::En), "±0.0");
        assert_eq!(compact(1_234_567.0, Lang::En), "1.23M");
        assert_eq!(compact(12_345.0, Lang::De), "12,3\u{a0}Tsd.");
        assert_eq!(compact(950.0, Lang::En), "950");
        assert_eq!(bytes(12_345_678.0, Lang::En), "12.3\u{a0}MB");
    }

    #[test]
    fn dates_follow_the_language() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date");
        assert_eq!(date(d, Lang::En), "22 Nov 2026");
        assert_eq!(date(d, Lang::De), "22.11.2026");
        assert_eq!(month(d, Lang::De), "November 2026");
        assert_eq!(month_abbr(d, Lang::De), "Nov 2026");
        let t = parse_instant("2026-11-22T14:05:09.123Z").expect("parses");
        assert_eq!(datetime(t, Lang::De), "22.11.2026, 14:05 UTC");
        assert_eq!(
            parse_date("2026-03-01"),
            NaiveDate::from_ymd_opt(2026, 3, 1)
        );
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn every_label_has_both_languages_and_unique_keys() {
        let mut seen = std::collections::BTreeSet::new();
        for (key, en, de) in LABELS {
            assert!(seen.insert(*key), "duplicate label {key}");
            assert!(!en.is_empty() && !de.is_empty(), "label {key} is empty");
        }
        assert_eq!(Lang::parse("de-DE"), Lang::De);
        assert_eq!(Lang::parse("fr"), Lang::En);
    }
}
