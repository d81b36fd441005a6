-- stickiness_daily: one row per day on which any customer was active.
--   dau: customers active that day; wau: customers active in the 7 days ending that day;
--   mau: in the 28 days ending that day; stickiness = dau / mau.
-- The counters come from stickiness_changes, which each run adds to; a running sum of where
-- coverage starts and stops gives wau and mau.
-- test: unique(activity_date)
-- test: range(stickiness, 0, 1)
-- test: expression(dau <= wau and wau <= mau)
with per_day as (
    select day, sum(dau) as dau, sum(wau_change) as wau_change, sum(mau_change) as mau_change
    from stickiness_changes
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
    day as activity_date,
    cast(dau as bigint) as dau,
    cast(wau as bigint) as wau,
    cast(mau as bigint) as mau,
    cast(dau as double) / mau as stickiness
from running
where dau > 0
order by activity_date
