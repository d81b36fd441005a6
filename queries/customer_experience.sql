-- customer_experience: one row per customer with a purchase, classified by what happened in its
-- experience window [first purchase, first purchase + 30 days).
--   window_complete: the window ends by the end of the run date;
--   experience_class: 'poor' if any nps <= 6, any csat <= 2, any ces <= 3, >= 3 failed searches,
--   >= 1 return, or more support contacts than resolutions in the window; else 'good' if any
--   nps >= 9, csat = 5 or ces >= 6; else 'neutral' (including customers who gave no scores).
-- test: not_null(customer_id)
-- test: unique(customer_id)
-- test: not_null(first_purchase_at)
-- test: accepted_values(experience_class, 'good', 'neutral', 'poor')
with experience_events as (
    select
        coalesce(e.customer_id, i.customer_id) as customer_id,
        e.occurred_at,
        e.touchpoint,
        e.nps,
        e.csat,
        e.ces
    from int_experience_events as e
    left join int_identities as i on e.anonymous_id = i.anonymous_id
),

window_events as (
    select
        f.customer_id,
        e.touchpoint,
        e.nps,
        e.csat,
        e.ces
    from int_first_purchases as f
    inner join experience_events as e
        on e.customer_id = f.customer_id
        and e.occurred_at >= f.first_purchase_at
        and e.occurred_at < f.first_purchase_at + interval '30 days'
),

signals as (
    select
        customer_id,
        min(nps) as nps_min,
        max(nps) as nps_max,
        min(csat) as csat_min,
        max(csat) as csat_max,
        min(ces) as ces_min,
        max(ces) as ces_max,
        count(*) filter (where touchpoint = 'search_no_results') as failed_searches,
        count(*) filter (where touchpoint = 'return') as returns,
        count(*) filter (where touchpoint = 'support_contact') as support_contacts,
        count(*) filter (where touchpoint = 'support_resolved') as support_resolved
    from window_events
    group by customer_id
)

select
    f.customer_id,
    f.first_purchase_at,
    f.cohort_month,
    f.first_purchase_at + interval '30 days' <= r.run_end as window_complete,
    s.nps_min,
    s.csat_min,
    s.ces_min,
    coalesce(s.failed_searches, 0) as failed_searches,
    coalesce(s.returns, 0) as returns,
    coalesce(s.support_contacts, 0) as support_contacts,
    coalesce(s.support_resolved, 0) as support_resolved,
    case
        when s.nps_min <= 6
            or s.csat_min <= 2
            or s.ces_min <= 3
            or coalesce(s.failed_searches, 0) >= 3
            or coalesce(s.returns, 0) >= 1
            or coalesce(s.support_contacts, 0) > coalesce(s.support_resolved, 0)
            then 'poor'
        when s.nps_max >= 9 or s.csat_max = 5 or s.ces_max >= 6 then 'good'
        else 'neutral'
    end as experience_class
from int_first_purchases as f
cross join run_context as r
left join signals as s on s.customer_id = f.customer_id
order by f.customer_id
