-- DuckDB's form of queries/stickiness_daily.sql, for the benchmark only: the same rows (bench.py checks the
-- tables agree), computed directly over every customer as a from-scratch engine would. cxpipe
-- splits it so that a night recomputes only the customers it touched; DuckDB runs the whole.
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
    -- One row per counter an active day moves: the day itself (dau), and where its new 7- and
    -- 28-day coverage starts (+1) and stops (-1). A cross join with five kinds, not a union
    -- of five selects: the union would compute the window above once per branch.
    select
        case k.kind
            when 0 then c.activity_date
            when 1 then c.start_7
            when 2 then c.stop_7
            when 3 then c.start_28
            else c.stop_28
        end as day,
        case when k.kind = 0 then 1 else 0 end as dau,
        case k.kind when 1 then 1 when 2 then -1 else 0 end as wau,
        case k.kind when 3 then 1 when 4 then -1 else 0 end as mau
    from coverage as c
    cross join (values (0), (1), (2), (3), (4)) as k (kind)
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
