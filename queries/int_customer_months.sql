-- int_customer_months: one row per customer with a purchase per calendar month, from its cohort
-- month on, in which it had any event. month: the calendar month (its first day); month_number:
-- months since the cohort month (0 = the month of the first purchase); active / purchased: any
-- activity / any purchase that month.
-- Merged by customer, from the month of the customer's since on: a run computes the touched
-- customers' months from the month of their earliest changed day, and keeps their months
-- before it as the previous run had them. Those are unchanged: their days are, and so is the
-- cohort month, since a first purchase that moves (a late one before it, or an id that moved
-- away with it) is on or after since. A night reads the months of int_customer_days it wrote,
-- not the year.
-- unique_key: customer_id
-- replaces: int_touched_customers
-- replaces_where: month >= month_start(since)
with months as (
    -- By month first: the month numbers are then worked out once per customer-month, not
    -- once per day.
    select
        f.customer_id,
        f.cohort_month,
        month_start(d.activity_date) as month,
        bool_or(d.active) as active,
        sum(d.purchases) > 0 as purchased
    from int_first_purchases as f
    inner join int_touched_customers as t on t.customer_id = f.customer_id
    inner join int_customer_days as d on d.customer_id = f.customer_id
    where d.activity_date >= f.cohort_month
        and d.activity_date >= month_start(t.since)
        -- Computed first, the earliest month skips the month files before it.
        and d.activity_date >= (select month_start(min(since)) from int_touched_customers)
    group by 1, 2, 3
)

select
    customer_id,
    cohort_month,
    month,
    cast(
        (date_part('year', month) - date_part('year', cohort_month)) * 12
        + date_part('month', month) - date_part('month', cohort_month)
        as bigint
    ) as month_number,
    active,
    purchased
from months
