-- int_kept_counts: what data_quality reports about the events kept: how many, scores set aside
-- as out of range, channels and touchpoints outside the vocabulary, late arrivals. Incremental:
-- one row per night; data_quality adds them up.
-- materialized: incremental
select
    count(*) as rows_kept,
    coalesce(sum(out_of_range_scores), 0) as out_of_range_scores,
    count(*) filter (where not channel_known) as unknown_channels,
    count(*) filter (where not touchpoint_known) as unknown_touchpoints,
    count(*) filter (where arrival_date > event_date) as late_events
from touchpoints
