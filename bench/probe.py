"""In-process look at a seeded bench database: which pages exist yet, their status, and the SQL each one runs.

    DATABASE_URL=... DEBUG=0 SECRET_KEY=... python bench/probe.py --out probe.json [--sessions 16] [--explain]

For every key page (PAGES) it resolves the URL (a page whose area has not landed yet resolves to nothing or to
the "not built" stub: reported as unavailable), GETs it once as the page's role with Django's test Client (the
first GET of the aftercare view issues and stores the sheet), then GETs it again inside CaptureQueriesContext and
records the status, the number of queries and each query with its time. With --explain it also runs
EXPLAIN (ANALYZE, BUFFERS) on each page's slowest SELECTs. With --sessions K it creates K logged-in sessions per
role (Django's SessionStore, as a login would) for the load generator, spread over the seeded staff.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402
from seed import SHOWCASE_MRN, calendar_day  # noqa: E402

SEARCH_TERM = "smi"  # a common surname prefix (Smith, Smithson, Smythe... see seed.LAST_NAMES)
# name -> (role whose session is used, how to build the path from the targets)
PAGES = {
    "patient search": ("clinician", lambda t: f"/patients/?q={SEARCH_TERM}"),
    "patient page": ("clinician", lambda t: f"/patients/{t['patient']}/"),
    "plan page": ("clinician", lambda t: f"/plans/{t['plan']}/"),
    "day calendar": ("front_desk", lambda t: f"/schedule/?date={t['day']}"),
    "aftercare print": ("front_desk", lambda t: f"/sessions/{t['session']}/aftercare/"),
}
CEILING = ("ceiling (/livez)", "/livez")
# Not a target: the bare view again, but carrying a clinician's session cookie, so the session is loaded (and, as
# configured, written now and then): the fixed cost every logged-in page pays before its view runs.
SESSION_REFERENCE = ("bare view + session", "/livez", "clinician")


def targets() -> dict:
    """The showcase patient's ids (same shape at every seed size)."""
    from django.utils import timezone

    from patients.models import Patient
    from plans.models import Plan, TreatmentSession

    patient = Patient.objects.filter(mrn=SHOWCASE_MRN).first()
    if patient is None:
        raise SystemExit(f"no showcase patient {SHOWCASE_MRN}: the database is not seeded (run without --skip-seed)")
    plan = Plan.objects.filter(patient=patient, state="active").order_by("-start_date").first()
    session = (
        TreatmentSession.objects.filter(plan=plan, status="completed").order_by("-number").first() if plan else None
    )
    if plan is None or session is None:
        raise SystemExit("the showcase patient has no active plan with a completed session: reseed")
    return {
        "patient": patient.pk,
        "plan": plan.pk,
        "session": session.pk,
        "day": calendar_day(timezone.localdate()).isoformat(),
        "patients": Patient.objects.count(),
    }


def users_by_role() -> dict:
    from django.contrib.auth.models import User

    found = {}
    for role in ("clinician", "front_desk", "manager"):
        found[role] = list(User.objects.filter(groups__name=role, username__startswith="bench_", is_active=True).order_by("pk"))
        if not found[role]:
            raise SystemExit(f"no seeded {role} account: reseed")
    return found


def availability(path: str) -> str | None:
    """None if the URL is served by a real view; otherwise why it is not available yet."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path.split("?")[0])
    except Resolver404:
        return "URL not in the app yet"
    if match.func.__module__.endswith("_stub"):
        return "view not built yet (stub)"
    return None


def measure_page(client, path: str, explain: bool) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm: caches, and the aftercare view's first GET issues the sheet
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    queries = [{"sql": q["sql"], "ms": round(float(q["time"]) * 1000, 2)} for q in captured.captured_queries]
    result = {
        "status": response.status_code,
        "queries": len(queries),
        "sql": queries,
        "bytes": len(response.content),
    }
    if response.status_code != 200:
        result["body"] = response.content[:600].decode("utf-8", "replace")
    if explain:
        result["explain"] = explain_slowest(queries)
    return result


def explain_slowest(queries, top=3) -> list[dict]:
    from django.db import connection

    plans = []
    selects = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    for query in sorted(selects, key=lambda q: -q["ms"])[:top]:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plans.append({"sql": query["sql"], "ms": query["ms"], "plan": "\n".join(row[0] for row in cursor.fetchall())})
    return plans


def make_sessions(users: list, count: int) -> list[str]:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore  # as the app is configured (db or cached_db)

    keys = []
    for i in range(count):
        user = users[i % len(users)]
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the backend a sign-in records
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key)
    return keys


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--sessions", type=int, default=0, help="logged-in sessions to create per role")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    _django.setup()
    from django.test import Client

    found_targets = targets()
    users = users_by_role()
    clients = {}
    for role, role_users in users.items():
        clients[role] = Client()
        clients[role].force_login(role_users[0])
    pages = {}
    for name, (role, build) in PAGES.items():
        path = build(found_targets)
        page = {"path": path, "role": role, "unavailable": availability(path)}
        if page["unavailable"] is None:
            page.update(measure_page(clients[role], path, args.explain))
        pages[name] = page
    name, path = CEILING
    pages[name] = {"path": path, "role": None, "unavailable": None, **measure_page(Client(), path, False)}
    name, path, role = SESSION_REFERENCE
    pages[name] = {"path": path, "role": role, "unavailable": None, **measure_page(clients[role], path, False)}
    from django.conf import settings

    result = {
        "targets": found_targets,
        "pages": pages,
        "settings": {
            "session_engine": settings.SESSION_ENGINE.rsplit(".", 1)[-1],
            "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        },
    }
    if args.sessions:
        result["sessions"] = {role: make_sessions(users[role], args.sessions) for role in ("clinician", "front_desk")}
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
