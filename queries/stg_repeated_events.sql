-- stg_repeated_events: one row per event_id that more than one valid row read carries: the only
-- events whose copies touchpoints has to rank. Duplicates are rare, so this is small; computed
-- once, in one narrow pass over the rows read.
-- materialized: intermediate
-- test: unique(event_id)
select event_id
from stg_touchpoints
where is_valid
group by event_id
having count(*) > 1
