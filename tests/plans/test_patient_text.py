"""Issue 12 §4: text given to patients is written for patients. No source keys (S12, §3, "domain reference") on
aftercare sheets, course summaries, emails or reminders (a staff-only tooltip may hold them); the sheet says what
was recorded; a pause that should already have started is said plainly; the staff list names roles."""

import datetime as dt
import re
import subprocess
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse

from plans import rules
from plans.models import Appointment, AppointmentKind, AppointmentStatus, Plan, SessionStatus, TreatmentSession
from plans.services import aftercare as aftercare_services
from plans.services import scheduling as scheduling_services
from tests.factories import AppointmentFactory, PlanAdjunctFactory, UserFactory
from tests.plans.test_aftercare_content import completed_session, sheet_html

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)
SOURCE_KEY = re.compile(r"(?<![\w-])S\d{1,2}(?!\d)|§|domain reference", re.IGNORECASE)
# What a reader (or a screen reader) is given besides text nodes. A staff tooltip (title) may hold a source key;
# hidden values, URLs and tokens are not read by anyone (a CSRF token once began with "s4" and failed CI).
_READ_ATTRIBUTES = {"alt", "aria-label", "placeholder", "aria-description"}


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attributes = dict(attrs)
        self.parts.extend(value or "" for name, value in attrs if name in _READ_ATTRIBUTES)
        if tag == "input" and attributes.get("type") not in ("hidden",) and attributes.get("value"):
            self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_keys(text: str) -> list[str]:
    """Source keys a reader sees in a page, a PDF's text or an email: text, alt texts, labels and visible values,
    never a staff tooltip (title) or a hidden value."""
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    return SOURCE_KEY.findall("\n".join(parser.parts))


@pytest.mark.parametrize(
    "html, expected",
    [
        ('<p>Avoid heat (S54).</p>', ["S54"]),
        ('<img src="/a.png" alt="see S4">', ["S4"]),
        ('<button aria-label="S12 rule">x</button>', ["S12"]),
        ('<input type="text" value="S3 note">', ["S3"]),
        ('<span title="Domain rule S4">Sun protection</span>', []),  # staff tooltip
        ('<input type="hidden" name="csrfmiddlewaretoken" value="s4Hk2">', []),  # a token, never read
        ('<a href="/photos/s4abc/">Photo</a>', []),
        ("<script>var s4 = 1;</script>", []),
        ("Plain email text, lot S1234, record DEMO0012.", []),
        ("Plain email text (S12).", ["S12"]),
    ],
)
def test_visible_keys_reads_what_a_reader_sees(html, expected):
    assert visible_keys(html) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("avoid heat (S54, S55).", "avoid heat."),
        ("record it (S24–S26).", "record it."),
        ("Sun protection (domain reference §5)", "Sun protection"),
        ("Avoid sun (§5: S51, S52, S54) daily.", "Avoid sun daily."),
        ("SPF 50, lot S1234, record DEMO0012", "SPF 50, lot S1234, record DEMO0012"),
    ],
)
def test_source_keys_are_removed_from_text_for_patients(text, expected):
    assert rules.without_source_keys(text) == expected
    assert not rules.contains_source_key(expected)


@pytest.mark.parametrize(
    "recorded, phrase",
    [("during the procedure", "during your treatment"), ("immediately after", "straight after your treatment"),
     ("", "at your treatment")],
)
def test_exosome_sentence_follows_what_was_recorded(recorded, phrase):
    assert rules.exosome_applied_phrase(recorded) == phrase


SESSION_DAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    "today, expected",
    [
        (dt.date(2026, 11, 29), "Stop Hydroquinone from Monday 30 November 2026 (7 days before your session)."),
        (dt.date(2026, 11, 30), "Stop Hydroquinone today (7 days before your session)."),  # the pause starts today
        (dt.date(2026, 12, 1), "should already have been stopped"),  # a day late
        (dt.date(2026, 12, 6), "we may need to move your visit"),  # the day before
    ],
)
def test_a_pause_that_should_have_started_is_said_plainly(today, expected):
    steps = rules.pre_session_instructions(
        adjuncts=[rules.AdjunctSpec(rules.HYDROQUINONE)], hsv_history=False, session_date=SESSION_DAY, today=today
    )
    assert expected in steps[0]
    if today > dt.date(2026, 11, 30):
        assert "November" not in steps[0] and "December" not in steps[0]  # no date already past


@pytest.mark.django_db
def test_reminder_the_day_before_says_the_pause_is_late_and_the_visit_may_move(time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    settings.REMINDER_DAYS_BEFORE = 7
    plan = completed_session().plan
    PlanAdjunctFactory(plan=plan, agent="hydroquinone", strength="4%", pause_days_before=7)
    session_2 = TreatmentSession.objects.create(plan=plan, number=2, status=SessionStatus.PLANNED)
    AppointmentFactory(
        patient=plan.patient, plan=plan, session=session_2, kind=AppointmentKind.SESSION, status="booked",
        start=NOW + dt.timedelta(days=1),
    )
    scheduling_services.reminders_send(now=NOW)
    [message] = mail.outbox
    assert "should already have been stopped" in message.body and "move your visit" in message.body
    assert "from Monday 23 November" not in message.body and "November" not in message.body
    assert not visible_keys(message.body)


@pytest.mark.django_db
def test_sheet_says_when_the_exosomes_were_applied_as_recorded(clinician_client):
    session = completed_session(exosome_applied="immediately after")  # as recorded: a completed session is not edited
    html = sheet_html(clinician_client, session)
    assert "straight after your treatment" in html and "during your treatment" not in html


@pytest.mark.django_db
def test_sheet_and_summary_drop_source_keys_from_notes_staff_wrote(clinician_client):
    session = completed_session()
    Plan.objects.filter(pk=session.plan_id).update(sun_notes="Wide-brimmed hat; avoid heat (S54, S55).")
    session.refresh_from_db()
    html = sheet_html(clinician_client, session)
    assert "avoid heat." in html and not visible_keys(html)
    summary = clinician_client.get(reverse("plans:summary", args=[session.plan_id])).text
    assert "avoid heat." in summary and not visible_keys(summary)


@pytest.mark.django_db
def test_a_text_with_a_source_key_is_refused(manager):
    with pytest.raises(aftercare_services.AftercareError, match="internal references"):
        aftercare_services.aftercare_text_publish(
            section="emergency", modality="", title="Emergency", body="Call 999 (S47).", by=manager
        )


@pytest.mark.django_db
def test_staff_list_shows_role_names(manager_client):
    UserFactory(role="front_desk", username="desk1")
    page = manager_client.get(reverse("staff_list")).text
    assert "Front desk" in page and ">front_desk<" not in page and "front_desk," not in page


@pytest.mark.django_db
def test_no_source_key_reaches_a_patient_or_a_staff_page_of_the_demo_clinic(clinician_client, time_machine, settings):
    """Every aftercare sheet and course summary of the demo clinic, and every reminder it would send."""
    from clinic.demo import build_demo

    time_machine.move_to(NOW, tick=False)
    settings.REMINDER_DAYS_BEFORE = 400  # every booked visit gets its reminder text checked
    build_demo(today=NOW.date())
    clinician = UserFactory(role="clinician")

    completed = list(TreatmentSession.objects.filter(status=SessionStatus.COMPLETED).select_related("plan"))
    assert len(completed) > 5
    for session in completed:
        sheet = aftercare_services.aftercare_sheet_issue(session=session, by=clinician)
        html = render_to_string("plans/aftercare/includes/sheet.html", {"content": sheet.content, "sheet": sheet})
        assert not visible_keys(html), (session.pk, visible_keys(html))
    pdf = aftercare_services.aftercare_sheet_pdf(sheet=sheet)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Aftercare" in text and not visible_keys(text)

    plans = list(Plan.objects.all())
    for plan in plans:
        summary = clinician_client.get(reverse("plans:summary", args=[plan.pk])).text
        assert not visible_keys(summary), (plan.pk, visible_keys(summary))
        staff_page = clinician_client.get(plan.get_absolute_url()).text
        assert not visible_keys(staff_page), (plan.pk, visible_keys(staff_page))

    booked = Appointment.objects.filter(status=AppointmentStatus.BOOKED, start__gt=NOW).select_related("patient", "plan")
    assert booked.exists()
    for appointment in booked:
        message = scheduling_services.reminder_email(appointment)
        assert not visible_keys(message.body), (appointment.pk, visible_keys(message.body))
        for step in scheduling_services.reminder_instructions(appointment):
            for stated in re.findall(r"from (\w+day \d{2} \w+ \d{4})", step):
                assert dt.datetime.strptime(stated, "%A %d %B %Y").date() > NOW.date(), step  # never a past date
