-- stg_first_copies: one row per event_id that more than one valid row read carries, with the
-- arrival_order of the copy that arrived first (earliest arrival date, then file, then position
-- in the file). Duplicates are rare, so this is small; it reads only the columns validity needs,
-- so touchpoints keeps first copies while reading every column just once.
-- materialized: intermediate
-- test: unique(event_id)
select event_id, min(arrival_order) as first_order
from stg_touchpoints
where is_valid
group by event_id
having count(*) > 1
