-- lifecycle_changes: per ISO week (starting Monday), how many customers each active week makes
-- new, returning or resurrecting there, and dormant the week after; lifecycle_weekly adds them
-- up. One pass over each customer's weeks, in order: reading them twice would sort them twice.
-- Incremental, as a delta: each run adds the counts of the touched customers' weeks now minus
-- those of their weeks before (int_touched_days), so the rows of all runs add up to the counts
-- of every customer's weeks as they are now; readers add up rows that share a week.
-- materialized: incremental
with weeks as (
    -- A seed's week is before the cutoff (a Monday), apart from every other week.
    select distinct
        customer_id,
        sign,
        seed,
        week_start(activity_date) as week_start
    from int_touched_days
),

sequenced as (
    select
        sign,
        seed,
        week_start,
        lag(week_start) over by_customer as previous_week,
        lead(week_start) over by_customer as next_week
    from weeks
    window by_customer as (partition by customer_id, sign order by week_start)
),

contributions as (
    -- A customer's active week counts in that week (new, returning or resurrecting) and, when
    -- the customer is not active the week after, as dormant in the week after. A seed week
    -- counts only as dormant: what it counts in its own week is unchanged, and the zeros it adds
    -- there leave the week's sums as they are (a filter instead made the cross join a nested
    -- loop join, half the query's time).
    select
        case
            when k.following then days_after(s.week_start, 7)
            else s.week_start
        end as week_start,
        case
            when not k.following and not s.seed and s.previous_week is null then s.sign
            else 0
        end as new,
        case
            when not k.following and not s.seed
                and s.previous_week = days_after(s.week_start, -7) then s.sign
            else 0
        end as returning,
        case
            when not k.following and not s.seed
                and s.previous_week < days_after(s.week_start, -7) then s.sign
            else 0
        end as resurrecting,
        case
            when k.following and (s.next_week is null or s.next_week > days_after(s.week_start, 7))
                then s.sign
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
having sum(c.new) <> 0 or sum(c.returning) <> 0 or sum(c.resurrecting) <> 0 or sum(c.dormant) <> 0
