-- int_identity_candidates: for each anonymous id, its earliest identified event among the events
-- that arrived (first_at, first_event_id, and the customer it named). Incremental: one row per
-- anonymous id per night at most; int_identities keeps the earliest over all nights.
-- materialized: incremental
with identified as (
    select
        anonymous_id,
        customer_id,
        occurred_at,
        event_id,
        row_number() over (partition by anonymous_id order by occurred_at, event_id) as position
    from touchpoints
    where customer_id is not null
)

select
    anonymous_id,
    customer_id,
    occurred_at as first_at,
    event_id as first_event_id
from identified
where position = 1
