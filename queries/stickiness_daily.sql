-- stickiness_daily: one row per day on which any customer was active.
--   dau: customers active that day; wau: customers active in the 7 days ending that day;
--   mau: in the 28 days ending that day; stickiness = dau / mau.
-- Linear in the number of active customer-days: each active day extends the customer's
-- 7- and 28-day coverage; counting where coverage starts and ends, then a running sum, gives
-- the distinct customers covering each day without a quadratic self-join.
-- test: unique(activity_date)
-- test: range(stickiness, 0, 1)
-- test: expression(dau <= wau and wau <= mau)
with active_days as (
    select
        customer_id,
        activity_date,
        lag(activity_date) over (partition by customer_id order by activity_date) as previous_date
    from int_customer_days
    where active
),

coverage as (
    -- The new part of the coverage window: [start, stop), after what the previous day covered.
    select
        activity_date,
        case
            when previous_date is null then activity_date
            else greatest(activity_date, previous_date + interval '7 days')
        end as start_7,
        activity_date + interval '7 days' as stop_7,
        case
            when previous_date is null then activity_date
            else greatest(activity_date, previous_date + interval '28 days')
        end as start_28,
        activity_date + interval '28 days' as stop_28
    from active_days
),

changes as (
    select activity_date as day, 1 as dau, 0 as wau, 0 as mau from coverage
    union all select start_7 as day, 0 as dau, 1 as wau, 0 as mau from coverage
    union all select stop_7 as day, 0 as dau, -1 as wau, 0 as mau from coverage
    union all select start_28 as day, 0 as dau, 0 as wau, 1 as mau from coverage
    union all select stop_28 as day, 0 as dau, 0 as wau, -1 as mau from coverage
),

per_day as (
    select day, sum(dau) as dau, sum(wau) as wau_change, sum(mau) as mau_change
    from changes
    group by day
),

running as (
    select
        day,
        dau,
        sum(wau_change) over (order by day rows between unbounded preceding and current row) as wau,
        sum(mau_change) over (order by day rows between unbounded preceding and current row) as mau
    from per_day
)

select
    cast(day as date) as activity_date,
    cast(dau as bigint) as dau,
    cast(wau as bigint) as wau,
    cast(mau as bigint) as mau,
    cast(dau as double) / mau as stickiness
from running
where dau > 0
order by activity_date
