-- int_quality_counts: per UTC day and channel, the counts experience quality is computed from,
-- over every event (prospects included). Incremental: readers add the rows up. Days, not
-- months: readers take the month of 365 days a year instead of once per event.
-- materialized: incremental
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
