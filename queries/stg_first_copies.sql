-- stg_first_copies: one row per event_id that more than one valid row read carries, with the
-- arrival_order of the copy that arrived first (earliest arrival date, then file, then position
-- in the file) and how many copies were read; plus one row with a null event_id whose copies
-- are the rows read that are not valid (data_quality's dropped_invalid; no row when all are).
-- Duplicates are rare, so this is small. It reads only the columns validity needs, so
-- touchpoints keeps first copies while reading every column just once, and data_quality
-- counts the rows set aside without reading the input again.
-- materialized: intermediate
-- test: unique(event_id)
with keyed as (
    select case when is_valid then event_id end as valid_event_id, arrival_order
    from stg_touchpoints
),

grouped as (
    select valid_event_id as event_id, min(arrival_order) as first_order, count(*) as copies
    from keyed
    group by valid_event_id
)

select event_id, first_order, copies
from grouped
where copies > 1 or event_id is null
