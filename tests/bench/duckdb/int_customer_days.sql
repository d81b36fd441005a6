-- DuckDB's form of queries/int_customer_days.sql, for the benchmark only: the same rows (bench.py checks the
-- tables agree), computed directly over every customer as a from-scratch engine would. cxpipe
-- splits it so that a night recomputes only the customers it touched; DuckDB runs the whole.
-- int_customer_days: one row per customer per UTC day with any event: the compact activity table
-- that retention, engagement, stickiness and lifecycle are computed from (unordered: sorting two
-- million rows a night buys readers nothing). Events count for the customer they carry, else
-- the customer their anonymous id belongs to (int_identities).
--   active: any event that day other than ad_impression and email_open;
--   net_revenue: purchases (amount paid) minus returns (amount refunded) that day.
-- test: unique(customer_id, activity_date)
with stitched as (
    select
        coalesce(a.customer_id, i.customer_id) as customer_id,
        a.event_date,
        a.events,
        a.active_events,
        a.purchases,
        a.net_revenue_micros
    from int_daily_activity as a
    left join int_identities as i on a.anonymous_id = i.anonymous_id
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
