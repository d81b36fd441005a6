//! The executive report as the reader gets it: each section pinned by a snapshot (times, paths
//! and the version filtered out), untrusted comments shown as text and masked, German labels
//! and formats, small numbers suppressed, a failed model leaving a note instead of no report,
//! an analyst's own section, and the demo report opened in real headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

const R: &str = "2026-06-30";

/// Months of the story fixture; the run date is the last day of June, so June is complete.
const MONTHS: [&str; 3] = ["2026-04", "2026-05", "2026-06"];

fn at(month: usize, day: usize, time: &str) -> String {
    format!("{}-{:02} {time}", MONTHS[month], day)
}

/// A small, hand-made story: 36 customers in three monthly cohorts, a third each with a good,
/// neutral or poor first experience; good ones buy again, poor ones complain and do not. Plus
/// prospects who only browse, a late event and a duplicate.
fn story_events() -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..36usize {
        let month = i % 3;
        let class = (i / 3) % 3; // 0 good, 1 neutral, 2 poor
        let day = 1 + (i % 20);
        let (c, a) = (format!("C{i:02}"), format!("a{i:02}"));
        let id = |n: &str| format!("{c}-{n}");
        events.push(ev(&id("view"), &at(month, day, "09:00"), &a, "page_view"));
        events.push(ev(
            &id("product"),
            &at(month, day, "09:05"),
            &a,
            "product_view",
        ));
        events.push(ev(&id("search"), &at(month, day, "09:06"), &a, "search"));
        events.push(ev(&id("signup"), &at(month, day, "09:10"), &a, "signup").customer(&c));
        events.push(
            ev(&id("buy"), &at(month, day, "09:20"), &a, "purchase")
                .customer(&c)
                .revenue(20.0 + i as f64),
        );
        let survey = ev(
            &id("survey"),
            &at(month, day + 2, "10:00"),
            &a,
            "survey_response",
        )
        .customer(&c);
        events.push(match class {
            0 => survey.channel("app").nps(10).csat(5).ces(7),
            1 => survey.channel("web").nps(7).csat(4).ces(5),
            _ => survey
                .channel("chat")
                .nps(2 + (i % 3) as i32)
                .csat(2)
                .ces(2)
                .comment(&format!(
                    "Order {i} arrived late and support never called back"
                )),
        });
        if class == 2 {
            events.push(
                ev(
                    &id("contact"),
                    &at(month, day + 3, "11:00"),
                    &a,
                    "support_contact",
                )
                .customer(&c)
                .channel("phone")
                .duration(300.0 + 10.0 * i as f64),
            );
            events.push(
                ev(
                    &id("nothing"),
                    &at(month, day + 3, "11:30"),
                    &a,
                    "search_no_results",
                )
                .customer(&c),
            );
        } else {
            events.push(
                ev(
                    &id("contact"),
                    &at(month, day + 3, "11:00"),
                    &a,
                    "support_contact",
                )
                .customer(&c)
                .channel("chat")
                .duration(60.0 + i as f64),
            );
            events.push(
                ev(
                    &id("resolved"),
                    &at(month, day + 3, "11:20"),
                    &a,
                    "support_resolved",
                )
                .customer(&c)
                .channel("chat"),
            );
        }
        // Repeat purchases in later months: good customers every month, neutral ones once.
        for later in month + 1..MONTHS.len() {
            let buys = class == 0 || (class == 1 && later == month + 1);
            if buys {
                events.push(
                    ev(
                        &id(&format!("rebuy{later}")),
                        &at(later, day, "18:00"),
                        &a,
                        "purchase",
                    )
                    .customer(&c)
                    .revenue(30.0),
                );
            }
        }
        if class == 0 && month < 2 {
            events.push(
                ev(
                    &id("share"),
                    &at(month + 1, day, "19:00"),
                    &a,
                    "social_interaction",
                )
                .customer(&c)
                .channel("social"),
            );
        }
    }
    for p in 0..6 {
        let a = format!("p{p}");
        events.push(ev(
            &format!("{a}-view"),
            &at(2, 10 + p, "08:00"),
            &a,
            "page_view",
        ));
        events.push(ev(
            &format!("{a}-search"),
            &at(2, 10 + p, "08:01"),
            &a,
            "search",
        ));
    }
    events.push(ev("late-1", &at(2, 20, "08:00"), "a00", "page_view").arrives("2026-06-24"));
    events.push(ev("C00-view", &at(0, 1, "09:00"), "a00", "page_view").arrives("2026-04-02"));
    events
}

/// Runs the story with these report settings and returns the report's HTML.
fn render(p: &TestProject, lang: &str, min_sample: usize) -> String {
    let mut config = p.config(R);
    config.report.lang = lang.into();
    config.report.min_sample = min_sample;
    if let Err(e) = runtime().block_on(cxpipe::run::run(&config)) {
        panic!("run {R} failed: {e}");
    }
    read_report(p)
}

fn read_report(p: &TestProject) -> String {
    let path = p.run_dir(R).join("report.html");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The `<section id="...">` element of the report.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id} in the report"));
    let end = html[start..]
        .find("</section>")
        .map(|e| start + e + "</section>".len())
        .unwrap_or_else(|| panic!("section {id} is not closed"));
    &html[start..end]
}

/// Escapes a literal for an insta filter (a regex).
fn literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Filters for what changes between runs: instants, run ids, paths, the version, sizes, and how
/// many models the project has.
fn filters(p: &TestProject) -> Vec<(String, String)> {
    vec![
        (literal(&p.input().display().to_string()), "[input]".into()),
        (r"<dd>file:[^<]*</dd>".into(), "<dd>[input]</dd>".into()),
        (literal(env!("CARGO_PKG_VERSION")), "[version]".into()),
        (
            r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC|\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC"
                .into(),
            "[generated-at]".into(),
        ),
        (r"\d{8}T\d{6}(\.\d+)?Z-\d+".into(), "[run-id]".into()),
        (r"\([\d.,]+\x{a0}[KMGT]?B\)".into(), "([bytes])".into()),
        (r"\d+ (ran|gelaufen)".into(), "[n] $1".into()),
    ]
}

fn assert_sections(p: &TestProject, html: &str, prefix: &str) {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in filters(p) {
        settings.add_filter(&pattern, replacement);
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for id in [
            "kpis",
            "retention",
            "cohorts",
            "engagement",
            "funnel",
            "channels",
            "voices",
            "quality",
        ] {
            insta::assert_snapshot!(format!("{prefix}_{id}"), section(html, id));
        }
    });
}

#[test]
fn report_sections_are_pinned_in_english() {
    let p = TestProject::new().events(&story_events());
    let html = render(&p, "en", 3);
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<html lang=\"en\">"));
    let order: Vec<usize> = [
        "id=\"kpis\"",
        "id=\"retention\"",
        "id=\"cohorts\"",
        "id=\"engagement\"",
        "id=\"funnel\"",
        "id=\"channels\"",
        "id=\"voices\"",
        "id=\"quality\"",
    ]
    .iter()
    .map(|s| html.find(s).unwrap_or_else(|| panic!("{s} missing")))
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "sections out of order"
    );
    assert_sections(&p, &html, "en");
}

#[test]
fn report_sections_are_pinned_in_german() {
    let p = TestProject::new().events(&story_events());
    let html = render(&p, "de", 3);
    assert!(html.contains("<html lang=\"de\">"));
    assert!(html.contains("Kundenerlebnis-Bericht"));
    assert!(html.contains("30.06.2026"), "German dates");
    assert!(html.contains("Juni 2026") && html.contains("Mai 2026"));
    assert_sections(&p, &html, "de");
}

#[test]
fn report_is_self_contained_with_a_policy_forbidding_requests() {
    let p = TestProject::new().events(&story_events());
    let html = render(&p, "en", 3);
    assert!(html.contains(
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\""
    ));
    // The SVG namespace is an identifier, not a request.
    let lower = html
        .to_lowercase()
        .replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for forbidden in [
        "<script", "<link", "<iframe", "<img", "@import", "url(", "http://", "https://",
    ] {
        assert!(!lower.contains(forbidden), "report contains {forbidden}");
    }
    // Every chart has a title, a text summary and a table alternative.
    let charts = html.matches("<svg class=\"chart").count() - html.matches("chart spark").count();
    assert!(charts >= 4, "charts: {charts}");
    assert_eq!(
        html.matches("<figure>").count() - 2,
        charts,
        "each chart in a figure (plus 2 heatmaps)"
    );
    assert_eq!(
        html.matches("<details><summary>Data table</summary>")
            .count(),
        charts
    );
    assert_eq!(html.matches("<p class=\"summary\">").count(), charts + 2);
}

#[test]
fn untrusted_comments_are_text_masked_and_never_evaluated() {
    let hostile = "<script>alert(1)</script> {{ 7*7 }} {% if true %}x{% endif %} mail jane.doe@example.com or call +49 30 1234567";
    let events = vec![
        ev("e1", "2026-06-10 09:00", "a1", "purchase")
            .customer("C1")
            .revenue(10.0),
        ev("e2", "2026-06-11 09:00", "a1", "survey_response")
            .customer("C1")
            .nps(1)
            .comment(hostile),
        ev("e3", "2026-06-12 09:00", "a1", "survey_response")
            .customer("C1")
            .ces(2)
            .comment("<img src=x onerror=alert(2)> & \"quotes\""),
    ];
    let p = TestProject::new().events(&events);
    let html = render(&p, "en", 10);
    let voices = section(&html, "voices");
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "script became markup"
    );
    assert!(!html.contains("<img"), "img became markup");
    assert!(
        voices.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{voices}"
    );
    assert!(
        voices.contains("{{ 7*7 }}") && !voices.contains("49 "),
        "{voices}"
    );
    assert!(voices.contains("{% if true %}x{% endif %}"), "{voices}");
    assert!(voices.contains("[email]") && !html.contains("jane.doe@example.com"));
    assert!(voices.contains("[phone]") && !html.contains("1234567"));
    assert!(voices.contains("&lt;img src=x onerror=alert(2)&gt; &amp; &quot;quotes&quot;"));
    // Newest first.
    let img = voices.find("&lt;img").expect("second comment shown");
    let script = voices.find("&lt;script").expect("first comment shown");
    assert!(img < script, "newest comment first");
}

#[test]
fn small_samples_are_suppressed_not_shown_as_facts() {
    let p = TestProject::new().events(&story_events());
    // 12 customers per cohort and about a dozen answers a month: a minimum of 50 hides them all.
    let html = render(&p, "en", 50);
    let kpis = section(&html, "kpis");
    let nps = &kpis[kpis.find("id=\"kpi-nps\"").expect("NPS tile")..];
    let nps = &nps[..nps.find("</li>").expect("tile closed")];
    assert!(nps.contains("<div class=\"value\">–</div>"), "{nps}");
    assert!(nps.contains("too few to show"), "{nps}");
    let cohorts = section(&html, "cohorts");
    assert!(
        cohorts.contains("&lt;\u{a0}50"),
        "cohort size marked as small"
    );
    assert!(
        !cohorts.contains("style=\"background:#"),
        "no cohort cell shown as a fact"
    );
    assert!(section(&html, "retention").contains("Not enough customers"));
    let channels = section(&html, "channels");
    assert!(
        channels.contains("suppressed\" title=\"too few to show\""),
        "{channels}"
    );
    assert!(
        !channels.contains("−100") && !channels.contains("66.7%"),
        "no channel score from four or twelve answers: {channels}"
    );
    assert!(html.contains("fewer than 50 answers or customers"));
    // Counts are no survey metric: still shown.
    let active = &kpis[kpis.find("id=\"kpi-active_customers\"").expect("tile")..];
    assert!(!active[..active.find("</li>").expect("closed")].contains("<div class=\"value\">–"));
}

#[test]
fn a_failed_model_leaves_a_note_and_the_rest_of_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo().join("queries"), dir.path());
    std::fs::write(
        dir.path().join("rpt_verbatims.sql"),
        "-- rpt_verbatims: broken on purpose\nselect cast('x' as int) as comment from run_context",
    )
    .expect("write broken model");
    let mut p = TestProject::new().events(&story_events());
    p.queries = dir.path().to_path_buf();
    assert!(p.run(R).is_err(), "a failed model makes the run partial");
    let html = read_report(&p);
    assert!(section(&html, "voices").contains("Not available in this run"));
    assert!(section(&html, "quality").contains("rpt_verbatims"));
    assert!(section(&html, "kpis").contains("kpi-nps"));
}

#[test]
fn an_analyst_adds_a_section_with_a_model_and_a_partial() {
    // As the README describes: a model, a partial, one include line.
    let p = TestProject::new().events(&story_events());
    let queries = p.dir.path().join("queries");
    let reports = p.dir.path().join("reports");
    copy_dir(&repo().join("queries"), &queries);
    copy_dir(&repo().join("reports"), &reports);
    std::fs::write(
        queries.join("rpt_revenue_by_channel.sql"),
        "-- rpt_revenue_by_channel: one row per channel with purchases: its net revenue.\n\
         select channel, sum(case when touchpoint = 'purchase' then revenue else -abs(revenue) end) as net_revenue\n\
         from int_events where touchpoint in ('purchase', 'return') group by channel order by net_revenue desc\n",
    )
    .expect("model");
    std::fs::write(
        reports.join("sections/revenue_by_channel.html"),
        r#"{% from "partials/macros.html" import unavailable %}
<section id="revenue-by-channel" class="break">
  <h2>Net revenue by channel</h2>
  {% if tables.rpt_revenue_by_channel is defined %}
  {{ bar_chart(tables.rpt_revenue_by_channel.rows, label="channel", value="net_revenue", title="Net revenue by channel") }}
  <table>{% for row in tables.rpt_revenue_by_channel.rows %}<tr><th>{{ row.channel }}</th><td class="num">{{ row.net_revenue|num(2) }}</td></tr>{% endfor %}</table>
  {% else %}{{ unavailable(t.not_available, "rpt_revenue_by_channel") }}{% endif %}
</section>
"#,
    )
    .expect("partial");
    let page = std::fs::read_to_string(reports.join("report.html")).expect("report.html");
    std::fs::write(
        reports.join("report.html"),
        page.replace(
            "{% include \"sections/quality.html\" %}",
            "{% include \"sections/revenue_by_channel.html\" %}\n{% include \"sections/quality.html\" %}",
        ),
    )
    .expect("include");
    let mut p = p;
    p.queries = queries;
    p.reports = reports;
    let html = render(&p, "de", 3);
    let added = section(&html, "revenue-by-channel");
    assert!(added.contains("<svg class=\"chart bar-chart\""), "{added}");
    assert!(added.contains("<th>web</th><td class=\"num\">"), "{added}");
    assert!(added.contains(",00</td>"), "German decimals: {added}");
    assert!(html.find("revenue-by-channel") < html.find("id=\"quality\""));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

/// Where CI keeps the browser's screenshots (uploaded as artifacts).
fn artifacts() -> PathBuf {
    repo().join("target/report")
}

/// The demo report (generated data, as `make demo` makes it) in real headless Chromium: no
/// console error, no network request, screenshots at laptop and phone width and an A4 PDF kept
/// under target/report/.
#[test]
fn demo_report_opens_in_headless_chromium_without_errors_or_requests() {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.is_file(),
        "{} is missing: install Debian's chromium package (`apt-get install chromium`; .ci/run does)",
        chromium.display()
    );
    let browser_dir = repo().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run `npm install` in {} (.ci/run does)",
        browser_dir.display()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node is missing: install Node.js to run the browser test ({node:?})"
    );

    let p = TestProject::new();
    let (input, output) = (
        p.input().display().to_string(),
        p.output().display().to_string(),
    );
    let end = "2026-11-24";
    cxpipe_ok(&[
        "generate",
        "--output",
        &input,
        "--customers",
        "1500",
        "--days",
        "365",
        "--end",
        end,
        "--seed",
        "42",
    ]);
    cxpipe_ok(&["run", "--input", &input, "--output", &output, "--date", end]);
    let report = p.output().join(format!("runs/{end}/report.html"));
    let out_dir = artifacts();
    std::fs::create_dir_all(&out_dir).expect("artifact folder");
    std::fs::copy(&report, out_dir.join("report.html")).expect("keep the report");

    let run = Command::new("node")
        .arg(browser_dir.join("screenshot.js"))
        .arg(&report)
        .arg(&out_dir)
        .args(["1280:screenshot", "390:screenshot-phone"])
        .output()
        .expect("run node");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser check failed: {stderr}");
    let result: serde_json::Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("browser output: {e}: {stderr}"));
    assert_eq!(
        result["consoleErrors"],
        serde_json::json!([]),
        "console errors"
    );
    assert_eq!(result["pageErrors"], serde_json::json!([]), "page errors");
    assert_eq!(
        result["requests"],
        serde_json::json!([]),
        "network requests"
    );
    assert!(
        result["title"]
            .as_str()
            .is_some_and(|t| t.contains(end) || t.contains("24 Nov 2026")),
        "title: {}",
        result["title"]
    );
    for name in ["screenshot.png", "screenshot-phone.png", "screenshot.pdf"] {
        let size = std::fs::metadata(out_dir.join(name)).map_or(0, |m| m.len());
        assert!(size > 10_000, "{name} is {size} bytes");
    }
    // Printed to A4, sections start on pages of their own: the first page and at least one page
    // per later section.
    let pdf = std::fs::read(out_dir.join("screenshot.pdf")).expect("pdf");
    let pdf = String::from_utf8_lossy(&pdf);
    let pages: usize = pdf
        .split("/Count ")
        .skip(1)
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .max()
        .unwrap_or(0);
    assert!(pages >= 6, "the A4 print has {pages} pages");
}
