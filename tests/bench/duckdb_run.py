"""The same models, in DuckDB: runs queries/*.sql in cxpipe's dependency order on the same
parquet files and writes each table model as parquet. Invoked by bench.py as its own process
so its time and memory are measured alone.

The three tables cxpipe provides are built here from the files directly, with the same
normalisation cxpipe applies (CONTRACT.md §1); every model file is used as it is, except those
with a DuckDB form in tests/bench/duckdb/ (the same rows, in the form DuckDB runs fastest, or
computed directly where cxpipe splits a table for its incremental nights; a form that starts
with `-- duckdb: skip` is a helper of those nights that DuckDB does not run).
"""

import json
import os
import subprocess
import sys
import time

import duckdb


def main():
    cxpipe, queries, input_dir, out_dir, run_date, threads = sys.argv[1:7]
    os.makedirs(out_dir, exist_ok=True)
    listing = subprocess.run(
        [cxpipe, "list", "--queries", queries], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    order = [(line.split()[0], line.split()[1]) for line in listing if line.strip()]

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set threads = {int(threads)}")
    files = []
    root = os.path.join(input_dir, "touchpoints")
    for part in sorted(os.listdir(root)):
        if part.startswith("date=") and part[5:] <= run_date:
            for name in sorted(os.listdir(os.path.join(root, part))):
                if name.endswith(".parquet"):
                    path = os.path.join(root, part, name)
                    files.append((path, part[5:], os.path.getsize(path)))
    file_list = "[" + ", ".join(f"'{f[0]}'" for f in files) + "]"
    # cxpipe's file_seq: the file's position in arrival order (files is sorted by date, then name).
    file_seqs = ", ".join(f"('{f[0]}', {seq})" for seq, f in enumerate(files))
    con.execute(
        f"""
        create view raw_touchpoints as
        with file_seqs(path, seq) as (values {file_seqs})
        select
            cast(event_id as varchar) as event_id,
            cast(occurred_at as timestamptz) as occurred_at,
            cast(anonymous_id as varchar) as anonymous_id,
            cast(channel as varchar) as channel,
            cast(touchpoint as varchar) as touchpoint,
            cast(customer_id as varchar) as customer_id,
            cast(session_id as varchar) as session_id,
            cast(revenue as double) as revenue,
            cast(nps as double) as nps,
            cast(csat as double) as csat,
            cast(ces as double) as ces,
            cast(comment as varchar) as comment,
            cast(duration_s as double) as duration_s,
            cast(country as varchar) as country,
            cast(properties as varchar) as properties,
            cast(date as date) as arrival_date,
            filename as source_file,
            s.seq as file_seq,
            file_row_number as source_row
        from read_parquet({file_list}, hive_partitioning = true, filename = true, file_row_number = true) as r
        inner join file_seqs as s on s.path = r.filename
        """
    )
    con.execute(
        f"create table run_context as select date '{run_date}' as run_date, "
        f"cast(date '{run_date}' + interval 1 day as timestamptz) as run_end"
    )
    # cxpipe's has_text(s): anything but spaces (DuckDB's trim, like DataFusion's, removes spaces).
    con.execute("create macro has_text(s) as coalesce(trim(s) <> '', false)")
    con.execute("create macro trimmed(s) as nullif(trim(s), '')")
    con.execute("create macro lower_trim(s) as lower(trim(s))")
    con.execute("create macro upper_trim(s) as upper(trim(s))")
    con.execute("create macro utc_date(t) as cast(t as date)")
    con.execute("create macro valid_score(x, lo, hi) as "
                "case when x between lo and hi and x = trunc(x) then cast(x as int) end")
    # cxpipe's id_hash(s), a 126-bit hash of the id, never negative: DuckDB's 128-bit md5_number
    # shifted to 126 bits (grouping the first copies by it ran 2.5 against 3.1 s by the strings
    # here).
    con.execute("create macro id_hash(s) as cast(md5_number(s) >> 2 as hugeint)")
    # cxpipe's day arithmetic on dates (README, Models).
    con.execute("create macro days_after(d, n) as cast(d + cast(n as integer) as date)")
    con.execute("create macro week_start(d) as cast(date_trunc('week', d) as date)")
    con.execute("create macro month_start(d) as cast(date_trunc('month', d) as date)")
    con.execute("create table input_files (path varchar, arrival_date date, bytes bigint, rows bigint)")
    con.executemany("insert into input_files values (?, ?, ?, 0)", [(p, d, b) for p, d, b in files])
    # Rows per file from the footers, as cxpipe's input_files has them.
    con.execute(
        f"update input_files set rows = m.num_rows from parquet_file_metadata({file_list}) as m "
        "where m.file_name = input_files.path"
    )
    # A full run: nothing ingested by earlier runs.
    con.execute("create table earlier_inputs as select 0::bigint as rows_read, "
                "0::bigint as dropped_invalid, 0::bigint as valid_rows")

    timings, skipped = {}, {}
    for name, materialized in order:
        # A model written in DuckDB's fastest form where it has one (same rows; see that file).
        override = os.path.join(os.path.dirname(os.path.abspath(__file__)), "duckdb", f"{name}.sql")
        sql = open(override if os.path.exists(override) else os.path.join(queries, f"{name}.sql")).read()
        if sql.startswith("-- duckdb: skip"):
            # A model of cxpipe's incremental nights that DuckDB's direct forms do not read.
            continue
        # cxpipe's run_date() and run_end() are the run_context values; DuckDB runs the subquery
        # form faster (11.8 s against 16.1 s with a macro for the whole run here).
        sql = sql.replace("run_end()", "(select run_end from run_context)")
        sql = sql.replace("run_date()", "(select run_date from run_context)")
        # DataFusion's ordered aggregate first_value(x order by ...) is DuckDB's first(x order by ...).
        sql = sql.replace("first_value(", "first(")
        started = time.time()
        try:
            if materialized == "view":
                con.execute(f"create view {name} as {sql}")
            elif materialized == "intermediate":
                con.execute(f"create table {name} as {sql}")
            else:
                con.execute(f"create table {name} as {sql}")
                con.execute(
                    f"copy {name} to '{os.path.join(out_dir, name + '.parquet')}' (format parquet, compression zstd)"
                )
        except duckdb.Error as e:
            skipped[name] = str(e).splitlines()[0]
        timings[name] = time.time() - started
    json.dump({"timings": timings, "skipped": skipped}, open(os.path.join(out_dir, "_duckdb.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
