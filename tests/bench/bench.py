"""`make bench`: cxpipe against DuckDB on the same definitions and the same parquet files.

Generates a seeded dataset (10M events over 365 days by default; larger with --customers),
runs the whole cxpipe pipeline (release build), an incremental night (the day before in full,
then the last day from its state; tables must equal the full run's), and the same
queries/*.sql in DuckDB, each in its own process under /usr/bin/time, checks that the core
tables agree, prints wall time, CPU time and peak memory with the ratios, and writes
target/bench/results.json.

The full run and DuckDB's take turns, --rounds times (the incremental night as often, from the
same state): the speed of a shared machine drifts by tens of percent within minutes, so each
round's ratio compares two runs made next to each other, and the medians are reported.
"""

import argparse
import datetime
import decimal
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORE = [
    "customer_experience", "retention_monthly", "experience_retention", "engagement_tiers",
    "stickiness_daily", "lifecycle_weekly", "experience_quality_monthly", "journey_funnel",
    "data_quality",
]
# Compared too: the report's headline numbers, whose DuckDB form (tests/bench/duckdb/) is a
# copy of the model with its monthly active customers counted directly, so it cannot drift.
COMPARED = CORE + ["rpt_kpis_monthly"]


def timed(cmd, env=None):
    """Runs cmd under GNU time; returns (wall s, cpu s, peak RSS MiB)."""
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    text = out.stderr
    def field(label):
        return re.search(re.escape(label) + r": (.+)", text).group(1).strip()
    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    return {"wall_s": round(seconds, 2), "cpu_s": round(cpu, 2), "peak_rss_mib": round(rss, 1)}


def median_run(runs):
    """The median of each measure over rounds, with every round kept."""
    keys = ("wall_s", "cpu_s", "peak_rss_mib")
    summary = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
    summary["rounds"] = runs
    return summary


def rows(con, path):
    data = con.execute(f"select * from read_parquet('{path}')").fetchall()
    def norm(v):
        if isinstance(v, (int, decimal.Decimal)) and not isinstance(v, bool):
            # Compare numbers by value: DuckDB writes some sums as doubles or decimals where
            # DataFusion keeps integers, and the reverse.
            v = float(v)
        if isinstance(v, float):
            return None if math.isnan(v) else round(v, 6)
        return str(v) if v is not None else None
    return sorted((tuple(norm(v) for v in row) for row in data), key=repr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=42_000, help="about 240 events per customer-year")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--end", default="2026-11-24")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--memory-limit", default=None, help="also run cxpipe with this --memory-limit")
    ap.add_argument("--rounds", type=int, default=3, help="full runs of cxpipe and DuckDB, taking turns")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    ap.add_argument("--cxpipe", default=os.path.join(target, "release", "cxpipe"))
    args = ap.parse_args()

    work = os.path.join(REPO, "target", "bench")
    data = os.path.join(work, f"data-{args.customers}-{args.days}-{args.seed}-{args.end}")
    if not os.path.isdir(data):
        print(f"generating {args.customers} customers x {args.days} days ...", flush=True)
        subprocess.run([args.cxpipe, "generate", "--output", data, "--customers", str(args.customers),
                        "--days", str(args.days), "--end", args.end, "--seed", str(args.seed)], check=True)
    queries = os.path.join(REPO, "queries")
    results = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
               "dataset": {"customers": args.customers, "days": args.days, "seed": args.seed, "end": args.end},
               "duckdb_version": duckdb.__version__}

    out_cx = os.path.join(work, "out-cxpipe")
    out_db = os.path.join(work, "out-duckdb")
    run = [args.cxpipe, "run", "--input", data, "--output", out_cx, "--date", args.end, "--queries", queries,
           "--reports", os.path.join(REPO, "reports"), "--threads", str(args.threads)]
    duck_run = [sys.executable, os.path.join(HERE, "duckdb_run.py"), args.cxpipe, queries, data,
                out_db, args.end, str(args.threads)]
    cx_rounds, db_rounds = [], []
    for round_no in range(1, args.rounds + 1):
        shutil.rmtree(out_cx, ignore_errors=True)
        print(f"cxpipe (round {round_no} of {args.rounds}) ...", flush=True)
        cx_rounds.append(timed(run))
        shutil.rmtree(out_db, ignore_errors=True)
        print(f"duckdb (round {round_no} of {args.rounds}) ...", flush=True)
        db_rounds.append(timed(duck_run))
    results["cxpipe"] = median_run(cx_rounds)
    results["duckdb"] = median_run(db_rounds)
    results["round_ratios_wall"] = [round(c["wall_s"] / d["wall_s"], 2) for c, d in zip(cx_rounds, db_rounds)]
    manifest = json.load(open(os.path.join(out_cx, "runs", args.end, "manifest.json")))
    results["dataset"]["events"] = manifest["input"]["rows_read"]
    results["dataset"]["bytes"] = manifest["input"]["bytes_read"]
    results["cxpipe"]["phases_s"] = manifest["timings"]
    results["cxpipe"]["models_s"] = {m["name"]: round(m["seconds"], 2) for m in manifest["models"]}
    duck = json.load(open(os.path.join(out_db, "_duckdb.json")))
    results["duckdb"]["models_s"] = {k: round(v, 2) for k, v in duck["timings"].items()}
    results["duckdb"]["skipped_models"] = duck["skipped"]

    # A night of the incremental kind: the state of the day before, plus one day's files.
    out_inc = os.path.join(work, "out-cxpipe-incremental")
    shutil.rmtree(out_inc, ignore_errors=True)
    day_before = (datetime.date.fromisoformat(args.end) - datetime.timedelta(days=1)).isoformat()
    nightly = run[:]
    nightly[nightly.index(out_cx)] = out_inc
    print("cxpipe, the night before (full) ...", flush=True)
    before = nightly[:]
    before[before.index(args.end)] = day_before
    results["cxpipe_night_before"] = timed(before)
    # The same night, from the same state, as many times as the full runs.
    pristine = out_inc + "-before"
    shutil.rmtree(pristine, ignore_errors=True)
    shutil.copytree(out_inc, pristine)
    inc_rounds = []
    for round_no in range(1, args.rounds + 1):
        if round_no > 1:
            shutil.rmtree(out_inc)
            shutil.copytree(pristine, out_inc)
        print(f"cxpipe, incremental night (round {round_no} of {args.rounds}) ...", flush=True)
        inc_rounds.append(timed(nightly))
    shutil.rmtree(pristine)
    results["cxpipe_incremental"] = median_run(inc_rounds)
    inc_manifest = json.load(open(os.path.join(out_inc, "runs", args.end, "manifest.json")))
    results["cxpipe_incremental"]["state"] = inc_manifest["state"]
    results["cxpipe_incremental"]["events_read"] = inc_manifest["input"]["rows_read"]
    results["cxpipe_incremental"]["models_s"] = {
        m["name"]: round(m["seconds"], 2) for m in inc_manifest["models"]}
    results["incremental_to_full"] = round(
        results["cxpipe_incremental"]["wall_s"] / results["cxpipe"]["wall_s"], 3)

    if args.memory_limit:
        out_lim = os.path.join(work, "out-cxpipe-limited")
        shutil.rmtree(out_lim, ignore_errors=True)
        print(f"cxpipe --memory-limit {args.memory_limit} ...", flush=True)
        limited = run[:]
        limited[limited.index(out_cx)] = out_lim
        results["cxpipe_memory_limited"] = timed(limited + ["--memory-limit", args.memory_limit])
        results["cxpipe_memory_limited"]["limit"] = args.memory_limit

    # `cxpipe check` plans every model and test against the input schema without reading data.
    print("cxpipe check ...", flush=True)
    results["cxpipe_check"] = timed([args.cxpipe, "check", "--queries", queries])

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    agreement = {}
    for table in COMPARED:
        full = rows(con, os.path.join(out_cx, "runs", args.end, "tables", table, "*.parquet"))
        nightly_rows = rows(con, os.path.join(out_inc, "runs", args.end, "tables", table, "*.parquet"))
        if full != nightly_rows:
            sys.exit(f"incremental {table} differs from the full run's")
        ours = rows(con, os.path.join(out_cx, "runs", args.end, "tables", table, "*.parquet"))
        theirs_path = os.path.join(out_db, table + ".parquet")
        theirs = rows(con, theirs_path) if os.path.exists(theirs_path) else None
        agreement[table] = "equal" if ours == theirs else (
            "missing in duckdb" if theirs is None else f"differs ({len(ours)} vs {len(theirs)} rows)")
    results["agreement"] = agreement
    cx, db = results["cxpipe"], results["duckdb"]
    results["ratio_cxpipe_to_duckdb"] = {k: round(cx[k] / db[k], 2) for k in ("wall_s", "cpu_s", "peak_rss_mib")}
    # Each round's two runs were made next to each other: the steadier comparison.
    results["ratio_cxpipe_to_duckdb"]["wall_s_median_of_rounds"] = round(
        statistics.median(results["round_ratios_wall"]), 2)

    os.makedirs(work, exist_ok=True)
    json.dump(results, open(os.path.join(work, "results.json"), "w"), indent=2)
    print(f"\n{results['dataset']['events']:,} events, {args.days} days, {os.cpu_count()} cores; "
          f"medians of {args.rounds} rounds")
    print(f"{'':26}{'wall s':>10}{'cpu s':>10}{'peak MiB':>10}")
    for name in ("cxpipe", "cxpipe_incremental", "cxpipe_memory_limited", "duckdb"):
        if name in results:
            r = results[name]
            print(f"{name:26}{r['wall_s']:>10}{r['cpu_s']:>10}{r['peak_rss_mib']:>10}")
    r = results["ratio_cxpipe_to_duckdb"]
    print(f"{'cxpipe / duckdb':26}{r['wall_s']:>10}{r['cpu_s']:>10}{r['peak_rss_mib']:>10}")
    print("cxpipe / duckdb wall, round by round:", ", ".join(map(str, results["round_ratios_wall"])),
          f"(median {results['ratio_cxpipe_to_duckdb']['wall_s_median_of_rounds']})")
    print(f"cxpipe check: {results['cxpipe_check']['wall_s']} s")
    print(f"incremental night / full run: {results['incremental_to_full']} "
          f"({results['cxpipe_incremental']['events_read']:,} events read)")
    print("agreement:", ", ".join(f"{k} {v}" for k, v in agreement.items()))
    print(f"written: {os.path.join(work, 'results.json')}")
    if any(v != "equal" for v in agreement.values()):
        # Times of different results compare nothing: a broken DuckDB form fails the bench.
        sys.exit("DuckDB's tables do not all equal cxpipe's; see agreement above")


if __name__ == "__main__":
    main()
