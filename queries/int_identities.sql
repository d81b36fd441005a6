-- int_identities: one row per anonymous id ever seen on an identified event, with the customer
-- it belongs to: the customer of its earliest identified event (ties: smallest event_id).
-- test: unique(anonymous_id)
-- test: not_null(customer_id)
with identified as (
    select
        anonymous_id,
        customer_id,
        row_number() over (partition by anonymous_id order by occurred_at, event_id) as position
    from touchpoints
    where customer_id is not null
)

select anonymous_id, customer_id
from identified
where position = 1
order by anonymous_id
