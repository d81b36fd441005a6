-- engagement_tiers: one row per tier as of the run date R, over every customer ever active.
-- Active days in the 28 days [R-27, R]: power >= 12, core 4-11, casual 1-3, dormant 0.
-- share: the tier's customers / all customers ever active (shares sum to 1).
-- test: row_count = 4
-- test: range(share, 0, 1)
with recent as (
    -- run_date() is a literal: the interval arithmetic on a joined run_date ran on every row.
    select
        d.customer_id,
        count(*) filter (
            where d.activity_date > days_after(run_date(), -28) and d.activity_date <= run_date()
        ) as active_days
    from int_customer_days as d
    where d.active
    group by d.customer_id
),

tiered as (
    select
        case
            when active_days >= 12 then 'power'
            when active_days >= 4 then 'core'
            when active_days >= 1 then 'casual'
            else 'dormant'
        end as tier
    from recent
),

tiers (tier, position) as (
    values ('power', 1), ('core', 2), ('casual', 3), ('dormant', 4)
),

counts as (
    select tier, count(*) as customers
    from tiered
    group by tier
)

select
    r.run_date as as_of,
    t.tier,
    coalesce(c.customers, 0) as customers,
    -- Over the tiers' total, not a count of `recent` again: that would aggregate it twice.
    coalesce(cast(c.customers as double) / nullif(sum(c.customers) over (), 0), 0.0) as share
from tiers as t
cross join run_context as r
left join counts as c on c.tier = t.tier
order by t.position
