-- int_touched_customers: one row per customer whose days may differ from the previous run's
-- int_customer_days: customers with events read in this run, and the customers an anonymous id
-- moved to or from (int_identities against the previous run's). On a full refresh, where the
-- previous tables are empty, every customer. The merged and delta models recompute only these
-- customers.
-- materialized: intermediate
-- test: unique(customer_id)
with carried as (
    -- Customers that events read tonight carry (on a full refresh every row is tonight's).
    select distinct customer_id
    from int_daily_activity
    where added_on = run_date() and customer_id is not null
),

anonymous as (
    -- Anonymous ids of tonight's events without a customer: they count for the id's owner.
    select distinct anonymous_id
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
    select customer_id from carried
    union all
    select i.customer_id
    from anonymous as a
    inner join int_identities as i on i.anonymous_id = a.anonymous_id
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
