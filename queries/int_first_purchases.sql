-- int_first_purchases: one row per customer with a purchase: its earliest purchase and cohort
-- month (the calendar month of that purchase). Purchases count for the customer they carry, else
-- the customer their anonymous id belongs to.
-- test: unique(customer_id)
with stitched as (
    select
        coalesce(j.customer_id, i.customer_id) as customer_id,
        j.first_purchase_at
    from int_journey_parts as j
    left join int_identities as i on j.anonymous_id = i.anonymous_id
    where j.first_purchase_at is not null
)

select
    customer_id,
    min(first_purchase_at) as first_purchase_at,
    cast(date_trunc('month', min(first_purchase_at)) as date) as cohort_month
from stitched
where customer_id is not null
group by customer_id
