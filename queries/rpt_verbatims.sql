-- rpt_verbatims: one row per recent comment from a detractor (nps <= 6) or an answer of high
-- effort (ces <= 3), newest first, at most 50: the report's voice of the customer. The comment
-- is the customer's untrusted free text: the report masks e-mail addresses and phone numbers
-- and shows it escaped. No customer identifier leaves this model.
select
    occurred_at,
    channel,
    touchpoint,
    nps,
    csat,
    ces,
    comment
from int_verbatim_candidates
order by occurred_at desc, event_id
limit 50
