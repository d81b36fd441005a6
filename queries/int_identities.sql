-- int_identities: one row per anonymous id ever seen on an identified event, with the customer
-- it belongs to: the customer of its earliest identified event (ties: smallest customer_id).
-- test: unique(anonymous_id)
-- test: not_null(customer_id)
-- An ordered aggregate, not row_number() over each anonymous id: the window costs a partition
-- per id (half the model's time on an incremental night).
select
    anonymous_id,
    first_value(customer_id order by first_at, customer_id) as customer_id
from int_identity_candidates
group by anonymous_id
