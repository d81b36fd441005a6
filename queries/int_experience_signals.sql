-- int_experience_signals: one row per customer with a purchase: its first purchase, cohort month
-- and what happened in its experience window [first purchase, first purchase + 30 days): lowest
-- and highest scores, failed searches, returns, support contacts and resolutions (customer_experience
-- classifies them). Events count for the customer they carry, else the customer their anonymous
-- id belongs to. Merged by customer: a run computes the touched customers' windows.
-- unique_key: customer_id
-- replaces: int_touched_customers
-- test: unique(customer_id)
with experience_events as (
    -- Events that carry a touched customer, then anonymous events of the anonymous ids touched
    -- customers own.
    select e.customer_id, e.occurred_at, e.touchpoint, e.nps, e.csat, e.ces
    from int_experience_events as e
    inner join int_touched_customers as t on t.customer_id = e.customer_id
    union all
    select i.customer_id, e.occurred_at, e.touchpoint, e.nps, e.csat, e.ces
    from int_experience_events as e
    inner join int_touched_identities as i on i.anonymous_id = e.anonymous_id
    where e.customer_id is null
),

purchasers as (
    select f.customer_id, f.first_purchase_at, f.cohort_month
    from int_first_purchases as f
    inner join int_touched_customers as t on t.customer_id = f.customer_id
),

window_events as (
    select
        f.customer_id,
        e.touchpoint,
        e.nps,
        e.csat,
        e.ces
    from purchasers as f
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
    s.nps_min,
    s.nps_max,
    s.csat_min,
    s.csat_max,
    s.ces_min,
    s.ces_max,
    coalesce(s.failed_searches, 0) as failed_searches,
    coalesce(s.returns, 0) as returns,
    coalesce(s.support_contacts, 0) as support_contacts,
    coalesce(s.support_resolved, 0) as support_resolved
from purchasers as f
left join signals as s on s.customer_id = f.customer_id
