-- int_support_waits: the wait (duration_s) of every support contact that has one, by month and
-- channel, for the median wait. Incremental: each night appends the ones that arrived.
-- materialized: incremental
select
    cast(date_trunc('month', event_date) as date) as month,
    channel,
    duration_s
from touchpoints
where touchpoint = 'support_contact' and duration_s is not null
