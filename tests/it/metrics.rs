//! The core tables against numbers worked out by hand from the contract's definitions
//! (/work/shared/CONTRACT.md §1–§3), on small fixtures written out in each test. Every expected
//! row carries the hand computation beside it; none of it comes from `queries/`.

use crate::support::*;

/// An event of a known customer on the customer's own device, `a-<customer>`.
fn by(customer: &str, event_id: &str, at: &str, touchpoint: &str) -> Event {
    ev(event_id, at, &format!("a-{customer}"), touchpoint).customer(customer)
}

fn purchase(customer: &str, event_id: &str, at: &str) -> Event {
    by(customer, event_id, at, "purchase").revenue(30.0)
}

fn survey(customer: &str, event_id: &str, at: &str) -> Event {
    by(customer, event_id, at, "survey_response")
}

/// One `page_view` at noon on each of `days` consecutive days from `first` (YYYY-MM-DD).
fn daily(customer: &str, first: &str, days: u64) -> Vec<Event> {
    (0..days)
        .map(|i| {
            let day = date(first) + chrono::Days::new(i);
            by(
                customer,
                &format!("{customer}-{day}"),
                &format!("{day} 12:00"),
                "page_view",
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// customer_experience
// ---------------------------------------------------------------------------------------------

#[test]
fn customer_experience_each_poor_and_good_rule_on_its_own() {
    // Every purchase is on 2026-01-05 10:00, so every window is [01-05 10:00, 02-04 10:00) and
    // complete by the end of R = 2026-02-28; all the other events are inside it.
    let buy = "2026-01-05 10:00";
    let p = TestProject::new().events(&[
        purchase("G1", "g1p", buy),
        survey("G1", "g1s", "2026-01-06 10:00").nps(9),
        purchase("G2", "g2p", buy),
        survey("G2", "g2s", "2026-01-06 10:00").csat(5),
        purchase("G3", "g3p", buy),
        survey("G3", "g3s", "2026-01-06 10:00").ces(6),
        purchase("N1", "n1p", buy),
        survey("N1", "n1s1", "2026-01-06 10:00")
            .nps(8)
            .csat(4)
            .ces(5),
        survey("N1", "n1s2", "2026-01-07 10:00")
            .nps(7)
            .csat(3)
            .ces(4),
        by("N1", "n1f1", "2026-01-08 10:00", "search_no_results"),
        by("N1", "n1f2", "2026-01-08 10:05", "search_no_results"),
        by("N1", "n1c", "2026-01-09 10:00", "support_contact"),
        by("N1", "n1r", "2026-01-09 11:00", "support_resolved"),
        purchase("N2", "n2p", buy),
        by("N2", "n2v", "2026-01-06 10:00", "page_view"),
        purchase("P1", "p1p", buy),
        survey("P1", "p1s", "2026-01-06 10:00").nps(6),
        purchase("P2", "p2p", buy),
        survey("P2", "p2s", "2026-01-06 10:00").csat(2),
        purchase("P3", "p3p", buy),
        survey("P3", "p3s", "2026-01-06 10:00").ces(3),
        purchase("P4", "p4p", buy),
        by("P4", "p4f1", "2026-01-06 10:00", "search_no_results"),
        by("P4", "p4f2", "2026-01-07 10:00", "search_no_results"),
        by("P4", "p4f3", "2026-01-08 10:00", "search_no_results"),
        purchase("P5", "p5p", buy),
        by("P5", "p5r", "2026-01-06 10:00", "return").revenue(-30.0),
        purchase("P6", "p6p", buy),
        by("P6", "p6c1", "2026-01-06 10:00", "support_contact"),
        by("P6", "p6c2", "2026-01-07 10:00", "support_contact"),
        by("P6", "p6r", "2026-01-07 11:00", "support_resolved"),
        purchase("P7", "p7p", buy),
        survey("P7", "p7s", "2026-01-06 10:00").nps(4).csat(5),
    ]);
    p.run_ok("2026-02-28");
    assert_eq!(
        p.table(
            "2026-02-28",
            "customer_experience",
            &[
                "customer_id",
                "nps_min",
                "csat_min",
                "ces_min",
                "failed_searches",
                "returns",
                "support_contacts",
                "support_resolved",
                "experience_class",
            ],
        ),
        vec![
            // nps 9 -> good (nothing poor)
            "G1 | 9 | null | null | 0 | 0 | 0 | 0 | good",
            // csat 5 -> good
            "G2 | null | 5 | null | 0 | 0 | 0 | 0 | good",
            // ces 6 -> good
            "G3 | null | null | 6 | 0 | 0 | 0 | 0 | good",
            // mins 7/3/4: nps 7,8 not <=6 nor >=9; csat 3,4 not <=2 nor 5; ces 4,5 not <=3 nor >=6;
            // 2 failed searches < 3; 1 contact = 1 resolved -> neutral
            "N1 | 7 | 3 | 4 | 2 | 0 | 1 | 1 | neutral",
            // no surveys, nothing poor -> neutral, mins null
            "N2 | null | null | null | 0 | 0 | 0 | 0 | neutral",
            // nps 6 <= 6 -> poor
            "P1 | 6 | null | null | 0 | 0 | 0 | 0 | poor",
            // csat 2 <= 2 -> poor
            "P2 | null | 2 | null | 0 | 0 | 0 | 0 | poor",
            // ces 3 <= 3 -> poor
            "P3 | null | null | 3 | 0 | 0 | 0 | 0 | poor",
            // 3 search_no_results >= 3 -> poor
            "P4 | null | null | null | 3 | 0 | 0 | 0 | poor",
            // 1 return >= 1 -> poor
            "P5 | null | null | null | 0 | 1 | 0 | 0 | poor",
            // 2 contacts > 1 resolved -> poor
            "P6 | null | null | null | 0 | 0 | 2 | 1 | poor",
            // nps 4 is poor; poor wins over the good csat 5
            "P7 | 4 | 5 | null | 0 | 0 | 0 | 0 | poor",
        ]
    );
}

#[test]
fn customer_experience_window_edges_completeness_and_run_date_cutoff() {
    // R = 2026-02-03: the end of R is 2026-02-04 00:00:00.
    let p = TestProject::new().events(&[
        // W1: window [01-04 12:00, 02-03 12:00).
        by("W1", "w1r", "2026-01-04 11:59", "return").revenue(-5.0), // before the window
        purchase("W1", "w1p", "2026-01-04 12:00"),
        survey("W1", "w1in", "2026-02-03 11:59:59").nps(9), // last second inside
        survey("W1", "w1out", "2026-02-03 12:00:00").nps(2), // = first purchase + 30 days: outside
        // W2: window ends exactly at the end of R.
        purchase("W2", "w2p", "2026-01-05 00:00:00"),
        // ... and an answer in a partition after R, never read.
        survey("W2", "w2late", "2026-01-10 10:00")
            .nps(1)
            .arrives("2026-02-04"),
        // W3: window ends one second after the end of R.
        purchase("W3", "w3p", "2026-01-05 00:00:01"),
        survey("W3", "w3s", "2026-01-10 10:00").csat(1),
        // W4: the later purchase arrives first; the earlier one arrives late.
        purchase("W4", "w4p2", "2026-01-25 10:00"),
        purchase("W4", "w4p1", "2026-01-20 10:00").arrives("2026-01-27"),
        survey("W4", "w4s", "2026-01-21 10:00").nps(10),
        // occurred after R, inside W4's window, but landed in a partition <= R: ignored.
        survey("W4", "w4future", "2026-02-05 10:00")
            .ces(1)
            .arrives("2026-02-03"),
        // W5 never buys; a prospect buys but is never identified: neither has a row.
        by("W5", "w5v", "2026-01-06 10:00", "page_view"),
        ev("x1", "2026-01-06 10:00", "prospect", "purchase").revenue(9.0),
        // Y1: first purchase in the last second of 2025.
        purchase("Y1", "y1p", "2025-12-31 23:59:59"),
        survey("Y1", "y1s", "2026-01-02 10:00").nps(6),
    ]);
    p.run_ok("2026-02-03");
    assert_eq!(
        p.table(
            "2026-02-03",
            "customer_experience",
            &[
                "customer_id",
                "first_purchase_at",
                "cohort_month",
                "window_complete",
                "nps_min",
                "csat_min",
                "ces_min",
                "returns",
                "experience_class",
            ],
        ),
        vec![
            // 02-03 12:00 <= 02-04 00:00 -> complete; only nps 9 inside -> good; return was before
            "W1 | 2026-01-04 12:00:00 | 2026-01-01 | true | 9 | null | null | 0 | good",
            // 01-05 00:00 + 30 d = 02-04 00:00 <= end of R -> complete; nps 1 is in date=02-04 -> neutral
            "W2 | 2026-01-05 00:00:00 | 2026-01-01 | true | null | null | null | 0 | neutral",
            // 02-04 00:00:01 > end of R -> not complete; csat 1 -> poor
            "W3 | 2026-01-05 00:00:01 | 2026-01-01 | false | null | 1 | null | 0 | poor",
            // earliest purchase by occurred_at is 01-20; ces 1 after R ignored; nps 10 -> good
            "W4 | 2026-01-20 10:00:00 | 2026-01-01 | false | 10 | null | null | 0 | good",
            // cohort December 2025; window to 2026-01-30 23:59:59 complete; nps 6 -> poor
            "Y1 | 2025-12-31 23:59:59 | 2025-12-01 | true | 6 | null | null | 0 | poor",
        ]
    );
}

#[test]
fn customer_experience_stitching_duplicates_and_late_arrivals() {
    let p = TestProject::new().events(&[
        // C1: anonymous on a1 before and after signing up; two of its three failed searches are
        // anonymous and still count for C1.
        ev("e1", "2026-01-05 09:00", "a1", "page_view"),
        ev("e2", "2026-01-05 09:05", "a1", "signup").customer("C1"),
        ev("e3", "2026-01-05 09:10", "a1", "purchase")
            .customer("C1")
            .revenue(50.0),
        ev("e4", "2026-01-06 10:00", "a1", "search_no_results"),
        ev("e5", "2026-01-07 10:00", "a1", "search_no_results"),
        ev("e6", "2026-01-08 10:00", "a1", "search_no_results").customer("C1"),
        // C2: bought as a guest on a2, logged in later.
        ev("e10", "2026-01-10 08:00", "a2", "purchase").revenue(20.0),
        ev("e11", "2026-01-12 09:00", "a2", "login").customer("C2"),
        ev("e12", "2026-01-15 09:00", "a2", "purchase")
            .customer("C2")
            .revenue(20.0),
        // a3 is shared: C3 is its earliest identified event, C4 logs in on it later. Its
        // anonymous events all belong to C3.
        ev("e20", "2026-01-03 09:00", "a3", "login").customer("C3"),
        ev("e21", "2026-01-04 08:00", "a3", "purchase").revenue(10.0),
        ev("e22", "2026-01-09 12:00", "a3", "purchase")
            .customer("C4")
            .revenue(10.0),
        ev("e23", "2026-01-10 12:00", "a3", "survey_response").nps(1),
        // C5: a survey and a failed search each arrive again a day late.
        purchase("C5", "e30", "2026-01-20 10:00"),
        survey("C5", "e31", "2026-01-21 10:00").csat(5),
        survey("C5", "e31", "2026-01-21 10:00")
            .csat(1)
            .arrives("2026-01-22"),
        by("C5", "e32", "2026-01-21 11:00", "search_no_results"),
        by("C5", "e33", "2026-01-21 12:00", "search_no_results"),
        by("C5", "e33", "2026-01-21 12:00", "search_no_results").arrives("2026-01-22"),
        // C6: a return that lands three days late.
        purchase("C6", "e40", "2026-01-25 10:00"),
        by("C6", "e41", "2026-01-26 10:00", "return")
            .revenue(-10.0)
            .arrives("2026-01-29"),
    ]);
    p.run_ok("2026-01-31");
    assert_eq!(
        p.table(
            "2026-01-31",
            "customer_experience",
            &[
                "customer_id",
                "first_purchase_at",
                "nps_min",
                "csat_min",
                "failed_searches",
                "returns",
                "experience_class",
            ],
        ),
        vec![
            // e4, e5 (anonymous a1 -> C1) + e6 = 3 failed searches -> poor
            "C1 | 2026-01-05 09:10:00 | null | null | 3 | 0 | poor",
            // guest purchase e10 on a2 -> C2 (a2's earliest identified event is C2's login)
            "C2 | 2026-01-10 08:00:00 | null | null | 0 | 0 | neutral",
            // anonymous purchase e21 and nps 1 (e23) on a3 -> C3, a3's earliest identified owner
            "C3 | 2026-01-04 08:00:00 | 1 | null | 0 | 0 | poor",
            // C4 gets none of a3's anonymous events -> neutral
            "C4 | 2026-01-09 12:00:00 | null | null | 0 | 0 | neutral",
            // e31 first arrival csat 5 wins over the late copy's 1; e33 counted once -> 2 < 3 -> good
            "C5 | 2026-01-20 10:00:00 | null | 5 | 2 | 0 | good",
            // late return (arrived 01-29) still inside the window -> poor
            "C6 | 2026-01-25 10:00:00 | null | null | 0 | 1 | poor",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// retention_monthly and experience_retention
// ---------------------------------------------------------------------------------------------

#[test]
fn retention_monthly_across_the_year_boundary() {
    let p = TestProject::new().events(&[
        // Cohort December 2025: D1, D2, D3.
        purchase("D1", "d1p", "2025-12-10 10:00"),
        by("D1", "d1v", "2026-01-15 10:00", "page_view"),
        purchase("D1", "d1p2", "2026-02-03 10:00"),
        purchase("D2", "d2p", "2025-12-31 23:30"),
        by("D2", "d2v", "2026-01-01 00:10", "page_view"),
        by("D2", "d2o", "2026-02-02 09:00", "email_open"), // not activity
        ev("d3p", "2025-12-05 10:00", "a-D3", "purchase").revenue(30.0), // anonymous -> D3
        by("D3", "d3l", "2025-12-06 10:00", "login"),
        by("D3", "d3i", "2026-01-20 10:00", "ad_impression"), // not activity
        by("D3", "d3v", "2026-02-01 10:00", "page_view").arrives("2026-02-05"), // late
        // Cohort January 2026: J1, J2.
        purchase("J1", "j1p", "2026-01-31 23:59"),
        by("J1", "j1v", "2026-02-01 00:00", "page_view"),
        by("J2", "j2v0", "2025-12-20 10:00", "page_view"), // before its cohort month
        purchase("J2", "j2p", "2026-01-10 10:00"),
        by("J2", "j2future", "2026-02-11 08:00", "page_view").arrives("2026-02-10"), // after R
        by("J2", "j2unread", "2026-02-09 08:00", "page_view").arrives("2026-02-11"), // partition > R
        // Cohort February 2026: F1 in the last second of R.
        purchase("F1", "f1p", "2026-02-10 23:59:59"),
        // A prospect's purchase is in no cohort.
        ev("x1", "2026-01-05 10:00", "prospect", "purchase").revenue(9.0),
    ]);
    p.run_ok("2026-02-10");
    assert_eq!(
        p.table(
            "2026-02-10",
            "retention_monthly",
            &[
                "cohort_month",
                "month_number",
                "cohort_customers",
                "active_customers",
                "purchasing_customers",
                "active_rate",
                "purchasing_rate",
            ],
        ),
        vec![
            // Dec: D1, D2 (12-31 23:30), D3 (anonymous purchase) all buy -> 3/3, 3/3
            "2025-12-01 | 0 | 3 | 3 | 3 | 1 | 1",
            // Jan: D1 page_view, D2 01-01 00:10; D3 only ad_impression -> 2/3, 0/3
            "2025-12-01 | 1 | 3 | 2 | 0 | 0.6667 | 0",
            // Feb: D1 buys, D3 late page_view on 02-01; D2 only email_open -> 2/3, 1/3
            "2025-12-01 | 2 | 3 | 2 | 1 | 0.6667 | 0.3333",
            // Jan: J1, J2 buy -> 2/2, 2/2 (J2's December page_view is before its cohort)
            "2026-01-01 | 0 | 2 | 2 | 2 | 1 | 1",
            // Feb: J1 page_view 02-01; J2's events are after R / in a later partition -> 1/2, 0/2
            "2026-01-01 | 1 | 2 | 1 | 0 | 0.5 | 0",
            // Feb: F1 -> 1/1, 1/1; R's month is the last month_number
            "2026-02-01 | 0 | 1 | 1 | 1 | 1 | 1",
        ]
    );
}

#[test]
fn experience_retention_splits_complete_windows_by_class() {
    // R = 2026-02-15: a window is complete when the first purchase is <= 2026-01-17 00:00.
    let p = TestProject::new().events(&[
        purchase("A", "ap", "2025-12-10 10:00"),
        survey("A", "as", "2025-12-11 10:00").nps(10), // good
        by("A", "av", "2026-01-20 10:00", "page_view"),
        purchase("A", "ap2", "2026-02-02 10:00"),
        purchase("B", "bp", "2025-12-15 10:00"),
        survey("B", "bs", "2025-12-16 10:00").nps(3), // poor
        purchase("C", "cp", "2025-12-20 10:00"),
        survey("C", "cs", "2025-12-21 10:00").nps(10), // good
        by("C", "cv", "2026-02-14 10:00", "page_view"),
        purchase("D", "dp", "2026-01-05 10:00"),
        survey("D", "ds", "2026-01-06 10:00").csat(1), // poor
        by("D", "dv", "2026-02-10 10:00", "page_view"),
        purchase("E", "ep", "2026-01-16 23:59"), // neutral; window ends 02-15 23:59: complete
        purchase("F", "fp", "2026-01-20 10:00"), // window ends 02-19: incomplete, left out
        survey("F", "fs", "2026-01-21 10:00").nps(10),
        by("F", "fv", "2026-02-01 10:00", "page_view"),
    ]);
    p.run_ok("2026-02-15");
    assert_eq!(
        p.table(
            "2026-02-15",
            "experience_retention",
            &[
                "cohort_month",
                "experience_class",
                "month_number",
                "cohort_customers",
                "active_customers",
                "purchasing_customers",
                "active_rate",
                "purchasing_rate",
            ],
        ),
        vec![
            // Dec good = {A, C}: Dec both buy -> 2/2
            "2025-12-01 | good | 0 | 2 | 2 | 2 | 1 | 1",
            // Jan: A page_view -> 1/2, 0/2
            "2025-12-01 | good | 1 | 2 | 1 | 0 | 0.5 | 0",
            // Feb: A buys, C page_view -> 2/2, 1/2
            "2025-12-01 | good | 2 | 2 | 2 | 1 | 1 | 0.5",
            // Dec poor = {B}: buys in Dec, nothing after
            "2025-12-01 | poor | 0 | 1 | 1 | 1 | 1 | 1",
            "2025-12-01 | poor | 1 | 1 | 0 | 0 | 0 | 0",
            "2025-12-01 | poor | 2 | 1 | 0 | 0 | 0 | 0",
            // Jan neutral = {E}: buys in Jan, nothing in Feb (no Dec neutral, Jan good rows)
            "2026-01-01 | neutral | 0 | 1 | 1 | 1 | 1 | 1",
            "2026-01-01 | neutral | 1 | 1 | 0 | 0 | 0 | 0",
            // Jan poor = {D}: buys in Jan, page_view in Feb -> 1/1, 0/1
            "2026-01-01 | poor | 0 | 1 | 1 | 1 | 1 | 1",
            "2026-01-01 | poor | 1 | 1 | 1 | 0 | 1 | 0",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// engagement_tiers
// ---------------------------------------------------------------------------------------------

#[test]
fn engagement_tiers_count_active_days_in_the_last_28() {
    // R = 2026-03-31: active days are counted in [03-04, 03-31].
    let mut events = Vec::new();
    events.extend(daily("PW", "2026-03-04", 12)); // 03-04..03-15: 12 days
    events.push(by("PW", "pw-extra", "2026-03-04 18:00", "login")); // same day, counted once
    events.extend(daily("CO1", "2026-03-20", 11)); // 03-20..03-30: 11 days
    events.extend(daily("CO2", "2026-03-28", 4)); // 03-28..03-31: 4 days
    events.extend([
        // CA: 03-03 is outside; anonymous 03-10 is stitched to CA; email_open/ad_impression
        // are not activity -> 03-04, 03-10, 03-31 = 3 days.
        by("CA", "ca1", "2026-03-03 10:00", "login"),
        by("CA", "ca2", "2026-03-04 10:00", "page_view"),
        by("CA", "ca3", "2026-03-05 10:00", "email_open"),
        by("CA", "ca4", "2026-03-06 10:00", "ad_impression"),
        ev("ca5", "2026-03-10 10:00", "a-CA", "page_view"),
        by("CA", "ca6", "2026-03-31 23:59", "page_view"),
        // DO: last active 03-03; its 04-01 event is after R.
        by("DO", "do1", "2026-03-03 10:00", "page_view"),
        by("DO", "do2", "2026-04-01 00:00", "page_view").arrives("2026-03-31"),
        // NA: only ever opened an email -> never active, not counted.
        by("NA", "na1", "2026-03-10 10:00", "email_open"),
    ]);
    // A prospect active on 17 days is no customer.
    events.extend((4..=20).map(|d| {
        ev(
            &format!("p{d}"),
            &format!("2026-03-{d:02} 09:00"),
            "prospect",
            "page_view",
        )
    }));
    let p = TestProject::new().events(&events);
    p.run_ok("2026-03-31");
    assert_eq!(
        p.table(
            "2026-03-31",
            "engagement_tiers",
            &["as_of", "tier", "customers", "share"],
        ),
        vec![
            // 5 customers ever active: PW, CO1, CO2, CA, DO
            "2026-03-31 | power | 1 | 0.2",   // PW 12 days >= 12
            "2026-03-31 | core | 2 | 0.4",    // CO1 11 days, CO2 4 days
            "2026-03-31 | casual | 1 | 0.2",  // CA 3 days
            "2026-03-31 | dormant | 1 | 0.2", // DO 0 days
        ]
    );
}

#[test]
fn engagement_tiers_keep_empty_tiers_with_zero_share() {
    let p = TestProject::new().events(&[by("C1", "e1", "2026-03-15 10:00", "page_view")]);
    p.run_ok("2026-03-31");
    assert_eq!(
        p.table(
            "2026-03-31",
            "engagement_tiers",
            &["as_of", "tier", "customers", "share"],
        ),
        vec![
            // the only customer is active 1 day -> casual 1/1, the rest 0
            "2026-03-31 | power | 0 | 0",
            "2026-03-31 | core | 0 | 0",
            "2026-03-31 | casual | 1 | 1",
            "2026-03-31 | dormant | 0 | 0",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// stickiness_daily
// ---------------------------------------------------------------------------------------------

#[test]
fn stickiness_daily_counts_distinct_customers_over_7_and_28_days() {
    let p = TestProject::new().events(&[
        by("C4", "c4a", "2025-12-10 12:00", "page_view"),
        by("C1", "c1a", "2026-01-01 09:00", "page_view"),
        by("C1", "c1b", "2026-01-01 18:00", "login"), // same day: once
        by("C1", "c1c", "2026-01-02 09:00", "page_view"),
        by("C1", "c1d", "2026-01-06 09:00", "page_view").arrives("2026-01-08"), // late
        by("C1", "c1e", "2026-01-08 09:00", "page_view"),
        by("C1", "c1f", "2026-01-11 08:00", "page_view").arrives("2026-01-10"), // after R
        ev("c2a", "2026-01-02 10:00", "a-C2", "page_view"), // anonymous, stitched to C2
        by("C2", "c2b", "2026-01-05 10:00", "login"),
        by("C2", "c2c", "2026-01-09 10:00", "page_view"),
        by("C3", "c3a", "2026-01-01 10:00", "page_view"),
        by("C3", "c3b", "2026-01-04 10:00", "email_open"), // not activity
        by("C5", "c5a", "2026-01-07 10:00", "page_view"),
        ev("x1", "2026-01-03 10:00", "prospect", "page_view"), // no customer
    ]);
    p.run_ok("2026-01-10");
    // Active days: C4 12-10; C1 01-01, 01-02, 01-06, 01-08; C2 01-02, 01-05, 01-09;
    // C3 01-01; C5 01-07.
    assert_eq!(
        p.table(
            "2026-01-10",
            "stickiness_daily",
            &["activity_date", "dau", "wau", "mau", "stickiness"],
        ),
        vec![
            "2025-12-10 | 1 | 1 | 1 | 1", // {C4}
            // dau {C1,C3}; wau 12-26..01-01 {C1,C3}; mau 12-05..01-01 {C1,C3,C4}; 2/3
            "2026-01-01 | 2 | 2 | 3 | 0.6667",
            // dau {C1,C2}; wau {C1,C2,C3}; mau 12-06..01-02 {C1..C4}; 2/4
            "2026-01-02 | 2 | 3 | 4 | 0.5",
            // 01-03 only the prospect, 01-04 only an email_open: no rows
            // dau {C2}; wau 12-30..01-05 {C1,C2,C3}; mau 12-09..01-05 {C1..C4}; 1/4
            "2026-01-05 | 1 | 3 | 4 | 0.25",
            // dau {C1} (late event); wau 12-31..01-06 {C1,C2,C3}; mau 12-10..01-06 still has C4
            "2026-01-06 | 1 | 3 | 4 | 0.25",
            // dau {C5}; wau 01-01..01-07 {C1,C2,C3,C5}; mau 12-11..01-07 drops C4 -> 4
            "2026-01-07 | 1 | 4 | 4 | 0.25",
            // dau {C1}; wau 01-02..01-08 drops C3 -> {C1,C2,C5}; mau {C1,C2,C3,C5}
            "2026-01-08 | 1 | 3 | 4 | 0.25",
            // dau {C2}; wau 01-03..01-09 {C1,C2,C5}; mau 4; 01-10 has only a post-R event
            "2026-01-09 | 1 | 3 | 4 | 0.25",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// lifecycle_weekly
// ---------------------------------------------------------------------------------------------

#[test]
fn lifecycle_weekly_with_a_week_spanning_two_months() {
    // Mondays: 03-16, 03-23, 03-30 (week 03-30..04-05 spans March and April), 04-06, 04-13,
    // 04-20 (= R).
    let p = TestProject::new().events(&[
        by("L1", "l1a", "2026-03-18 10:00", "page_view"), // week 03-16
        by("L1", "l1b", "2026-03-29 23:00", "page_view"), // Sunday: week 03-23
        by("L1", "l1c", "2026-04-02 10:00", "page_view"), // April, week 03-30
        by("L1", "l1d", "2026-04-20 10:00", "page_view"), // week 04-20
        by("L2", "l2a", "2026-03-31 10:00", "page_view").arrives("2026-04-03"), // week 03-30
        by("L2", "l2b", "2026-04-06 00:00", "page_view"), // week 04-06
        by("L2", "l2c", "2026-04-14 10:00", "email_open"), // not activity
        by("L2", "l2d", "2026-04-21 10:00", "page_view").arrives("2026-04-20"), // after R
        by("L3", "l3a", "2026-03-23 00:00", "page_view"), // Monday: week 03-23
        by("L3", "l3b", "2026-04-05 23:59", "page_view"), // Sunday: week 03-30
        by("L3", "l3c", "2026-04-20 09:00", "page_view"), // week 04-20
        ev("x1", "2026-04-14 10:00", "prospect", "page_view"), // no customer
    ]);
    p.run_ok("2026-04-20");
    assert_eq!(
        p.table(
            "2026-04-20",
            "lifecycle_weekly",
            &["week_start", "new", "returning", "resurrecting", "dormant"],
        ),
        vec![
            // {L1}: L1 new
            "2026-03-16 | 1 | 0 | 0 | 0",
            // {L1,L3}: L3 new, L1 returning
            "2026-03-23 | 1 | 1 | 0 | 0",
            // {L1,L2,L3}: L2 new, L1 and L3 returning
            "2026-03-30 | 1 | 2 | 0 | 0",
            // {L2}: L2 returning; L1, L3 dormant
            "2026-04-06 | 0 | 1 | 0 | 2",
            // week 04-13: no customer active (email_open, prospect) -> no row
            // {L1,L3}: both active before but not in 04-13 -> resurrecting; nobody was active in
            // 04-13 -> 0 dormant
            "2026-04-20 | 0 | 0 | 2 | 0",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// experience_quality_monthly
// ---------------------------------------------------------------------------------------------

#[test]
fn experience_quality_monthly_by_channel_with_out_of_range_scores() {
    let p = TestProject::new().events(&[
        // January, web surveys.
        survey("C1", "q1", "2026-01-10 10:00").nps(10),
        ev("q2", "2026-01-11 10:00", "p1", "survey_response").nps(9), // prospect
        survey("C2", "q3", "2026-01-31 23:00")
            .nps(5)
            .arrives("2026-02-02"), // late: January
        survey("C3", "q4", "2026-01-12 10:00").nps(11).csat(5),       // nps 11 out of range
        survey("C3", "q5", "2026-01-12 11:00").csat(4).ces(7),
        survey("C3", "q6", "2026-01-12 12:00").csat(3).ces(2),
        survey("C3", "q7", "2026-01-12 13:00").csat(0).ces(8), // both out of range
        // January, web searches.
        by("C1", "s1", "2026-01-13 10:00", "search"),
        by("C1", "s2", "2026-01-13 10:01", "search"),
        by("C1", "s3", "2026-01-13 10:02", "search_no_results"),
        // January, chat support.
        by("C4", "k1", "2026-01-14 10:00", "support_contact")
            .channel("chat")
            .duration(30.0),
        by("C4", "k2", "2026-01-15 10:00", "support_contact")
            .channel("chat")
            .duration(90.0),
        ev("k3", "2026-01-16 10:00", "p2", "support_contact")
            .channel("chat")
            .duration(60.0), // prospect
        by("C4", "k4", "2026-01-14 11:00", "support_resolved").channel("chat"),
        by("C4", "k5", "2026-01-15 11:00", "support_resolved").channel("chat"),
        // January, app and two unknown channels (-> other).
        by("C5", "k6", "2026-01-17 10:00", "support_contact")
            .channel("app")
            .duration(10.0),
        by("C1", "s4", "2026-01-18 10:00", "search_no_results").channel("kiosk"),
        by("C5", "k7", "2026-01-19 10:00", "support_contact")
            .channel("fax")
            .duration(100.0),
        // February.
        survey("C1", "f1", "2026-02-03 10:00")
            .channel("email")
            .nps(6)
            .csat(1)
            .ces(1),
        by("C4", "f2", "2026-02-04 10:00", "support_resolved").channel("email"),
        by("C1", "f3", "2026-02-05 10:00", "page_view"),
        by("C1", "f4", "2026-02-06 10:00", "ad_impression").channel("social"), // not activity, still an event
        // March 1st, after R, in R's partition: ignored.
        by("C4", "m1", "2026-03-01 00:00", "support_contact")
            .channel("chat")
            .duration(5.0)
            .arrives("2026-02-28"),
    ]);
    p.run_ok("2026-02-28");
    assert_eq!(
        p.table(
            "2026-02-28",
            "experience_quality_monthly",
            &[
                "month",
                "channel",
                "nps_responses",
                "nps",
                "csat_responses",
                "csat",
                "ces_responses",
                "ces_avg",
                "searches",
                "failed_search_rate",
                "support_contacts",
                "support_resolved",
                "resolution_rate",
                "median_wait_s",
            ],
        ),
        vec![
            // app: one contact (10 s), nothing resolved -> rate 0/1 = 0
            "2026-01-01 | app | 0 | null | 0 | null | 0 | null | 0 | null | 1 | 0 | 0 | 10",
            // chat: 3 contacts (30, 90, 60 -> median 60), 2 resolved -> 0.6667
            "2026-01-01 | chat | 0 | null | 0 | null | 0 | null | 0 | null | 3 | 2 | 0.6667 | 60",
            // other = kiosk + fax: 1 search_no_results -> 1/1; 1 contact (100 s), 0 resolved
            "2026-01-01 | other | 0 | null | 0 | null | 0 | null | 1 | 1 | 1 | 0 | 0 | 100",
            // web: nps {10, 9, 5} (11 missing) -> 100*(2-1)/3; csat {5,4,3} (0 missing) -> 100*2/3;
            // ces {7,2} (8 missing) -> 4.5; searches 2 + 1 -> 1/3; no support -> null rate, median
            "2026-01-01 | web | 3 | 33.3333 | 3 | 66.6667 | 2 | 4.5 | 3 | 0.3333 | 0 | 0 | null | null",
            // all: surveys as web; searches 3 + 1 = 4, failed 2/4; contacts 3+1+1 = 5, resolved 2
            // -> 0.4; waits {10,30,60,90,100} -> median 60
            "2026-01-01 | all | 3 | 33.3333 | 3 | 66.6667 | 2 | 4.5 | 4 | 0.5 | 5 | 2 | 0.4 | 60",
            // email: nps {6} -> 100*(0-1)/1; csat {1} -> 0; ces {1}; 1 resolved over 0 contacts -> null
            "2026-02-01 | email | 1 | -100 | 1 | 0 | 1 | 1 | 0 | null | 0 | 1 | null | null",
            // social: only an ad_impression -> a row all the same, zero counts, null metrics
            "2026-02-01 | social | 0 | null | 0 | null | 0 | null | 0 | null | 0 | 0 | null | null",
            // web: a page_view only -> zero counts, null metrics
            "2026-02-01 | web | 0 | null | 0 | null | 0 | null | 0 | null | 0 | 0 | null | null",
            "2026-02-01 | all | 1 | -100 | 1 | 0 | 1 | 1 | 0 | null | 0 | 1 | null | null",
        ]
    );
}

#[test]
fn channels_and_touchpoints_count_after_trimming_and_lowercasing() {
    // Padded and capitalised values are the vocabulary's words once trimmed and lowercased
    // (CONTRACT.md §1); an unknown word stays unknown however it is written.
    let p = TestProject::new().events(&[
        by("C1", "s1", "2026-01-10 10:00", "search").channel(" Web "),
        by("C1", "s2", "2026-01-10 10:01", " SEARCH_NO_RESULTS ").channel("WEB"),
        by("C2", "k1", "2026-01-11 10:00", "Support_Contact").channel("Chat "),
        by("C2", "k2", "2026-01-11 11:00", "support_contact").channel("  Kiosk"),
        survey("C3", "e1", "2026-01-12 10:00")
            .channel(" EMAIL")
            .nps(10),
    ]);
    p.run_ok("2026-01-31");
    assert_eq!(
        p.table(
            "2026-01-31",
            "experience_quality_monthly",
            &[
                "month",
                "channel",
                "nps_responses",
                "nps",
                "searches",
                "failed_search_rate",
                "support_contacts",
            ],
        ),
        vec![
            // "Chat " is chat: one support contact.
            "2026-01-01 | chat | 0 | null | 0 | null | 1",
            // " EMAIL" is email: one promoter -> nps 100.
            "2026-01-01 | email | 1 | 100 | 0 | null | 0",
            // "  Kiosk" is no channel of the vocabulary: other.
            "2026-01-01 | other | 0 | null | 0 | null | 1",
            // " Web " and "WEB" are web: a search and a failed search -> 1/2.
            "2026-01-01 | web | 0 | null | 2 | 0.5 | 0",
            "2026-01-01 | all | 1 | 100 | 2 | 0.5 | 2",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// journey_funnel
// ---------------------------------------------------------------------------------------------

#[test]
fn journey_funnel_by_month_of_first_touch() {
    let p = TestProject::new().events(&[
        // C1: first touch an anonymous ad_impression on 01-03 00:00; first purchase 01-05 00:00
        // -> 2 days; 2 purchases; nps 10 -> advocated.
        ev("j1", "2026-01-03 00:00", "a-C1", "ad_impression"),
        ev("j2", "2026-01-03 10:00", "a-C1", "product_view"),
        purchase("C1", "j3", "2026-01-05 00:00"),
        purchase("C1", "j4", "2026-01-20 10:00"),
        survey("C1", "j5", "2026-01-21 10:00").nps(10),
        // C2: 01-10 12:00 -> 01-11 00:00 = 0.5 days; second purchase in February; review csat 4.
        by("C2", "j10", "2026-01-10 12:00", "page_view"),
        by("C2", "j11", "2026-01-10 12:30", "search"),
        purchase("C2", "j12", "2026-01-11 00:00"),
        purchase("C2", "j13", "2026-02-01 10:00"),
        by("C2", "j14", "2026-02-02 10:00", "review").csat(4),
        // C3: 1 day; repeated; review csat 3 and nps 8 -> not advocated.
        by("C3", "j20", "2026-01-15 06:00", "product_view"),
        purchase("C3", "j21", "2026-01-16 06:00"),
        purchase("C3", "j22", "2026-01-17 06:00"),
        by("C3", "j23", "2026-01-18 10:00", "review").csat(3),
        survey("C3", "j24", "2026-01-19 10:00").nps(8),
        // C4: considered only.
        by("C4", "j30", "2026-01-20 10:00", "add_to_cart"),
        // C5: buys without considering -> not considered, not purchased.
        purchase("C5", "j40", "2026-01-25 10:00"),
        by("C5", "j41", "2026-01-26 10:00", "social_interaction"),
        // Prospect p1 (a person by anonymous id): 01-28 00:00 -> 01-30 12:00 = 2.5 days.
        ev("j50", "2026-01-28 00:00", "p1", "search_no_results"),
        ev("j51", "2026-01-30 12:00", "p1", "purchase").revenue(15.0),
        // Prospect p2: a single ad impression.
        ev("j60", "2026-01-31 23:59", "p2", "ad_impression"),
        // February. C6: 02-01 00:00 -> 02-04 06:00 = 3.25 days; 2 purchases; social interaction.
        by("C6", "j70", "2026-02-01 00:00", "product_view"),
        purchase("C6", "j71", "2026-02-04 06:00"),
        purchase("C6", "j72", "2026-02-10 10:00"),
        by("C6", "j73", "2026-02-11 10:00", "social_interaction"),
        // C7 searches only.
        by("C7", "j80", "2026-02-02 10:00", "search"),
        // C8 views a product; its purchase is after R.
        by("C8", "j90", "2026-02-15 10:00", "product_view"),
        purchase("C8", "j91", "2026-03-01 00:00").arrives("2026-02-28"),
    ]);
    p.run_ok("2026-02-28");
    assert_eq!(
        p.table(
            "2026-02-28",
            "journey_funnel",
            &[
                "first_touch_month",
                "persons",
                "considered",
                "purchased",
                "repeated",
                "advocated",
                "median_days_to_purchase",
            ],
        ),
        vec![
            // persons C1..C5, p1, p2 = 7; considered C1, C2, C3, C4, p1 = 5; purchased C1, C2,
            // C3, p1 = 4; repeated C1, C2, C3 = 3; advocated C1 (nps 10), C2 (review csat 4) = 2;
            // days {2, 0.5, 1, 2.5} -> (1 + 2) / 2 = 1.5
            "2026-01-01 | 7 | 5 | 4 | 3 | 2 | 1.5",
            // persons C6, C7, C8 = 3, all considered; C6 purchased, repeated, advocated; 3.25
            "2026-02-01 | 3 | 3 | 1 | 1 | 1 | 3.25",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// data_quality
// ---------------------------------------------------------------------------------------------

#[test]
fn data_quality_counts_and_bad_rows_never_reach_the_metrics() {
    let p = TestProject::new().events(&[
        // date=2026-01-08: 7 rows.
        by("C1", "d1", "2026-01-08 09:00", "page_view"),
        purchase("C1", "d2", "2026-01-08 10:00"),
        survey("C1", "d3", "2026-01-08 11:00")
            .nps(11)
            .csat(0)
            .ces(8), // 3 scores out of range
        by("C1", "d4", "2026-01-08 11:30", "return")
            .revenue(-30.0)
            .without_event_id(), // dropped
        survey("C1", "d5", "2026-01-08 11:40")
            .nps(0)
            .without_anonymous_id(), // dropped
        by("C2", "d6", "2026-01-08 12:00", "page_view").channel("kiosk"), // unknown channel
        by("C2", "d7", "2026-01-08 13:00", "teleport"),                   // unknown touchpoint
        // date=2026-01-09: 3 rows.
        purchase("C1", "d2", "2026-01-08 10:00").arrives("2026-01-09"), // duplicate
        by("C2", "d8", "2026-01-07 09:00", "page_view").arrives("2026-01-09"), // late
        survey("C1", "d9", "2026-01-09 09:00")
            .nps(10)
            .csat(5)
            .ces(7),
        // date=2026-01-10: 6 rows.
        by("C1", "d10", "2026-01-11 08:00", "return")
            .revenue(-30.0)
            .arrives("2026-01-10"), // after R: dropped
        by("C2", "d11", "2026-01-08 23:59", "page_view").arrives("2026-01-10"), // late
        survey("C1", "d12", "2026-01-10 09:00").nps(-1), // 1 score out of range
        ev("d13", "2026-01-10 10:00", "", "page_view").customer("C2"), // blank anonymous_id: dropped
        ev("d15", "2026-01-10 10:05", "   ", "page_view").customer("C2"), // spaces only: dropped
        ev("d16", "2026-01-10 10:10", "a-16", "  ").customer("C2"), // spaces-only touchpoint: dropped
        // date=2026-01-11: after R, not read.
        by("C2", "d14", "2026-01-09 10:00", "page_view").arrives("2026-01-11"),
    ]);
    p.run_ok("2026-01-10");
    let row = p.table(
        "2026-01-10",
        "data_quality",
        &[
            "rows_read",
            "rows_kept",
            "dropped_invalid",
            "duplicates",
            "out_of_range_scores",
            "unknown_channels",
            "unknown_touchpoints",
            "late_events",
            "files_read",
        ],
    );
    assert_eq!(
        row,
        vec![
            // read 7 + 3 + 6 = 16; dropped d4, d5, d10, d13, d15, d16 = 6; duplicate d2 = 1;
            // kept 16 - 6 - 1 = 9; out of range d3 (nps, csat, ces) + d12 (nps) = 4;
            // kiosk 1; teleport 1; late d8 (01-07 in 01-09), d11 (01-08 in 01-10) = 2
            // (the duplicate d2 is not kept); files: date=01-08, 01-09, 01-10 = 3
            "16 | 9 | 6 | 1 | 4 | 1 | 1 | 2 | 3",
        ]
    );
    let bytes = p.table("2026-01-10", "data_quality", &["bytes_read"]);
    assert_eq!(bytes.len(), 1);
    assert!(
        bytes[0].parse::<i64>().expect("bytes_read is an integer") > 0,
        "bytes_read {bytes:?}"
    );
    assert_eq!(
        p.table(
            "2026-01-10",
            "customer_experience",
            &[
                "customer_id",
                "nps_min",
                "csat_min",
                "ces_min",
                "returns",
                "experience_class",
            ],
        ),
        vec![
            // kept scores in the window: d9 (10, 5, 7); d3's 11/0/8 and d12's -1 are missing;
            // d4's return and d5's nps 0 are dropped; d10's return is after R -> good
            "C1 | 10 | 5 | 7 | 0 | good",
        ]
    );
}

#[test]
fn identity_uses_the_earliest_identified_event_up_to_r() {
    // R = 2026-01-31.
    let p = TestProject::new().events(&[
        purchase("C1", "c1p", "2026-01-10 10:00"),
        // a9 is only identified after R (in R's partition): it stays a prospect.
        ev("n1", "2026-01-05 09:00", "a9", "product_view"),
        ev("n2", "2026-01-05 10:00", "a9", "purchase").revenue(20.0),
        ev("n3", "2026-02-01 08:00", "a9", "login")
            .customer("C9")
            .arrives("2026-01-31"),
        // a10: C10 identifies first by occurred_at (01-04) but arrives after C11's login (01-05).
        ev("n10", "2026-01-03 10:00", "a10", "page_view"),
        ev("n11", "2026-01-04 10:00", "a10", "login")
            .customer("C10")
            .arrives("2026-01-06"),
        ev("n12", "2026-01-05 10:00", "a10", "login").customer("C11"),
        ev("n13", "2026-01-07 10:00", "a10", "purchase").revenue(20.0),
        ev("n14", "2026-01-08 10:00", "a10", "purchase")
            .customer("C11")
            .revenue(20.0),
        // a20: two logins at the same instant name C21 and C20: the smaller customer id wins,
        // whichever event id or arrival comes first.
        ev("n21", "2026-01-12 10:00", "a20", "login").customer("C21"),
        ev("n22", "2026-01-12 10:00", "a20", "login")
            .customer("C20")
            .arrives("2026-01-13"),
        ev("n23", "2026-01-14 10:00", "a20", "purchase").revenue(20.0),
    ]);
    p.run_ok("2026-01-31");
    assert_eq!(
        p.table(
            "2026-01-31",
            "customer_experience",
            &["customer_id", "first_purchase_at"],
        ),
        vec![
            "C1 | 2026-01-10 10:00:00",
            // a10's anonymous purchase n13 -> C10, a10's earliest identified event by occurred_at
            "C10 | 2026-01-07 10:00:00",
            // C11 only gets its own purchase n14
            "C11 | 2026-01-08 10:00:00",
            // a20's anonymous purchase n23 -> C20 (tied with C21 at a20's earliest login)
            "C20 | 2026-01-14 10:00:00",
            // no C9: its login is after R, so a9's purchase stays a prospect's
        ]
    );
    assert_eq!(
        p.table(
            "2026-01-31",
            "journey_funnel",
            &[
                "first_touch_month",
                "persons",
                "considered",
                "purchased",
                "repeated",
                "advocated",
                "median_days_to_purchase",
            ],
        ),
        vec![
            // persons C1, a9 (prospect), C10, C11, C20, C21 = 6; only a9 considered
            // (product_view) and bought: 09:00 -> 10:00 = 1/24 day = 0.0417
            "2026-01-01 | 6 | 1 | 1 | 0 | 0 | 0.0417",
        ]
    );
}

#[test]
fn a_valid_copy_of_a_dropped_row_is_kept_not_a_duplicate() {
    let p = TestProject::new().events(&[
        // The first arrival lacks its anonymous_id (dropped); the copy a day later is valid.
        purchase("C1", "e1", "2026-01-08 10:00").without_anonymous_id(),
        purchase("C1", "e1", "2026-01-08 10:00").arrives("2026-01-09"),
    ]);
    p.run_ok("2026-01-10");
    assert_eq!(
        p.table(
            "2026-01-10",
            "data_quality",
            &[
                "rows_read",
                "rows_kept",
                "dropped_invalid",
                "duplicates",
                "late_events",
                "files_read",
            ],
        ),
        // 2 read; the first is dropped, so the second is the first kept copy of e1: kept 1,
        // 0 duplicates; it arrived 01-09 for 01-08 -> late; 2 partitions -> 2 files
        vec!["2 | 1 | 1 | 0 | 1 | 2"]
    );
    assert_eq!(
        p.table(
            "2026-01-10",
            "customer_experience",
            &["customer_id", "first_purchase_at"],
        ),
        vec!["C1 | 2026-01-08 10:00:00"]
    );
}

#[test]
fn of_several_copies_the_first_to_arrive_is_kept_by_day_then_file_then_row() {
    let p = TestProject::new().shipped_queries_plus(&[(
        "kept_copies",
        "-- materialized: table\nselect event_id, nps, substr(source_file, strpos(source_file, 'date=')) as file from touchpoints",
    )]);
    let file = |day: &str, name: &str, events: &[&Event]| {
        let path = p.input().join(format!("touchpoints/date={day}/{name}"));
        write_parquet(&path, &batch(events));
    };
    let copy = |id: &str, at: &str, nps: i32| ev(id, at, "a1", "survey_response").nps(nps);
    // e1 twice in one file: the first row is kept, though the second occurred earlier.
    // e2 in two files of one day: part-0 is read before part-1.
    // e3 arrived 01-08 in part-5 and again 01-09 in part-0: the earlier day wins over the path.
    file(
        "2026-01-09",
        "part-0.parquet",
        &[
            &copy("e1", "2026-01-08 12:00", 3),
            &copy("e1", "2026-01-08 09:00", 10),
            &copy("e2", "2026-01-08 12:00", 9),
            &copy("e3", "2026-01-08 12:00", 0),
        ],
    );
    file(
        "2026-01-09",
        "part-1.parquet",
        &[&copy("e2", "2026-01-08 08:00", 0)],
    );
    file(
        "2026-01-08",
        "part-5.parquet",
        &[&copy("e3", "2026-01-08 12:00", 10)],
    );
    p.run_ok("2026-01-10");
    let mut kept = p.table("2026-01-10", "kept_copies", &["event_id", "nps", "file"]);
    kept.sort();
    assert_eq!(
        kept,
        vec![
            "e1 | 3 | date=2026-01-09/part-0.parquet",
            "e2 | 9 | date=2026-01-09/part-0.parquet",
            "e3 | 10 | date=2026-01-08/part-5.parquet",
        ]
    );
    assert_eq!(
        p.table(
            "2026-01-10",
            "data_quality",
            &["rows_read", "rows_kept", "duplicates"]
        ),
        // 6 rows, 3 events: 3 later copies
        vec!["6 | 3 | 3"]
    );
}

// ---------------------------------------------------------------------------------------------
// rpt_kpis_monthly
// ---------------------------------------------------------------------------------------------

/// Purchases and net revenue per month count every valid event once, prospects included, on
/// incremental nights: the late purchase counts for its own month, the resent copy once.
#[test]
fn rpt_kpis_monthly_revenue_over_all_events_across_nights() {
    let p = TestProject::new().events(&[
        purchase("C1", "j1", "2026-01-10 10:00"), // 30.00 paid
        ev("j2", "2026-01-20 10:00", "visitor", "purchase").revenue(12.5), // a prospect's
        by("C1", "j3", "2026-01-25 10:00", "return").revenue(-30.0), // 30.00 refunded
        purchase("C2", "j4", "2026-01-31 23:30")
            .revenue(20.0)
            .arrives("2026-02-02"), // late: January's, read on the second night
        purchase("C3", "j5", "2026-01-10 18:00")
            .revenue(5.0)
            .arrives("2026-02-02"), // late too: January 10th then has a row from each night
        purchase("C2", "f1", "2026-02-01 09:00").revenue(7.25),
        by("C2", "f2", "2026-02-03 10:00", "page_view").revenue(99.0), // not paid or refunded
        purchase("C1", "j1", "2026-01-10 10:00").arrives("2026-02-03"), // j1 sent again
    ]);
    p.run_ok("2026-02-01")
        .run_ok("2026-02-02")
        .run_ok("2026-02-03");
    assert_eq!(
        manifest(&p.output(), "2026-02-03")["state"]["mode"],
        "incremental"
    );
    assert_eq!(
        p.table(
            "2026-02-03",
            "rpt_kpis_monthly",
            &["month", "purchases", "net_revenue"]
        ),
        vec![
            // j1, j2, j4, j5: 4 purchases; 30 + 12.5 + 20 + 5 paid - 30 refunded = 37.5
            "2026-01-01 | 4 | 37.5",
            // f1: 1 purchase, 7.25 (f2's amount is on a page view; j1's copy is j1)
            "2026-02-01 | 1 | 7.25",
        ]
    );
}
