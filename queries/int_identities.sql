-- int_identities: one row per anonymous id ever seen on an identified event, with the customer
-- it belongs to: the customer of its earliest identified event (ties: smallest customer_id).
-- test: unique(anonymous_id)
-- test: not_null(customer_id)
-- Each id's earliest time, then the smallest customer among its candidates at that time: two
-- plain aggregations and a join take half the time of the ordered aggregate
-- first_value(customer_id order by first_at, customer_id), which keeps a row list per id, and
-- a third of row_number() over each id.
with firsts as (
    select anonymous_id, min(first_at) as first_at
    from int_identity_candidates
    group by anonymous_id
)

-- `<=` against the earliest time is `=`, written so that it stays a join filter: a cluster's
-- sort-merge join cannot use zoned timestamps as keys.
select c.anonymous_id, min(c.customer_id) as customer_id
from firsts as f
inner join int_identity_candidates as c
    on c.anonymous_id = f.anonymous_id
    and c.first_at <= f.first_at
group by c.anonymous_id
