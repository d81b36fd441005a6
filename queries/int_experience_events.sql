-- int_experience_events: the events that decide an experience class: every score (nps, csat,
-- ces), failed searches, returns, support contacts and resolutions. Incremental: each night
-- appends the ones that arrived.
-- materialized: incremental
select
    anonymous_id,
    customer_id,
    occurred_at,
    touchpoint,
    nps,
    csat,
    ces
from touchpoints
where nps is not null
    or csat is not null
    or ces is not null
    or touchpoint in ('search_no_results', 'return', 'support_contact', 'support_resolved')
