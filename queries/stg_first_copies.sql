-- stg_first_copies: one row per event id that more than one valid row read carries, with the
-- arrival_order of the copy that arrived first (earliest arrival date, then file, then position
-- in the file) and how many copies were read; plus one row with event_key -1 whose copies are
-- the rows read that are not valid (data_quality's dropped_invalid; no row when all are), with
-- first_order -1, so that touchpoints drops them in the same join as the later copies.
-- Duplicates are rare, so this is small. It reads only the columns validity needs, so
-- touchpoints keeps first copies while reading every column just once, and data_quality
-- counts the rows set aside without reading the input again.
--   event_key: id_hash(event_id), the id's 126-bit hash: grouping ten million ids by it takes a
--   fraction of the time grouping the strings takes (and of the memory), and two ids of a
--   year sharing one is as likely as 1 in 10^23.
-- materialized: intermediate
-- test: unique(event_key)
with keyed as (
    -- A row that is not valid is keyed -1, which no id hashes to (id_hash is never negative).
    select case when is_valid then id_hash(event_id) else -1 end as event_key, arrival_order
    from stg_touchpoints
),

grouped as (
    select event_key, min(arrival_order) as first_order, count(*) as copies
    from keyed
    group by event_key
)

select
    event_key,
    -- Rows that are not valid have no first copy to keep: -1 is no row's arrival_order.
    case when event_key = -1 then -1 else first_order end as first_order,
    copies
from grouped
where copies > 1 or event_key = -1
