-- DuckDB's form of queries/int_customer_months.sql, for the benchmark only: the same rows (bench.py checks the
-- tables agree), computed directly over every customer as a from-scratch engine would. cxpipe
-- splits it so that a night recomputes only the customers it touched; DuckDB runs the whole.
-- int_customer_months: one row per customer with a purchase per calendar month, from its cohort
-- month on, in which it had any event. month: the calendar month; month_number: months since the cohort month (0 = the
-- month of the first purchase); active / purchased: any activity / any purchase that month.
select
    f.customer_id,
    f.cohort_month,
    cast(date_trunc('month', d.activity_date) as date) as month,
    cast(
        (date_part('year', d.activity_date) - date_part('year', f.cohort_month)) * 12
        + date_part('month', d.activity_date) - date_part('month', f.cohort_month)
        as bigint
    ) as month_number,
    bool_or(d.active) as active,
    sum(d.purchases) > 0 as purchased
from int_first_purchases as f
inner join int_customer_days as d on d.customer_id = f.customer_id
where d.activity_date >= f.cohort_month
group by 1, 2, 3, 4
