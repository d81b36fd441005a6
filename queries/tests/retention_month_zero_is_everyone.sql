-- Month 0 of every cohort is the month of its first purchase: every customer in it was active
-- and purchased, so both rates are exactly 1. Selects cohorts where that is not so.
select cohort_month, active_rate, purchasing_rate
from retention_monthly
where month_number = 0 and (active_rate <> 1 or purchasing_rate <> 1)
