-- The retention cohorts hold exactly the customers of customer_experience, month by month.
with from_experience as (
    select cohort_month, count(*) as customers from customer_experience group by cohort_month
),

from_retention as (
    select cohort_month, cohort_customers as customers from retention_monthly where month_number = 0
)

select coalesce(e.cohort_month, r.cohort_month) as cohort_month, e.customers, r.customers
from from_experience as e
full outer join from_retention as r on e.cohort_month = r.cohort_month
where e.customers is null or r.customers is null or e.customers <> r.customers
