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
with events as (
    select
        cast(date_trunc('month', occurred_at) as date) as month,
        channel,
        touchpoint,
        nps,
        csat,
        ces,
        duration_s
    from int_events
),

totals as (
    select
        month,
        case when grouping(channel) = 1 then 'all' else channel end as channel,
        count(nps) as nps_responses,
        count(*) filter (where nps >= 9) as promoters,
        count(*) filter (where nps <= 6) as detractors,
        count(csat) as csat_responses,
        count(*) filter (where csat >= 4) as satisfied,
        count(ces) as ces_responses,
        avg(ces) as ces_avg,
        count(*) filter (where touchpoint in ('search', 'search_no_results')) as searches,
        count(*) filter (where touchpoint = 'search_no_results') as failed_searches,
        count(*) filter (where touchpoint = 'support_contact') as support_contacts,
        count(*) filter (where touchpoint = 'support_resolved') as support_resolved,
        median(duration_s) filter (where touchpoint = 'support_contact') as median_wait_s
    from events
    group by grouping sets ((month, channel), (month))
)

select
    month,
    channel,
    nps_responses,
    100.0 * (promoters - detractors) / nullif(nps_responses, 0) as nps,
    csat_responses,
    100.0 * satisfied / nullif(csat_responses, 0) as csat,
    ces_responses,
    ces_avg,
    searches,
    cast(failed_searches as double) / nullif(searches, 0) as failed_search_rate,
    support_contacts,
    support_resolved,
    cast(support_resolved as double) / nullif(support_contacts, 0) as resolution_rate,
    median_wait_s
from totals
order by month, channel = 'all', channel
