-- int_identities: one row per anonymous id ever seen on an identified event, with the customer
-- it belongs to: the customer of its earliest identified event (ties: smallest event_id).
-- test: unique(anonymous_id)
-- test: not_null(customer_id)
with ranked as (
    select
        anonymous_id,
        customer_id,
        row_number() over (
            partition by anonymous_id
            order by first_at, first_event_id
        ) as position
    from int_identity_candidates
)

select anonymous_id, customer_id
from ranked
where position = 1
