-- int_verbatim_candidates: comments from detractors (nps <= 6) or answers of high effort
-- (ces <= 3), for the report's voice of the customer. Incremental: each night appends the ones
-- that arrived.
-- materialized: incremental
select
    event_id,
    occurred_at,
    channel,
    touchpoint,
    nps,
    csat,
    ces,
    comment
from touchpoints
where (nps <= 6 or ces <= 3)
    and comment is not null
    and trim(comment) <> ''
