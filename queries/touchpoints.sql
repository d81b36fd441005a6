-- touchpoints: one row per valid event, counted once. A duplicate event_id keeps its first
-- arrival (earliest arrival_date, then file); every metric reads events from here.
-- Only the copies of the ids in stg_repeated_events are ranked; every other row passes straight
-- through. Ranking all rows instead sorts the whole year by event_id, several times slower.
-- materialized: intermediate
with ranked as (
    select v.*, row_number() over (
        partition by v.event_id
        order by v.arrival_date, v.source_file, v.occurred_at, v.touchpoint, v.anonymous_id
    ) as arrival_rank
    from stg_repeated_events as r
    inner join stg_touchpoints as v on v.event_id = r.event_id
    where v.is_valid
)
select v.event_id,
    v.occurred_at,
    v.event_date,
    v.anonymous_id,
    v.channel,
    v.channel_known,
    v.touchpoint,
    v.touchpoint_known,
    v.customer_id,
    v.session_id,
    v.revenue,
    v.nps,
    v.csat,
    v.ces,
    v.out_of_range_scores,
    v.comment,
    v.duration_s,
    v.country,
    v.properties,
    v.arrival_date,
    v.source_file
from stg_touchpoints as v
where v.is_valid
    and not exists (select 1 from stg_repeated_events as r where r.event_id = v.event_id)
union all
select event_id,
    occurred_at,
    event_date,
    anonymous_id,
    channel,
    channel_known,
    touchpoint,
    touchpoint_known,
    customer_id,
    session_id,
    revenue,
    nps,
    csat,
    ces,
    out_of_range_scores,
    comment,
    duration_s,
    country,
    properties,
    arrival_date,
    source_file from ranked where arrival_rank = 1
