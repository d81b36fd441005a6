-- DuckDB's form of queries/lifecycle_weekly.sql, for the benchmark only: the same rows (bench.py checks the
-- tables agree), computed directly over every customer as a from-scratch engine would. cxpipe
-- splits it so that a night recomputes only the customers it touched; DuckDB runs the whole.
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
        lag(week_start) over by_customer as previous_week,
        lead(week_start) over by_customer as next_week
    from weeks
    window by_customer as (partition by customer_id order by week_start)
),

contributions as (
    -- A customer's active week counts in that week (new, returning or resurrecting) and, when
    -- the customer is not active the week after, as dormant in the week after. One pass over
    -- the sequenced weeks: reading them twice would sort them by customer twice.
    select
        case
            when k.following then cast(s.week_start + interval '7 days' as date)
            else s.week_start
        end as week_start,
        case when not k.following and s.previous_week is null then 1 else 0 end as new,
        case
            when not k.following and s.previous_week = s.week_start - interval '7 days' then 1
            else 0
        end as returning,
        case
            when not k.following and s.previous_week < s.week_start - interval '7 days' then 1
            else 0
        end as resurrecting,
        case
            when k.following and (s.next_week is null or s.next_week > s.week_start + interval '7 days')
                then 1
            else 0
        end as dormant
    from sequenced as s
    cross join (values (false), (true)) as k (following)
)

select
    c.week_start,
    cast(sum(c.new) as bigint) as new,
    cast(sum(c.returning) as bigint) as returning,
    cast(sum(c.resurrecting) as bigint) as resurrecting,
    cast(sum(c.dormant) as bigint) as dormant
from contributions as c
group by c.week_start
-- Weeks with an active customer: the dormant of the week after the last one is not a row.
having sum(c.new) + sum(c.returning) + sum(c.resurrecting) > 0
order by c.week_start
