-- int_first_purchases: one row per customer with a purchase: its earliest purchase and cohort
-- month (the calendar month of that purchase).
-- test: unique(customer_id)
select
    customer_id,
    min(occurred_at) as first_purchase_at,
    cast(date_trunc('month', min(occurred_at)) as date) as cohort_month
from int_events
where touchpoint = 'purchase' and customer_id is not null
group by customer_id
order by customer_id
