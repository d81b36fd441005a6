-- int_touched_customers: one row per customer whose days may differ from the previous run's
-- int_customer_days: customers with events read in this run, and the customers an anonymous id
-- moved to or from (int_identities against the previous run's). On a full refresh, where the
-- previous tables are empty, every customer. The merged and delta models recompute only these
-- customers.
--   since: the earliest day whose events may have changed for the customer (the earliest day of
--   tonight's events; for an owner an anonymous id moved to or from, the earliest day that id
--   was seen without a customer, since those are the days that move); its days before are as
--   they were. int_customer_days recomputes the months from the earliest since on.
-- materialized: intermediate
-- test: unique(customer_id)
with tonight as (
    -- Customers that events read tonight carry, and the owners of the anonymous ids of
    -- tonight's events without one (on a full refresh every row is tonight's). One scan of
    -- int_daily_activity with a left join (int_identities has one row per id), where a CTE for
    -- each kind of row read its two million rows twice.
    select coalesce(a.customer_id, i.customer_id) as customer_id, a.event_date as since
    from int_daily_activity as a
    left join int_identities as i on i.anonymous_id = a.anonymous_id
    where a.added_on = run_date()
),

now_owners as (
    select anonymous_id, customer_id as now_customer from int_identities
),

before_owners as (
    select anonymous_id, customer_id as before_customer from previous.int_identities
),

moved as (
    -- Owners an anonymous id moved to, then owners it moved from. Two left joins with their
    -- own column names, not one full join: DataFusion 55 rewrote that full join's
    -- `n.customer_id is distinct from p.customer_id` into a comparison of p with itself.
    select n.anonymous_id, n.now_customer as customer_id
    from now_owners as n
    left join before_owners as b on b.anonymous_id = n.anonymous_id
    where n.now_customer is distinct from b.before_customer
    union all
    select b.anonymous_id, b.before_customer as customer_id
    from before_owners as b
    left join now_owners as n on n.anonymous_id = b.anonymous_id
    where b.before_customer is distinct from n.now_customer
),

moved_days as (
    -- The days an id that moved brings or takes: those of its events without a customer (an
    -- event with one counts for that customer wherever the id belongs), from its first touch
    -- without one (int_journey_parts: a sixteenth of int_daily_activity's rows). An id
    -- without such events changes no owner's days.
    select j.anonymous_id, cast(min(j.first_touch_at) as date) as since
    from int_journey_parts as j
    inner join moved as m on m.anonymous_id = j.anonymous_id
    where j.customer_id is null
    group by j.anonymous_id
),

touched as (
    select customer_id, since from tonight
    union all
    select m.customer_id, d.since
    from moved as m
    inner join moved_days as d on d.anonymous_id = m.anonymous_id
)

select customer_id, min(since) as since
from touched
where customer_id is not null
group by customer_id
