-- customer_experience: one row per customer with a purchase, classified by what happened in its
-- experience window [first purchase, first purchase + 30 days).
--   window_complete: the window ends by the end of the run date;
--   experience_class: 'poor' if any nps <= 6, any csat <= 2, any ces <= 3, >= 3 failed searches,
--   >= 1 return, or more support contacts than resolutions in the window; else 'good' if any
--   nps >= 9, csat = 5 or ces >= 6; else 'neutral' (including customers who gave no scores).
-- The window's signals come from int_experience_signals; only window_complete moves with R.
-- test: not_null(customer_id)
-- test: unique(customer_id)
-- test: not_null(first_purchase_at)
-- test: accepted_values(experience_class, 'good', 'neutral', 'poor')
select
    s.customer_id,
    s.first_purchase_at,
    s.cohort_month,
    s.first_purchase_at + interval '30 days' <= r.run_end as window_complete,
    s.nps_min,
    s.csat_min,
    s.ces_min,
    s.failed_searches,
    s.returns,
    s.support_contacts,
    s.support_resolved,
    case
        when s.nps_min <= 6
            or s.csat_min <= 2
            or s.ces_min <= 3
            or s.failed_searches >= 3
            or s.returns >= 1
            or s.support_contacts > s.support_resolved
            then 'poor'
        when s.nps_max >= 9 or s.csat_max = 5 or s.ces_max >= 6 then 'good'
        else 'neutral'
    end as experience_class
from int_experience_signals as s
cross join run_context as r
order by s.customer_id
