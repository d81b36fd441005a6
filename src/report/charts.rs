//! Charts as inline SVG strings: pure functions of already-computed numbers and already-formatted
//! labels, so they are easy to test and the report needs no script or font from elsewhere.
//! Colours come from CSS classes (`s-good`, `s-new`, ...) defined in `reports/layout.html`, so
//! analysts restyle charts without touching Rust. Every text is escaped here, because the
//! result is handed to templates as safe markup.

use std::fmt::Write;

/// Escapes text for SVG/HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn open(width: f64, height: f64, label: &str, class: &str) -> String {
    format!(
        r#"<svg class="chart {class}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">"#,
        esc(label)
    )
}

/// One line of a line chart: a value (or a gap) per x position.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// CSS class giving the colour (`s-good`).
    pub class: String,
    pub points: Vec<Option<f64>>,
}

/// Evenly spaced tick values from 0 to a round maximum at or above `max`.
pub fn nice_ticks(max: f64, count: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| s * count as f64 >= max - 1e-12)
        .unwrap_or(magnitude * 10.0);
    let steps = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// A line chart with labelled y gridlines and the series named at their line ends (no legend
/// to decode). `y_ticks` come formatted by the caller; the axis runs from 0 to the last tick.
pub fn line_chart(
    label: &str,
    x_labels: &[String],
    series: &[Series],
    y_ticks: &[(f64, String)],
) -> String {
    let (w, h) = (600.0, 280.0);
    let (left, right, top, bottom) = (48.0, 92.0, 14.0, 34.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let y_max = y_ticks.last().map_or(1.0, |t| t.0).max(f64::EPSILON);
    let n = x_labels.len().max(2);
    let x = |i: usize| left + plot_w * i as f64 / (n - 1) as f64;
    let y = |v: f64| top + plot_h * (1.0 - (v / y_max).clamp(0.0, 1.0));
    let mut svg = open(w, h, label, "line-chart");
    for (value, text) in y_ticks {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left + plot_w,
            y(*value),
            y(*value),
            left - 6.0,
            y(*value) + 4.0,
            esc(text)
        );
    }
    let step = (x_labels.len() / 8).max(1);
    for (i, text) in x_labels.iter().enumerate() {
        if i % step == 0 || i + 1 == x_labels.len() {
            let _ = write!(
                svg,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x(i),
                h - bottom + 18.0,
                esc(text)
            );
        }
    }
    let mut ends: Vec<(f64, String, String)> = Vec::new();
    for s in series {
        let mut path = String::new();
        let mut pen_down = false;
        let mut last = None;
        for (i, p) in s.points.iter().enumerate() {
            match p {
                Some(v) if v.is_finite() => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(*v)
                    );
                    pen_down = true;
                    last = Some(*v);
                }
                _ => pen_down = false,
            }
        }
        if path.is_empty() {
            continue;
        }
        let _ = write!(
            svg,
            r#"<path class="line {}" d="{}" fill="none"/>"#,
            esc(&s.class),
            path.trim_end()
        );
        for (i, p) in s.points.iter().enumerate() {
            if let Some(v) = p.filter(|v| v.is_finite()) {
                let _ = write!(
                    svg,
                    r#"<circle class="dot {}" cx="{:.1}" cy="{:.1}" r="3"/>"#,
                    esc(&s.class),
                    x(i),
                    y(v)
                );
            }
        }
        if let Some(v) = last {
            ends.push((y(v), s.name.clone(), s.class.clone()));
        }
    }
    // Series names at the right edge, pushed apart so they never overlap.
    ends.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut previous = f64::NEG_INFINITY;
    for end in &mut ends {
        end.0 = end.0.max(previous + 15.0);
        previous = end.0;
    }
    if let Some(overflow) = ends
        .last()
        .map(|e| e.0 - (top + plot_h))
        .filter(|o| *o > 0.0)
    {
        for e in &mut ends {
            e.0 -= overflow;
        }
    }
    for (pos, name, class) in &ends {
        let _ = write!(
            svg,
            r#"<text class="series-label {}" x="{:.1}" y="{:.1}">{}</text>"#,
            esc(class),
            left + plot_w + 8.0,
            pos + 4.0,
            esc(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A tiny trend line for a KPI tile; gaps where a value is missing, the last point marked.
pub fn sparkline(label: &str, values: &[Option<f64>]) -> String {
    let (w, h, pad) = (120.0, 28.0, 3.0);
    let present: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let mut svg = open(w, h, label, "spark");
    if present.len() >= 2 {
        let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let span = if hi - lo > f64::EPSILON { hi - lo } else { 1.0 };
        let n = values.len().max(2);
        let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (n - 1) as f64;
        let flat = hi - lo <= f64::EPSILON;
        let y = |v: f64| {
            if flat {
                h / 2.0
            } else {
                h - pad - (h - 2.0 * pad) * (v - lo) / span
            }
        };
        let mut path = String::new();
        let mut pen_down = false;
        let mut last = None;
        for (i, v) in values.iter().enumerate() {
            match v.filter(|v| v.is_finite()) {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(v)
                    );
                    pen_down = true;
                    last = Some((x(i), y(v)));
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            svg,
            r#"<path class="spark-line" d="{}" fill="none"/>"#,
            path.trim_end()
        );
        if let Some((cx, cy)) = last {
            let _ = write!(
                svg,
                r#"<circle class="spark-dot" cx="{cx:.1}" cy="{cy:.1}" r="2.5"/>"#
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Shown after the bar (the formatted value, maybe with a note).
    pub value_text: String,
    pub class: String,
}

/// Horizontal bars, one per row, labels above each bar so long labels fit on a phone.
pub fn bar_chart(label: &str, bars: &[Bar]) -> String {
    let w = 520.0;
    let row = 44.0;
    let h = (bars.len() as f64 * row + 6.0).max(row);
    let max = bars
        .iter()
        .map(|b| b.value)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(f64::EPSILON);
    let track = 240.0;
    let mut svg = open(w, h, label, "bar-chart");
    for (i, bar) in bars.iter().enumerate() {
        let top = i as f64 * row;
        let len = if bar.value.is_finite() {
            (track * (bar.value / max).clamp(0.0, 1.0)).max(1.5)
        } else {
            0.0
        };
        let _ = write!(
            svg,
            r#"<text class="bar-label" x="0" y="{:.1}">{}</text><rect class="bar {}" x="0" y="{:.1}" width="{len:.1}" height="16" rx="2"/><text class="bar-value" x="{:.1}" y="{:.1}">{}</text>"#,
            top + 14.0,
            esc(&bar.label),
            esc(&bar.class),
            top + 20.0,
            len + 8.0,
            top + 33.0,
            esc(&bar.value_text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A diverging stacked column chart: `up` series stacked above zero, `down` (drawn as
/// negative) below, one column per x label, with a legend on top.
pub fn diverging_columns(
    label: &str,
    x_labels: &[String],
    up: &[Series],
    down: &Series,
    legend: &[(String, String)],
) -> String {
    let (w, h) = (600.0, 300.0);
    let (left, right, top, bottom) = (48.0, 8.0, 40.0, 30.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let n = x_labels.len().max(1);
    let value = |s: &Series, i: usize| s.points.get(i).copied().flatten().unwrap_or(0.0).max(0.0);
    let max_up = (0..n)
        .map(|i| up.iter().map(|s| value(s, i)).sum::<f64>())
        .fold(0.0, f64::max);
    let max_down = (0..n).map(|i| value(down, i)).fold(0.0, f64::max);
    let ticks_up = nice_ticks(max_up, 3);
    let top_value = ticks_up.last().copied().unwrap_or(1.0).max(1.0);
    let step = ticks_up.get(1).copied().unwrap_or(top_value);
    let down_steps = (max_down / step).ceil().max(1.0);
    let bottom_value = down_steps * step;
    let scale = plot_h / (top_value + bottom_value);
    let zero = top + top_value * scale;
    let y = |v: f64| zero - v * scale;
    let mut svg = open(w, h, label, "columns");
    let mut legend_x = left;
    for (name, class) in legend {
        let _ = write!(
            svg,
            r#"<rect class="bar {}" x="{legend_x:.1}" y="6" width="12" height="12" rx="2"/><text class="legend" x="{:.1}" y="16">{}</text>"#,
            esc(class),
            legend_x + 16.0,
            esc(name)
        );
        legend_x += 28.0 + name.chars().count() as f64 * 7.5;
    }
    let mut ticks: Vec<f64> = ticks_up.clone();
    let mut t = step;
    while t <= bottom_value + 1e-9 {
        ticks.push(-t);
        t += step;
    }
    for v in ticks {
        let _ = write!(
            svg,
            r#"<line class="{}" x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            if v == 0.0 { "axis" } else { "grid" },
            left + plot_w,
            y(v),
            y(v),
            left - 6.0,
            y(v) + 4.0,
            compact_tick(v)
        );
    }
    let slot = plot_w / n as f64;
    let col_w = (slot * 0.7).max(2.0);
    for i in 0..n {
        let x0 = left + slot * i as f64 + (slot - col_w) / 2.0;
        let mut base = 0.0;
        for s in up {
            let v = value(s, i);
            if v > 0.0 {
                let _ = write!(
                    svg,
                    r#"<rect class="bar {}" x="{x0:.1}" y="{:.1}" width="{col_w:.1}" height="{:.1}"/>"#,
                    esc(&s.class),
                    y(base + v),
                    v * scale
                );
            }
            base += v;
        }
        let d = value(down, i);
        if d > 0.0 {
            let _ = write!(
                svg,
                r#"<rect class="bar {}" x="{x0:.1}" y="{:.1}" width="{col_w:.1}" height="{:.1}"/>"#,
                esc(&down.class),
                zero,
                d * scale
            );
        }
    }
    let label_step = if n > 8 { n.div_ceil(6) } else { 1 };
    for (i, text) in x_labels.iter().enumerate() {
        if (n - 1 - i).is_multiple_of(label_step) {
            let _ = write!(
                svg,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                left + slot * (i as f64 + 0.5),
                h - 8.0,
                esc(text)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Axis labels for counts: 0, 500, 1.5k, −2k (language-neutral on purpose: short and exact).
fn compact_tick(v: f64) -> String {
    let sign = if v < 0.0 { "\u{2212}" } else { "" };
    let a = v.abs();
    if a >= 1000.0 {
        let k = a / 1000.0;
        if (k - k.round()).abs() < 1e-9 {
            format!("{sign}{}k", k.round())
        } else {
            format!("{sign}{k:.1}k")
        }
    } else {
        format!("{sign}{}", a.round())
    }
}

/// The background of a heatmap cell for a rate in [0, `max`]: a blue of rising strength, and
/// whether the text on it should be light.
pub fn heat(rate: f64, max: f64) -> (String, bool) {
    let t = if max > 0.0 {
        (rate / max).clamp(0.0, 1.0)
    } else {
        0.0
    };
    // From #f1f5fb (pale) to #1f4e8c (deep blue).
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    let colour = format!(
        "#{:02x}{:02x}{:02x}",
        mix(241.0, 31.0),
        mix(245.0, 78.0),
        mix(251.0, 140.0)
    );
    (colour, t > 0.55)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_charts_is_escaped() {
        let svg = bar_chart(
            "a <b> & \"c\"",
            &[Bar {
                label: "<script>alert(1)</script>".into(),
                value: 1.0,
                value_text: "1".into(),
                class: "x\"onload=\"y".into(),
            }],
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("aria-label=\"a &lt;b&gt; &amp; &quot;c&quot;\""));
        assert!(!svg.contains("x\"onload"));
    }

    #[test]
    fn line_chart_breaks_lines_at_gaps_and_names_series() {
        let svg = line_chart(
            "retention",
            &["1".into(), "2".into(), "3".into()],
            &[Series {
                name: "Good".into(),
                class: "s-good".into(),
                points: vec![Some(0.5), None, Some(0.25)],
            }],
            &[(0.0, "0%".into()), (0.5, "50%".into())],
        );
        let d = svg
            .split("class=\"line s-good\" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a path for the series");
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 0, "{d}");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(">Good</text>"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn ticks_are_round() {
        let ticks = nice_ticks(0.43, 4);
        assert_eq!(ticks.len(), 4);
        assert!((ticks[3] - 0.6).abs() < 1e-9, "{ticks:?}");
        assert_eq!(nice_ticks(870.0, 3), vec![0.0, 500.0, 1000.0]);
        assert_eq!(nice_ticks(0.0, 2), vec![0.0, 0.5, 1.0]);
        assert_eq!(compact_tick(-1500.0), "\u{2212}1.5k");
        assert_eq!(compact_tick(2000.0), "2k");
    }

    #[test]
    fn sparkline_needs_two_points_and_heat_gets_darker() {
        assert!(!sparkline("s", &[Some(1.0)]).contains("<path"));
        assert!(sparkline("s", &[Some(1.0), None, Some(2.0)]).contains("<path"));
        assert_eq!(heat(0.0, 1.0), ("#f1f5fb".to_string(), false));
        assert_eq!(heat(1.0, 1.0), ("#1f4e8c".to_string(), true));
    }
}
