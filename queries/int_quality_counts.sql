-- int_quality_counts: per calendar month and channel, the counts experience quality is computed
-- from, over every event (prospects included). Incremental: readers add the rows up.
-- Counted per UTC day first and summed into months: the month of a day is worked out 365 times
-- a year instead of once per event.
-- materialized: incremental
with daily as (
    select
        event_date,
        channel,
        count(*) as events,
        count(nps) as nps_responses,
        count(*) filter (where nps >= 9) as promoters,
        count(*) filter (where nps <= 6) as detractors,
        count(csat) as csat_responses,
        count(*) filter (where csat >= 4) as satisfied,
        count(ces) as ces_responses,
        coalesce(sum(cast(ces as bigint)), 0) as ces_total,
        count(*) filter (where touchpoint in ('search', 'search_no_results')) as searches,
        count(*) filter (where touchpoint = 'search_no_results') as failed_searches,
        count(*) filter (where touchpoint = 'support_contact') as support_contacts,
        count(*) filter (where touchpoint = 'support_resolved') as support_resolved
    from touchpoints
    group by event_date, channel
)

select
    cast(date_trunc('month', event_date) as date) as month,
    channel,
    sum(events) as events,
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
from daily
group by 1, 2
