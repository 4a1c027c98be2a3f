"""Permission ladder on every aftercare URL, and query counts that do not grow with the data."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from plans.models import AftercareSheet
from plans.services.aftercare import aftercare_text_publish
from tests.factories import AppointmentFactory, UserFactory
from tests.plans.test_aftercare_content import PERFORMED, completed_session, ship_texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def ladder(role_clients):
    """The role clients plus a signed-in user with no role at all."""
    no_role = Client()
    no_role.force_login(UserFactory(username="visitor"))
    return {**role_clients, "no_role": no_role}


def _expect(ladder, method, url, expected, data=None):
    for who, status in expected.items():
        response = getattr(ladder[who], method)(url, data or {})
        assert response.status_code == status, (who, url, response.status_code)
        if who == "anonymous":
            assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("name", ["plans:aftercare", "plans:aftercare_pdf"])
def test_sheet_ladder(ladder, name):
    session = completed_session()
    url = reverse(name, args=[session.pk])

    _expect(ladder, "get", url, {"anonymous": 302, "no_role": 403, "clinician": 200, "front_desk": 200, "manager": 200})


def test_sheet_ladder_leaves_no_sheet_behind_for_refused_users(ladder):
    session = completed_session()
    for who in ("anonymous", "no_role"):
        ladder[who].get(reverse("plans:aftercare", args=[session.pk]))
    assert not AftercareSheet.objects.exists()


def test_email_ladder(ladder):
    session = completed_session()
    url = reverse("plans:aftercare_email", args=[session.pk])

    _expect(ladder, "post", url, {"anonymous": 302, "no_role": 403, "clinician": 302, "front_desk": 302, "manager": 302})


def test_unknown_session_is_404(clinician_client):
    assert clinician_client.get(reverse("plans:aftercare", args=[999999])).status_code == 404


def test_text_ladder(ladder):
    ship_texts()
    list_url = reverse("plans:aftercare_texts")
    edit_url = reverse("plans:aftercare_text_edit", args=["emergency", "all"])
    roles = {"anonymous": 302, "no_role": 403, "clinician": 403, "front_desk": 403, "manager": 200}

    _expect(ladder, "get", list_url, roles)
    _expect(ladder, "get", edit_url, roles)
    _expect(
        ladder, "post", edit_url, {**roles, "manager": 302},
        data={"title": "Emergency", "body": "Call 999.", "base_version": 1},
    )


# --- query counts --------------------------------------------------------------------------------------------

SHEET_BUDGET_FIRST_PRINT = 21  # measured: 21 (auth, session row lock, regimen, texts, next visit, insert)
SHEET_BUDGET_REPRINT = 10  # measured: 10 (the stored sheet comes with the session)


@pytest.mark.parametrize("agents", [["hydroquinone"], ["hydroquinone", "tretinoin", "vitamin_c", "azelaic_acid", "txa_oral"]])
def test_print_view_queries_do_not_grow_with_the_regimen(clinician_client, django_assert_max_num_queries, agents):
    session = completed_session(agents=agents, hsv=True)
    for days in (28, 56, 84):  # more appointments do not cost more queries
        AppointmentFactory(patient=session.plan.patient, plan=session.plan,
                           start=PERFORMED + dt.timedelta(days=days))
    url = reverse("plans:aftercare", args=[session.pk])

    with django_assert_max_num_queries(SHEET_BUDGET_FIRST_PRINT):
        first = clinician_client.get(url)
    with django_assert_max_num_queries(SHEET_BUDGET_REPRINT):
        again = clinician_client.get(url)

    assert first.status_code == again.status_code == 200
    csrf = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert csrf.sub(b"", first.content) == csrf.sub(b"", again.content)  # the stored sheet, word for word


@pytest.mark.parametrize("edits", [0, 6])
def test_pdf_and_text_list_queries_do_not_grow(manager_client, manager, django_assert_max_num_queries, edits):
    ship_texts()
    for n in range(edits):
        aftercare_text_publish(section="emergency", modality="", title=f"Emergency {n}", body="Call.", by=manager)
        aftercare_text_publish(section="phase_0_24h", modality="nafl", title=f"Day {n}", body="Rest.", by=manager)
    session = completed_session(agents=["hydroquinone"] * (1 + edits))

    with django_assert_max_num_queries(SHEET_BUDGET_FIRST_PRINT):
        assert manager_client.get(reverse("plans:aftercare_pdf", args=[session.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert manager_client.get(reverse("plans:aftercare_texts")).status_code == 200
    with django_assert_max_num_queries(12):
        edit = manager_client.get(reverse("plans:aftercare_text_edit", args=["emergency", "all"]))
        assert edit.status_code == 200


# --- the buttons the session page includes -------------------------------------------------------------------


def _buttons(user, session) -> str:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get(f"/sessions/{session.pk}/")
    request.user = user
    return render_to_string("plans/aftercare/includes/session_buttons.html", {"session": session}, request=request)


def test_session_buttons_for_a_completed_session(front_desk):
    session = completed_session()

    html = _buttons(front_desk, session)

    assert f'href="/sessions/{session.pk}/aftercare/?print=1"' in html
    assert f'href="/sessions/{session.pk}/aftercare.pdf"' in html
    assert f'action="/sessions/{session.pk}/aftercare/email/"' in html
    assert f'name="next" value="/sessions/{session.pk}/"' in html


def test_session_buttons_without_email_consent_offer_no_email(clinician):
    html = _buttons(clinician, completed_session(email_consent=False))

    assert "aftercare/email/" not in html and "No email consent" in html


@pytest.mark.parametrize("status", ["planned", "cancelled"])
def test_no_session_buttons_before_the_session_is_done(clinician, status):
    assert "aftercare" not in _buttons(clinician, completed_session(status=status)).lower()


def test_no_session_buttons_without_the_permission():
    assert "aftercare" not in _buttons(UserFactory(username="visitor"), completed_session()).lower()
