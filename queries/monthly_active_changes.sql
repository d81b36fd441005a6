-- monthly_active_changes: per calendar month, the customers active on any day of it, for
-- rpt_kpis_monthly. Incremental, as a delta: each run adds the touched customers' active months
-- now minus those before (int_touched_days), so the rows of all runs add up to the count of
-- every customer's months as they are now; readers add up rows that share a month.
-- materialized: incremental
with months as (
    select distinct
        customer_id,
        sign,
        month_start(activity_date) as month
    from int_touched_days
    where not seed
)

select month, cast(sum(sign) as bigint) as active_customers
from months
group by month
having sum(sign) <> 0
