-- int_daily_activity: what each anonymous id did on each UTC day, by the customer id its events
-- carried (null before sign-up): events, active events (everything but ad_impression and
-- email_open), purchases and net revenue (paid on purchases minus refunded on returns).
-- Incremental: each night adds rows for the events that arrived; a key can have several rows,
-- so readers add them up. Identity is applied by readers (int_customer_days), so a visitor who
-- signs up later has their earlier days counted for the customer.
--   added_on: the day of the run that read the events (int_touched_customers finds tonight's).
-- materialized: incremental
select
    anonymous_id,
    customer_id,
    event_date,
    run_date() as added_on,
    count(*) as events,
    count(*) filter (where touchpoint not in ('ad_impression', 'email_open')) as active_events,
    count(*) filter (where touchpoint = 'purchase') as purchases,
    coalesce(sum(
        case
            when touchpoint = 'purchase' then abs(revenue)
            when touchpoint = 'return' then -abs(revenue)
        end
    ), 0.0) as net_revenue
from touchpoints
group by anonymous_id, customer_id, event_date
