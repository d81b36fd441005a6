-- experience_quality_monthly: one row per calendar month x channel with any event that month,
-- plus channel 'all' for the month as a whole. Over every event, prospects included.
--   nps = 100 x (answers 9-10 - answers 0-6) / answers;  csat = 100 x share of answers 4-5;
--   ces_avg = mean answer (1-7, 7 = very easy);
--   searches = search + search_no_results; failed_search_rate = search_no_results / searches;
--   resolution_rate = support_resolved / support_contacts (resolutions can follow contacts of an
--   earlier month, so a month can exceed 1);
--   median_wait_s = median duration_s of support_contact events.
-- A metric with no answers (or no searches, no contacts) is null, never 0.
-- test: unique(month, channel)
-- test: range(nps, -100, 100)
-- test: range(csat, 0, 100)
-- test: range(ces_avg, 1, 7)
-- test: range(failed_search_rate, 0, 1)
with monthly as (
    select cast(date_trunc('month', event_date) as date) as month, *
    from int_quality_counts
),

totals as (
    select
        month,
        case when grouping(channel) = 1 then 'all' else channel end as channel,
        sum(nps_responses) as nps_responses,
        sum(promoters) as promoters,
        sum(detractors) as detractors,
        sum(csat_responses) as csat_responses,
        sum(satisfied) as satisfied,
        sum(ces_responses) as ces_responses,
        sum(ces_total) as ces_total,
        sum(searches) as searches,
        sum(failed_searches) as failed_searches,
        sum(support_contacts) as support_contacts,
        sum(support_resolved) as support_resolved
    from monthly
    group by grouping sets ((month, channel), (month))
),

waits as (
    select
        month,
        case when grouping(channel) = 1 then 'all' else channel end as channel,
        median(duration_s) as median_wait_s
    from int_support_waits
    group by grouping sets ((month, channel), (month))
)

select
    t.month,
    t.channel,
    t.nps_responses,
    100.0 * (t.promoters - t.detractors) / nullif(t.nps_responses, 0) as nps,
    t.csat_responses,
    100.0 * t.satisfied / nullif(t.csat_responses, 0) as csat,
    t.ces_responses,
    cast(t.ces_total as double) / nullif(t.ces_responses, 0) as ces_avg,
    t.searches,
    cast(t.failed_searches as double) / nullif(t.searches, 0) as failed_search_rate,
    t.support_contacts,
    t.support_resolved,
    cast(t.support_resolved as double) / nullif(t.support_contacts, 0) as resolution_rate,
    w.median_wait_s
from totals as t
left join waits as w on w.month = t.month and w.channel = t.channel
order by t.month, t.channel = 'all', t.channel
