-- experience_retention: retention_monthly split by experience class, over customers whose
-- experience window is complete (so the class is final). One row per cohort month x class x
-- month_number 0..(months to the run date's month), for classes the cohort has.
-- test: unique(cohort_month, experience_class, month_number)
-- test: accepted_values(experience_class, 'good', 'neutral', 'poor')
-- test: range(active_rate, 0, 1)
-- test: range(purchasing_rate, 0, 1)
with classified as (
    select customer_id, cohort_month, experience_class
    from customer_experience
    where window_complete
),

cohorts as (
    select cohort_month, experience_class, count(*) as cohort_customers
    from classified
    group by cohort_month, experience_class
),

grid as (
    select
        c.cohort_month,
        c.experience_class,
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
        k.cohort_month,
        k.experience_class,
        m.month_number,
        count(*) filter (where m.active) as active_customers,
        count(*) filter (where m.purchased) as purchasing_customers
    from classified as k
    inner join int_customer_months as m on m.customer_id = k.customer_id
    group by k.cohort_month, k.experience_class, m.month_number
)

select
    g.cohort_month,
    g.experience_class,
    g.month_number,
    g.cohort_customers,
    coalesce(a.active_customers, 0) as active_customers,
    coalesce(a.purchasing_customers, 0) as purchasing_customers,
    cast(coalesce(a.active_customers, 0) as double) / g.cohort_customers as active_rate,
    cast(coalesce(a.purchasing_customers, 0) as double) / g.cohort_customers as purchasing_rate
from grid as g
left join activity as a
    on a.cohort_month = g.cohort_month
    and a.experience_class = g.experience_class
    and a.month_number = g.month_number
order by g.cohort_month, g.experience_class, g.month_number
