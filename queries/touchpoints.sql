-- touchpoints: one row per valid event, counted once. A duplicate event_id keeps its first
-- arrival (earliest arrival_date, then file); every metric reads events from here.
-- materialized: intermediate
with ranked as (
    select
        *,
        row_number() over (
            partition by event_id
            order by arrival_date, source_file, occurred_at, touchpoint, anonymous_id
        ) as arrival_rank
    from stg_touchpoints
    where is_valid
)

select
    event_id,
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
    source_file
from ranked
where arrival_rank = 1
