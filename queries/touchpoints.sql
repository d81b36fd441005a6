-- touchpoints: one row per valid event, counted once. A duplicate event_id keeps its first
-- arrival (earliest arrival_date, then file); every metric reads events from here.
-- Duplicates are rare, so the ids that repeat are found first (one narrow pass), and only their
-- rows are ranked; every other row passes straight through. Ranking all rows instead sorts the
-- whole year by event_id, several times slower.
-- materialized: intermediate
with repeated as (
    -- event ids with more than one valid row
    select event_id
    from stg_touchpoints
    where is_valid
    group by event_id
    having count(*) > 1
),
ranked as (
    select v.*, row_number() over (
        partition by v.event_id
        order by v.arrival_date, v.source_file, v.occurred_at, v.touchpoint, v.anonymous_id
    ) as arrival_rank
    from repeated as r
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
from repeated as r
right join stg_touchpoints as v on v.event_id = r.event_id
where v.is_valid and r.event_id is null
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
