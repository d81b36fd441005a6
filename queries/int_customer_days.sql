-- int_customer_days: one row per customer per UTC day with any event: the compact activity table
-- that retention, engagement, stickiness and lifecycle are computed from.
--   active: any event that day other than ad_impression and email_open;
--   net_revenue: purchases (amount paid) minus returns (amount refunded) that day.
-- test: unique(customer_id, activity_date)
select
    customer_id,
    event_date as activity_date,
    bool_or(is_active) as active,
    count(*) as events,
    count(*) filter (where touchpoint = 'purchase') as purchases,
    coalesce(sum(
        case
            when touchpoint = 'purchase' then abs(revenue)
            when touchpoint = 'return' then -abs(revenue)
        end
    ), 0.0) as net_revenue
from int_events
where customer_id is not null
group by customer_id, event_date
order by customer_id, activity_date
