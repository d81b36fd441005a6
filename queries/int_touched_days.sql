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
    -- From the earliest cutoff on: computed first, that day prunes the month files before it.
    select d.customer_id, d.activity_date, t.cutoff
    from int_customer_days as d
    inner join touched as t on t.customer_id = d.customer_id
    where d.active and d.activity_date >= (select min(cutoff) from touched)
),

before_days as (
    select p.customer_id, p.activity_date, t.cutoff
    from previous.int_customer_days as p
    inner join touched as t on t.customer_id = p.customer_id
    where p.active and p.activity_date >= (select min(cutoff) from touched)
),

seeds as (
    -- The one read of every month: the last active day before the customer's cutoff.
    select d.customer_id, max(d.activity_date) as activity_date
    from int_customer_days as d
    inner join touched as t on t.customer_id = d.customer_id
    where d.active and d.activity_date < t.cutoff
    group by d.customer_id
)

select customer_id, activity_date, 1 as sign, false as seed
from now_days
where activity_date >= cutoff
union all
select customer_id, activity_date, -1 as sign, false as seed
from before_days
where activity_date >= cutoff
union all
-- Each seed once with each sign, by unnest: a cross join with (values (1), (-1)) in this union
-- came out wrong on a Ballista cluster (seeds repeated, days before missing) once the working
-- files carried day statistics.
select customer_id, activity_date, unnest(make_array(1, -1)) as sign, true as seed
from seeds
