-- int_touched_days: the active days of the customers int_touched_customers names, as they are
-- now (sign 1, from int_customer_days) and as the previous run had them (sign -1): what the
-- delta models recompute. Only from `cutoff` on, the Monday on or before the first day of the
-- month of the Monday of `since`: a week and a month boundary before any changed day, so whole
-- weeks and months are compared. seed marks each customer's last active day before the cutoff
-- (the same before and now): it starts the customer's sequences and counts only as what
-- follows it. On a full refresh: every customer's active days, each once, and no seeds.
-- materialized: intermediate
with touched as (
    select customer_id, week_start(month_start(week_start(since))) as cutoff
    from int_touched_customers
),

now_days as (
    -- One scan of the customer-days (a CTE referenced twice is planned, and read, twice):
    -- every active day from the cutoff on is a group of its own, the days before are one group
    -- per customer whose latest day is the seed.
    select
        d.customer_id,
        max(d.activity_date) as activity_date,
        case when d.activity_date >= t.cutoff then d.activity_date end is null as seed
    from int_customer_days as d
    inner join touched as t on t.customer_id = d.customer_id
    where d.active
    group by d.customer_id, case when d.activity_date >= t.cutoff then d.activity_date end
),

before_days as (
    select p.customer_id, p.activity_date
    from previous.int_customer_days as p
    inner join touched as t on t.customer_id = p.customer_id
    where p.active and p.activity_date >= t.cutoff
)

-- A day from the cutoff on counts now (1); a seed starts both sequences, now and before.
select customer_id, activity_date, unnest(case when seed then [1, -1] else [1] end) as sign, seed
from now_days
union all
select customer_id, activity_date, -1 as sign, false as seed
from before_days
