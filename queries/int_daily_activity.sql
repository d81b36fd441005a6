-- int_daily_activity: what each anonymous id did on each UTC day, by the customer id its events
-- carried (null before sign-up): events, active events (everything but ad_impression and
-- email_open), purchases and net revenue (paid on purchases minus refunded on returns).
-- Incremental: each night adds rows for the events that arrived; a key can have several rows,
-- so readers add them up. Identity is applied by readers (int_customer_days), so a visitor who
-- signs up later has their earlier days counted for the customer.
--   added_on: the day of the run that read the events (int_touched_customers finds tonight's);
--   net_revenue_micros: net revenue in millionths, a whole number: sums of it come out the same
--   in any order, so a rerun (or an incremental night) gives the same revenue to the last digit,
--   where sums of floating-point amounts differ in the last bits with the order of the cores;
--   first_touch_at, first_purchase_at, considered, advocacy: what the journey funnel needs
--   (int_journey_parts), so that it reads these rows instead of the events again.
--   Kept in day order, so that a night's readers of the recent days (int_customer_days from the
--   earliest changed month) skip the row groups of the months before.
-- materialized: incremental
select
    anonymous_id,
    customer_id,
    event_date,
    run_date() as added_on,
    count(*) as events,
    count(*) filter (where touchpoint not in ('ad_impression', 'email_open')) as active_events,
    count(*) filter (where touchpoint = 'purchase') as purchases,
    -- Two filtered sums, not a sum of a CASE: an aggregate's filter is a mask over the rows,
    -- where CASE copies out the rows of each branch and scatters the results back.
    coalesce(
        sum(cast(round(abs(revenue) * 1000000) as bigint)) filter (where touchpoint = 'purchase'), 0
    ) - coalesce(
        sum(cast(round(abs(revenue) * 1000000) as bigint)) filter (where touchpoint = 'return'), 0
    ) as net_revenue_micros,
    min(occurred_at) as first_touch_at,
    min(occurred_at) filter (where touchpoint = 'purchase') as first_purchase_at,
    bool_or(touchpoint in ('product_view', 'search', 'search_no_results', 'add_to_cart')) as considered,
    coalesce(bool_or(
        nps >= 9
        or (touchpoint = 'review' and csat >= 4)
        or touchpoint = 'social_interaction'
    ), false) as advocacy
from touchpoints
group by anonymous_id, customer_id, event_date
order by event_date
