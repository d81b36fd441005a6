-- DuckDB's form of queries/touchpoints.sql, for the benchmark only: the same rows (bench.py checks
-- the tables agree), written as the left join DuckDB runs fastest (3.4 s against 9.7 s for the
-- shipped NOT EXISTS with a non-equal condition). The left join form once came out wrong on a
-- Ballista cluster; that was the raw scan reading every file in every task, since fixed, and
-- the cluster test passes with either form. cxpipe has not been measured with this form.
-- touchpoints: one row per valid event, counted once. A duplicate event_id keeps its first
-- arrival (earliest arrival_date, then file, then position in the file); every metric reads
-- events from here. stg_first_copies names the first copy of each repeated id, so one pass over
-- the rows read drops exactly the later copies and keeps every other row.
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
left join stg_first_copies as f on f.event_key = id_hash(v.event_id)
where v.is_valid and (f.event_key is null or v.arrival_order = f.first_order)
