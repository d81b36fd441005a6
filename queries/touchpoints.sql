-- touchpoints: one row per valid event, counted once. A duplicate event_id keeps its first
-- arrival (earliest arrival_date, then file, then position in the file); every metric reads
-- events from here. stg_first_copies names the first copy of each repeated id, so one pass over
-- the rows read drops exactly the later copies and keeps every other row; the two meet on the
-- id's 126-bit hash (id_hash), which joins the repeated ids at a fraction of the strings' cost.
-- Ranking the copies instead sorts the whole year by event_id, several times slower.
-- materialized: intermediate
select v.event_id,
    v.occurred_at,
    v.event_date,
    v.anonymous_id,
    v.channel,
    v.channel_known,
    v.touchpoint,
    v.touchpoint_known,
    v.customer_id,
    v.session_id,
    v.revenue,
    v.nps,
    v.csat,
    v.ces,
    v.out_of_range_scores,
    v.comment,
    v.duration_s,
    v.country,
    v.properties,
    v.arrival_date,
    v.source_file
from stg_touchpoints as v
-- Rows that are not valid meet stg_first_copies' row -1 and go too: one pass drops both, where
-- a filter before the join would copy nearly every row read once more.
where not exists (
    select 1 from stg_first_copies as f
    where f.event_key = case when v.is_valid then id_hash(v.event_id) else -1 end
        and f.first_order <> v.arrival_order
)
