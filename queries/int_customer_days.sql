-- int_customer_days: one row per customer per UTC day with any event: the compact activity table
-- that retention, engagement, stickiness and lifecycle are computed from (unordered: sorting two
-- million rows a night buys readers nothing). Events count for the customer they carry, else
-- the customer their anonymous id belongs to (int_identities).
--   active: any event that day other than ad_impression and email_open;
--   net_revenue: purchases (amount paid) minus returns (amount refunded) that day.
-- Published a file per month and merged by customer: a run computes the touched customers'
-- days from their since (int_touched_customers) on, the days that may have changed; cxpipe
-- rewrites the months those days fall in, with the other customers' rows of those months as
-- the previous run had them, and keeps the files of every other month. A night rewrites the
-- last month or two, and a customer whose id moved a month back costs that month's stored
-- file read, not every customer's days of it recomputed.
-- partition_by: month(activity_date)
-- unique_key: customer_id
-- replaces: int_touched_customers
-- replaces_where: activity_date >= since
-- test: unique(customer_id, activity_date)
with stitched as (
    -- From the earliest day that changed: none when nothing did; on a full refresh, where
    -- every customer is touched from its first day, all. cxpipe computes the subquery before
    -- the query and filters by its value, so the scan skips the row groups of
    -- int_daily_activity before that day (its rows are kept in day order); as a join, the
    -- subquery compared every stored day in a nested loop. One scan: an event without a
    -- customer counts for its id's owner, found by a left join (int_identities has one row per
    -- id), where a union of the two kinds of rows read the two million rows twice.
    select
        coalesce(a.customer_id, i.customer_id) as customer_id,
        a.event_date, a.events, a.active_events, a.purchases, a.net_revenue_micros
    from int_daily_activity as a
    left join int_identities as i on i.anonymous_id = a.anonymous_id
    where a.event_date >= (select min(since) from int_touched_customers)
)

select
    s.customer_id,
    s.event_date as activity_date,
    sum(s.active_events) > 0 as active,
    sum(s.events) as events,
    sum(s.purchases) as purchases,
    cast(sum(s.net_revenue_micros) as double) / 1000000 as net_revenue
from stitched as s
-- Each touched customer's days from its since; the join also drops rows without a customer.
inner join int_touched_customers as t on t.customer_id = s.customer_id
where s.event_date >= t.since
group by s.customer_id, s.event_date
