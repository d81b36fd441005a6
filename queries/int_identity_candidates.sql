-- int_identity_candidates: for each anonymous id, its earliest identified event among the events
-- that arrived (first_at, first_event_id, and the customer it named). Incremental: one row per
-- anonymous id per night at most; int_identities keeps the earliest over all nights.
-- The earliest time is found by aggregation and only events at that time are ranked: ranking
-- every identified event per anonymous id would sort them all.
-- materialized: incremental
with identified as (
    select anonymous_id, customer_id, occurred_at, event_date, event_id
    from touchpoints
    where customer_id is not null
),

firsts as (
    select anonymous_id, min(occurred_at) as first_at, min(event_date) as first_date
    from identified
    group by anonymous_id
),

at_first as (
    -- The events of that day at or before first_at, the earliest time: exactly those at it.
    -- Keyed by day, not time: a cluster's sort-merge join cannot compare zoned timestamps.
    select
        i.anonymous_id,
        i.customer_id,
        i.occurred_at,
        i.event_id,
        row_number() over (partition by i.anonymous_id order by i.event_id) as position
    from firsts as f
    inner join identified as i
        on i.anonymous_id = f.anonymous_id
        and i.event_date = f.first_date
        and i.occurred_at <= f.first_at
)

select
    anonymous_id,
    customer_id,
    occurred_at as first_at,
    event_id as first_event_id
from at_first
where position = 1
