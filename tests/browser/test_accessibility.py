"""Usable by every member of staff (issue 12, item 7): axe-core finds no serious or critical violation of WCAG
2.x A/AA on the key pages of each role.

axe-core is vendored for the tests only (tests/browser/vendor/axe-core, from the npm registry) and injected
through the browser's init scripts, so the pages keep their Content-Security-Policy. The pages are those of the
demo clinic, built for a fixed Monday and opened at that day explicitly (the live server keeps the real clock).
"""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.urls import reverse

from clinic.demo import build_demo
from clinic.urlmatrix import URL_MATRIX
from plans.models import Plan, SessionStatus, TreatmentSession
from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
DAY = dt.date(2026, 11, 23)  # a Monday: the demo's morning list, no-show the day before, sessions due
ROLES = {"clinician": "clinician", "frontdesk": "front_desk", "manager": "manager"}
BLOCKING = {"serious", "critical"}
RUN_AXE = """async () => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                                          resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}));
}"""


def _key_pages(day: dt.date) -> list[tuple[str, str, str]]:
    """(name, URL name, address) of the pages staff use most, from the demo built for `day`."""
    plan = (Plan.objects.filter(state="active", sessions__status=SessionStatus.COMPLETED, sessions__number=2)
            .order_by("pk").first())
    done = TreatmentSession.objects.filter(plan=plan, status=SessionStatus.COMPLETED).order_by("-number").first()
    handed_over = TreatmentSession.objects.filter(aftercare_sheet__isnull=False).order_by("pk").first()
    draft = Plan.objects.filter(state="draft").order_by("pk").first()
    due = TreatmentSession.objects.filter(plan=plan).exclude(status=SessionStatus.COMPLETED).order_by("number").first()
    on_day = f"?date={day:%Y-%m-%d}"
    day_before, day_after = (f"?date={day + dt.timedelta(days=n):%Y-%m-%d}" for n in (-1, 1))
    pages = [
        ("dashboard", "dashboard", reverse("dashboard")),
        ("patient-list", "patients:list", reverse("patients:list")),
        ("patient-search", "patients:list", reverse("patients:list") + f"?q={plan.patient.last_name[:4]}"),
        ("patient", "patients:detail", plan.patient.get_absolute_url()),
        ("plan", "plans:detail", plan.get_absolute_url()),
        ("plan-draft", "plans:detail", draft.get_absolute_url()),  # findings to override, consent to take
        ("book", "plans:plan_book", reverse("plans:plan_book", args=[plan.pk])),
        ("session-done", "plans:session", reverse("plans:session", args=[done.pk])),
        ("session-due", "plans:session", reverse("plans:session", args=[due.pk])),
        ("day", "plans:schedule_day", reverse("plans:schedule_day") + on_day),
        ("day-no-show", "plans:schedule_day", reverse("plans:schedule_day") + day_before),
        ("day-cancelled", "plans:schedule_day", reverse("plans:schedule_day") + day_after),
        ("day-by-clinician", "plans:schedule_day", reverse("plans:schedule_day") + on_day + "&by=clinician"),
        ("week", "plans:schedule_week", reverse("plans:schedule_week") + on_day),
        ("aftercare", "plans:aftercare", reverse("plans:aftercare", args=[handed_over.pk])),
    ]
    if "plans:outcomes" in URL_MATRIX:  # the outcomes page, where this build has one
        pages.append(("outcomes", "plans:outcomes", reverse("plans:outcomes")))
    return pages


def _report(found: dict[str, list]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['impact']} {v['id']} — {v['help']}")
            lines += [f"    {n['target']}: {n['summary'].splitlines()[-1].strip()}" for n in v["nodes"][:8]]
    return "\n".join(lines)


def test_no_serious_or_critical_violation_on_the_key_pages_of_each_role(page):
    build_demo(today=DAY)
    pages = _key_pages(DAY)
    page.context.add_init_script(path=str(AXE))
    found = {}
    for username, role in ROLES.items():
        page.context.clear_cookies()
        login(page, username)
        for name, url_name, address in pages:
            if role not in URL_MATRIX[url_name]["roles"]:
                continue
            response = page.goto(address)
            assert response.ok, f"{role} {address}: {response.status}"
            violations = [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]
            if violations:
                found[f"{role} {name} ({address})"] = violations
                shot(page, f"a11y-{role}-{name}")
    assert not found, "axe-core found serious or critical violations:\n" + _report(found)
    print(json.dumps(sorted(found)))
