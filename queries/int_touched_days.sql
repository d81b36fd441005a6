-- int_touched_days: the active days of the customers int_touched_customers names, as they are
-- now (sign 1, from int_customer_days) and as the previous run had them (sign -1): what the
-- delta models recompute. On a full refresh: every customer's active days, each once.
-- materialized: intermediate
select d.customer_id, d.activity_date, 1 as sign
from int_customer_days as d
inner join int_touched_customers as t on t.customer_id = d.customer_id
where d.active
union all
select p.customer_id, p.activity_date, -1 as sign
from previous.int_customer_days as p
inner join int_touched_customers as t on t.customer_id = p.customer_id
where p.active
