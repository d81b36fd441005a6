-- retention_monthly: one row per cohort month (month of first purchase) and month_number
-- 0..(months from the cohort month to the run date's month). Of the cohort's customers:
--   active_customers: had any activity in that month; purchasing_customers: purchased in it;
--   active_rate, purchasing_rate: those counts / cohort_customers (month 0 is always 1).
-- The run date's own month is still in progress.
-- test: unique(cohort_month, month_number)
-- test: range(active_rate, 0, 1)
-- test: range(purchasing_rate, 0, 1)
-- test: expression(purchasing_customers <= active_customers and active_customers <= cohort_customers)
with cohorts as (
    select cohort_month, count(*) as cohort_customers
    from int_first_purchases
    group by cohort_month
),

grid as (
    select
        c.cohort_month,
        c.cohort_customers,
        unnest(range(0, cast(
            (date_part('year', r.run_date) - date_part('year', c.cohort_month)) * 12
            + date_part('month', r.run_date) - date_part('month', c.cohort_month) + 1
            as bigint
        ))) as month_number
    from cohorts as c
    cross join run_context as r
),

activity as (
    select
        cohort_month,
        month_number,
        count(*) filter (where active) as active_customers,
        count(*) filter (where purchased) as purchasing_customers
    from int_customer_months
    group by cohort_month, month_number
)

select
    g.cohort_month,
    g.month_number,
    g.cohort_customers,
    coalesce(a.active_customers, 0) as active_customers,
    coalesce(a.purchasing_customers, 0) as purchasing_customers,
    cast(coalesce(a.active_customers, 0) as double) / g.cohort_customers as active_rate,
    cast(coalesce(a.purchasing_customers, 0) as double) / g.cohort_customers as purchasing_rate
from grid as g
left join activity as a
    on a.cohort_month = g.cohort_month and a.month_number = g.month_number
order by g.cohort_month, g.month_number
