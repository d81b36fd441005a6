-- lifecycle_weekly: one row per ISO week (starting Monday) in which any customer was active.
--   new: customers whose first active week it is;
--   returning: active this week and the previous one;
--   resurrecting: active this week, not the previous one, but in some week before;
--   dormant: active the previous week but not this one.
-- test: unique(week_start)
-- test: expression(new + returning + resurrecting > 0)
with weeks as (
    select distinct customer_id, cast(date_trunc('week', activity_date) as date) as week_start
    from int_customer_days
    where active
),

sequenced as (
    select
        customer_id,
        week_start,
        lag(week_start) over (partition by customer_id order by week_start) as previous_week,
        lead(week_start) over (partition by customer_id order by week_start) as next_week
    from weeks
),

active_counts as (
    select
        week_start,
        count(*) filter (where previous_week is null) as new,
        count(*) filter (where previous_week = week_start - interval '7 days') as returning,
        count(*) filter (where previous_week < week_start - interval '7 days') as resurrecting
    from sequenced
    group by week_start
),

dormant_counts as (
    select cast(week_start + interval '7 days' as date) as week_start, count(*) as dormant
    from sequenced
    where next_week is null or next_week > week_start + interval '7 days'
    group by 1
)

select
    a.week_start,
    a.new,
    a.returning,
    a.resurrecting,
    coalesce(d.dormant, 0) as dormant
from active_counts as a
left join dormant_counts as d on d.week_start = a.week_start
order by a.week_start
