-- int_customer_days: one row per customer per UTC day with any event: the compact activity table
-- that retention, engagement, stickiness and lifecycle are computed from (unordered: sorting two
-- million rows a night buys readers nothing). Events count for the customer they carry, else
-- the customer their anonymous id belongs to (int_identities).
--   active: any event that day other than ad_impression and email_open;
--   net_revenue: purchases (amount paid) minus returns (amount refunded) that day.
-- Published a file per month: a run computes every customer's days of the months from the
-- earliest day that changed for any customer (int_touched_customers' since) on, and keeps the
-- previous run's files of the months before. A night with late events of the last week
-- rewrites one or two months, not the year.
-- partition_by: month(activity_date)
-- test: unique(customer_id, activity_date)
with stitched as (
    -- From the first of the month of the earliest day that changed: none when nothing did; on
    -- a full refresh, where every customer is touched from its first day, all. cxpipe computes
    -- the subquery before the query and filters by its value, so the scan skips the row groups
    -- of int_daily_activity before that day (its rows are kept in day order); as a join, the
    -- subquery compared every stored day in a nested loop. One scan: an event without a
    -- customer counts for its id's owner, found by a left join (int_identities has one row per
    -- id), where a union of the two kinds of rows read the two million rows twice.
    select
        coalesce(a.customer_id, i.customer_id) as customer_id,
        a.event_date, a.events, a.active_events, a.purchases, a.net_revenue_micros
    from int_daily_activity as a
    left join int_identities as i on i.anonymous_id = a.anonymous_id
    where a.event_date >= (select month_start(min(since)) from int_touched_customers)
)

select
    customer_id,
    event_date as activity_date,
    sum(active_events) > 0 as active,
    sum(events) as events,
    sum(purchases) as purchases,
    cast(sum(net_revenue_micros) as double) / 1000000 as net_revenue
from stitched
where customer_id is not null
group by customer_id, event_date
