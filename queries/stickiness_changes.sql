-- stickiness_changes: per day, how much each counter of stickiness_daily moves there: dau, and
-- where customers' 7- and 28-day coverage starts (+1) and stops (-1). Linear in the number of
-- active customer-days: each active day extends the customer's coverage by what the previous
-- active day did not cover, so a running sum of the starts and stops gives the distinct
-- customers covering each day without a quadratic self-join.
-- Incremental, as a delta: each run adds the counters of the touched customers' days now minus
-- those of their days before (int_touched_days), so the rows of all runs add up to the counters
-- of every customer's days as they are now; readers add up rows that share a day.
-- materialized: incremental
with active_days as (
    select
        sign,
        seed,
        activity_date,
        lag(activity_date) over (
            partition by customer_id, sign order by activity_date
        ) as previous_date
    from int_touched_days
),

coverage as (
    -- The new part of the coverage window: [start, stop), after what the previous day covered.
    select
        sign,
        activity_date,
        case
            when previous_date is null then activity_date
            else greatest(activity_date, days_after(previous_date, 7))
        end as start_7,
        days_after(activity_date, 7) as stop_7,
        case
            when previous_date is null then activity_date
            else greatest(activity_date, days_after(previous_date, 28))
        end as start_28,
        days_after(activity_date, 28) as stop_28
    from active_days
    -- A seed only gives the day after it its previous day: its own counters are unchanged.
    where not seed
),

changes as (
    -- One row per counter an active day moves. A cross join with five kinds, not a union of
    -- five selects: the union would compute the window above once per branch.
    select
        case k.kind
            when 0 then c.activity_date
            when 1 then c.start_7
            when 2 then c.stop_7
            when 3 then c.start_28
            else c.stop_28
        end as day,
        case when k.kind = 0 then c.sign else 0 end as dau,
        case k.kind when 1 then c.sign when 2 then -c.sign else 0 end as wau,
        case k.kind when 3 then c.sign when 4 then -c.sign else 0 end as mau
    from coverage as c
    cross join (values (0), (1), (2), (3), (4)) as k (kind)
)

select
    day,
    cast(sum(dau) as bigint) as dau,
    cast(sum(wau) as bigint) as wau_change,
    cast(sum(mau) as bigint) as mau_change
from changes
group by day
having sum(dau) <> 0 or sum(wau) <> 0 or sum(mau) <> 0
