"""Where a page's time goes, in-process against the seeded bench database (for pages that miss a target).

    python bench/pageprofile.py                       # every key page: wall / CPU / SQL ms per request, queries
    python bench/pageprofile.py "day calendar" --cprofile 25   # plus the top functions by cumulative time
    python bench/pageprofile.py "plan page" --explain          # plus EXPLAIN ANALYZE of the slowest queries

Runs with the same environment as the benchmark (DEBUG=0, DATABASE_URL = BENCH_DATABASE_URL or clinic_bench, REDIS_URL =
BENCH_REDIS_URL or its default).
CPU ms (time.process_time of this process: Python + template rendering) is much less disturbed by other load
on a shared machine than wall-clock ms; SQL ms is the database time seen by the app.
"""

import argparse
import cProfile
import io
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


CATEGORIES = [  # (label, substrings of the file path), first match wins
    ("waiting for PostgreSQL (psycopg)", ["/psycopg/", "/psycopg_binary/"]),
    ("sessions", ["/django/contrib/sessions/"]),
    ("auth and permissions", ["/django/contrib/auth/"]),
    ("URL reversing", ["/django/urls/"]),
    ("ORM: building SQL", ["/django/db/models/sql/", "/django/db/models/expressions", "/django/db/models/lookups",
                           "/django/db/models/query_utils", "/django/db/backends/"]),
    ("ORM: querysets and model instances", ["/django/db/"]),
    ("templates and forms", ["/django/template/", "/django/templatetags/", "/crispy_forms/", "/crispy_bootstrap5/",
                             "/django/forms/", "/django/utils/html", "/django/utils/safestring", "/django/utils/formats",
                             "/django/utils/dateformat", "/django/utils/numberformat"]),
    ("app code (clinic, patients, plans)", [f"{BENCH.parent}/clinic/", f"{BENCH.parent}/patients/", f"{BENCH.parent}/plans/"]),
    ("rest of Django and middleware", ["/django/", "/whitenoise/", "/django_htmx/", "/simple_history/", "/axes/"]),
]


def breakdown(stats, runs: int) -> str:
    """Own (tottime) CPU of every function, summed by kind of work, per request (profiler overhead included)."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        label = next((label for label, parts in CATEGORIES if any(p in filename for p in parts)), "other (stdlib, builtins)")
        totals[label] = totals.get(label, 0.0) + tottime
    whole = sum(totals.values())
    lines = [f"    {label:<38} {ms / runs * 1000:6.1f} ms  {ms / whole:4.0%}" for label, ms in sorted(totals.items(), key=lambda kv: -kv[1])]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("pages", nargs="*", help="page names as in the results table (default: all)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="show the top N functions")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--queries", action="store_true", help="list each query of one request with its time")
    parser.add_argument("--breakdown", action="store_true", help="CPU time per kind of work (cProfile, grouped)")
    args = parser.parse_args(argv)

    from run import DEFAULT_REDIS_URL, DEFAULT_URL

    os.environ.setdefault("DATABASE_URL", os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    os.environ.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))  # as the benchmark runs
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("FRAGMENT_CACHE", "0")  # fresh renders; FRAGMENT_CACHE=1 to profile kept fragments
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("SECURE_COOKIES", "0")
    static_root = os.environ.setdefault("STATIC_ROOT", str(Path(tempfile.gettempdir()) / "clinic-bench-profile-static"))
    import _django

    _django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import probe

    if not (Path(static_root) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    targets = probe.targets()
    users = probe.users_by_role()
    print(f"{targets['patients']:,} patients; calendar day {targets['day']}\n")
    print(f"{'page':<18} {'queries':>7} {'wall ms':>8} {'CPU ms':>7} {'SQL ms':>7}")
    for name, (role, build) in probe.PAGES.items():
        if args.pages and name not in args.pages:
            continue
        path = build(targets)
        if probe.availability(path):
            print(f"{name:<18} not available yet")
            continue
        client = Client()
        client.force_login(users[role][0])
        client.get(path)
        wall = cpu = sql = 0.0
        queries = 0
        for _ in range(args.repeat):
            w0, c0 = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            wall += time.perf_counter() - w0
            cpu += time.process_time() - c0
            sql += sum(float(q["time"]) for q in captured.captured_queries)
            queries = len(captured.captured_queries)
        n = args.repeat
        print(f"{name:<18} {queries:>7} {wall / n * 1000:>8.1f} {cpu / n * 1000:>7.1f} {sql / n * 1000:>7.1f}"
              f"   ({response.status_code}, {len(response.content) / 1024:.0f} KiB)")
        if args.cprofile or args.breakdown:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                client.get(path)
            profiler.disable()
            stats = pstats.Stats(profiler, stream=io.StringIO())
            if args.breakdown:
                print(breakdown(stats, runs=5))
            if args.cprofile:
                out = io.StringIO()
                stats.stream = out
                stats.sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.cprofile)
                print(out.getvalue())
        if args.queries:
            with CaptureQueriesContext(connection) as captured:
                client.get(path)
            for q in captured.captured_queries:
                print(f"    {float(q['time']) * 1000:6.2f} ms  {q['sql'][:220]}")
        if args.explain:
            with CaptureQueriesContext(connection) as captured:
                client.get(path)
            queries = [{"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in captured.captured_queries]
            for plan in probe.explain_slowest(queries):
                print(f"\n-- {plan['ms']:.2f} ms\n{plan['sql']}\n{plan['plan']}")


if __name__ == "__main__":
    main()
