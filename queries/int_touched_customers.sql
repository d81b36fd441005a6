-- int_touched_customers: one row per customer whose days may differ from the previous run's
-- int_customer_days: customers with events read in this run, and the customers an anonymous id
-- moved to or from (int_identities against the previous run's). On a full refresh, where the
-- previous tables are empty, every customer. The delta models (stickiness_changes,
-- lifecycle_changes) recompute only these customers.
-- materialized: intermediate
-- test: unique(customer_id)
with arrived as (
    -- Customers that events read tonight carry, and anonymous ids without one: two narrow
    -- distincts (on a full refresh every row is tonight's).
    select distinct customer_id as customer_id, cast(null as varchar) as anonymous_id
    from int_daily_activity
    where added_on = run_date() and customer_id is not null
    union all
    select distinct cast(null as varchar) as customer_id, anonymous_id
    from int_daily_activity
    where added_on = run_date() and customer_id is null
),

now_owners as (
    select anonymous_id, customer_id as now_customer from int_identities
),

before_owners as (
    select anonymous_id, customer_id as before_customer from previous.int_identities
),

touched as (
    select coalesce(a.customer_id, i.customer_id) as customer_id
    from arrived as a
    left join int_identities as i on i.anonymous_id = a.anonymous_id
    union all
    -- Owners an anonymous id moved to, then owners it moved from. Two left joins with their
    -- own column names, not one full join: DataFusion 55 rewrote that full join's
    -- `n.customer_id is distinct from p.customer_id` into a comparison of p with itself.
    select n.now_customer
    from now_owners as n
    left join before_owners as b on b.anonymous_id = n.anonymous_id
    where n.now_customer is distinct from b.before_customer
    union all
    select b.before_customer
    from before_owners as b
    left join now_owners as n on n.anonymous_id = b.anonymous_id
    where b.before_customer is distinct from n.now_customer
)

select distinct customer_id
from touched
where customer_id is not null
