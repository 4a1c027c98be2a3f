"""Each key page beside Django's admin over the same rows, timed in-process on the seeded database.

    DJANGO_SETTINGS_MODULE=bench.admin_settings DATABASE_URL=... python bench/admin_compare.py --out admin.json

Every page is rendered afresh (nothing is cached). For each key page and its admin counterpart (bench/admin_urls.py):
two warm-up GETs each, then --rounds rounds in which the page and the admin page are fetched one after the
other, so that other load on a shared machine falls on both alike. Reported per page: median wall ms, median
CPU ms (this process: Python and templates), SQL queries, response size, and the ratio page / admin.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

# name -> (app role, admin path built from the targets)
ADMIN_PAGES = {
    "patient search": lambda t, term: f"/bench-admin/patients/patient/?q={term}",
    "patient page": lambda t, term: f"/bench-admin/patients/patient/{t['patient']}/change/",
    "plan page": lambda t, term: f"/bench-admin/plans/plan/{t['plan']}/change/",
    "day calendar": lambda t, term: (
        "/bench-admin/plans/appointment/?start__year={}&start__month={}&start__day={}".format(
            *(int(x) for x in t["day"].split("-"))
        )
    ),
    "aftercare print": lambda t, term: f"/bench-admin/plans/treatmentsession/{t['session']}/change/",
}
# Goals for a page rendered afresh (issue 13), in ms, and the pages that must take at most half the admin's time.
GOALS_MS = {"patient search": 20, "patient page": 20, "plan page": 20, "day calendar": 30, "aftercare print": 20}
HALF_OF_ADMIN = ("patient search", "day calendar")


def timed(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    wall, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, len(captured), response


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    _django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    import probe

    targets = probe.targets()
    users = probe.users_by_role()
    admin_user, _ = User.objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True, "first_name": "Bench", "last_name": "Admin"}
    )
    admin = Client()
    admin.force_login(admin_user)
    results = {}
    for name, (role, build) in probe.PAGES.items():
        path = build(targets)
        admin_path = ADMIN_PAGES[name](targets, probe.SEARCH_TERM)
        client = Client()
        client.force_login(users[role][0])
        for _ in range(2):
            client.get(path)
            admin.get(admin_path)
        mine, theirs = [], []
        for _ in range(args.rounds):
            mine.append(timed(client, path))
            theirs.append(timed(admin, admin_path))
        row = {"path": path, "admin_path": admin_path}
        for key, runs in (("page", mine), ("admin", theirs)):
            response = runs[-1][3]
            row[key] = {
                "wall_ms": statistics.median(r[0] for r in runs),
                "cpu_ms": statistics.median(r[1] for r in runs),
                "queries": runs[-1][2],
                "status": response.status_code,
                "kib": len(response.content) / 1024,
            }
        row["ratio_wall"] = row["page"]["wall_ms"] / row["admin"]["wall_ms"]
        row["ratio_cpu"] = row["page"]["cpu_ms"] / row["admin"]["cpu_ms"]
        row["goal_ms"] = GOALS_MS[name]
        row["half_of_admin"] = name in HALF_OF_ADMIN
        results[name] = row
        print(f"  {name:<16} {row['page']['wall_ms']:6.1f} ms (CPU {row['page']['cpu_ms']:5.1f})   admin "
              f"{row['admin']['wall_ms']:6.1f} ms (CPU {row['admin']['cpu_ms']:5.1f})   ratio {row['ratio_wall']:.2f}",
              flush=True)
    Path(args.out).write_text(json.dumps({"day": targets["day"], "rounds": args.rounds, "pages": results}, indent=1))


if __name__ == "__main__":
    main()
