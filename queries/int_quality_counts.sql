-- int_quality_counts: per calendar month and channel, the counts experience quality is computed
-- from, over every event (prospects included). Incremental: readers add the rows up.
-- materialized: incremental
select
    cast(date_trunc('month', occurred_at) as date) as month,
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
group by 1, 2
