-- data_quality: one row for the run: what was read and what was set aside, and why.
--   rows_read: rows in the files read (partitions up to the run date);
--   dropped_invalid: rows missing a required field, or that occurred after the run date;
--   duplicates: valid rows whose event_id had already arrived (the first arrival is kept);
--   rows_kept = rows_read - dropped_invalid - duplicates;
--   out_of_range_scores: nps/csat/ces values outside their scale, on kept rows (set to null);
--   unknown_channels / unknown_touchpoints: kept rows outside the vocabulary;
--   late_events: kept rows that arrived after the day they occurred;
--   files_read, bytes_read: the parquet files read.
-- rows_read comes from the files' footers (input_files), the rows set aside from the validity
-- pass of stg_first_copies: the input is not read again. An incremental run reads only the
-- files that arrived since the stored state; the rows set aside in the files read before come
-- from `earlier_inputs` (all zero on a full refresh).
-- test: row_count = 1
-- test: expression(rows_kept = rows_read - dropped_invalid - duplicates)
with read_now as (
    select
        (select coalesce(sum(rows), 0) from input_files) as rows_read,
        coalesce((select sum(copies) from stg_first_copies where event_key = -1), 0)
            as dropped_invalid_now
),

staged as (
    select
        n.rows_read,
        n.dropped_invalid_now + e.dropped_invalid as dropped_invalid,
        n.rows_read - n.dropped_invalid_now - e.dropped_invalid as valid_rows
    from read_now as n
    cross join earlier_inputs as e
),

kept as (
    select
        coalesce(sum(rows_kept), 0) as rows_kept,
        coalesce(sum(out_of_range_scores), 0) as out_of_range_scores,
        coalesce(sum(unknown_channels), 0) as unknown_channels,
        coalesce(sum(unknown_touchpoints), 0) as unknown_touchpoints,
        coalesce(sum(late_events), 0) as late_events
    from int_kept_counts
),

files as (
    select count(*) as files_read, coalesce(sum(bytes), 0) as bytes_read
    from input_files
)

select
    s.rows_read,
    k.rows_kept,
    s.dropped_invalid,
    s.valid_rows - k.rows_kept as duplicates,
    cast(k.out_of_range_scores as bigint) as out_of_range_scores,
    k.unknown_channels,
    k.unknown_touchpoints,
    k.late_events,
    f.files_read,
    cast(f.bytes_read as bigint) as bytes_read
from staged as s
cross join kept as k
cross join files as f
