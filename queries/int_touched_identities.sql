-- int_touched_identities: the anonymous ids the touched customers own (int_identities, for the
-- customers int_touched_customers names): the merged customer models stitch only these.
-- materialized: view
select i.anonymous_id, i.customer_id
from int_identities as i
inner join int_touched_customers as t on t.customer_id = i.customer_id
