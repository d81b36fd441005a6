-- int_customer_days: one row per customer per UTC day with any event: the compact activity table
-- that retention, engagement, stickiness and lifecycle are computed from (unordered: sorting two
-- million rows a night buys readers nothing). Events count for the customer they carry, else
-- the customer their anonymous id belongs to (int_identities).
--   active: any event that day other than ad_impression and email_open;
--   net_revenue: purchases (amount paid) minus returns (amount refunded) that day.
-- Merged by customer: a run computes the days of the customers int_touched_customers names and
-- keeps every other customer's days from the previous run's table.
-- unique_key: customer_id
-- replaces: int_touched_customers
-- test: unique(customer_id, activity_date)
with stitched as (
    -- Days of events that carry a touched customer, then anonymous days of the anonymous ids
    -- touched customers own: two joins against the few touched keys, instead of stitching
    -- every day of the year and keeping the touched ones.
    select
        a.customer_id, a.event_date, a.events, a.active_events, a.purchases, a.net_revenue_micros
    from int_daily_activity as a
    inner join int_touched_customers as t on t.customer_id = a.customer_id
    union all
    select
        i.customer_id, a.event_date, a.events, a.active_events, a.purchases, a.net_revenue_micros
    from int_daily_activity as a
    inner join int_touched_identities as i on i.anonymous_id = a.anonymous_id
    where a.customer_id is null
)

select
    customer_id,
    event_date as activity_date,
    sum(active_events) > 0 as active,
    sum(events) as events,
    sum(purchases) as purchases,
    cast(sum(net_revenue_micros) as double) / 1000000 as net_revenue
from stitched
group by customer_id, event_date
