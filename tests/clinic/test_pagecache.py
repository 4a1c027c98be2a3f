"""Kept pages (clinic/pagecache.py): served again without the database until a write, never across users,
never with another user's CSRF token, never with a one-time message."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic import pagecache
from plans.models import AppointmentStatus
from tests.factories import AppointmentFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


@pytest.fixture
def day(clinician):
    start = timezone.localtime().replace(second=0, microsecond=0)  # today: check-in is for today's bookings
    appointment = AppointmentFactory(start=start, clinician=clinician, patient=PatientFactory(last_name="Okafor"))
    return appointment, reverse("plans:schedule_day") + f"?date={start.date().isoformat()}"


def test_a_page_read_twice_is_served_the_second_time_with_fewer_queries(front_desk_client, day):
    _, url = day
    first, cold = _queries(front_desk_client, url)
    second, warm = _queries(front_desk_client, url)
    assert b"Okafor" in second.content
    assert warm < cold and warm <= 5  # session, user, permissions and the transaction; no calendar queries


def test_a_write_makes_the_kept_page_stale_at_once(front_desk_client, day):
    appointment, url = day
    assert b"Checked in" not in front_desk_client.get(url).content
    response = front_desk_client.post(reverse("plans:appointment_check_in", args=[appointment.pk]), {"next": url})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert b"Checked in" in front_desk_client.get(url).content


def test_a_change_to_the_patient_shows_on_the_kept_patient_page_and_search(clinician_client):
    patient = PatientFactory(first_name="Mira", last_name="Santos")
    page, search = patient.get_absolute_url(), reverse("patients:list") + "?q=sant"
    assert b"Santos" in clinician_client.get(page).content and b"Santos" in clinician_client.get(search).content
    patient.last_name = "Santos-Reyes"
    patient.save()
    assert b"Santos-Reyes" in clinician_client.get(page).content
    assert b"Santos-Reyes" in clinician_client.get(search).content


def test_each_user_gets_their_own_page_and_their_own_csrf_token(front_desk, day):
    _, url = day
    other_desk = UserFactory(role="front_desk", first_name="Dana", last_name="Dube")
    ours, theirs = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    ours.force_login(front_desk)
    theirs.force_login(other_desk)
    ours.get(url)  # kept for front_desk
    page = theirs.get(url).content.decode()
    assert "Dana Dube" in page and "Ben Brown" not in page
    assert pagecache.CSRF_PLACEHOLDER not in page

    # The token in a page served from the cache is this user's own: the check-in form posts.
    page = theirs.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    appointment = day[0]
    response = theirs.post(
        reverse("plans:appointment_check_in", args=[appointment.pk]), {"csrfmiddlewaretoken": token, "next": url}
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN


def test_a_one_time_message_is_shown_once_and_never_kept(front_desk_client, day):
    appointment, url = day
    front_desk_client.get(url)
    front_desk_client.post(reverse("plans:appointment_check_in", args=[appointment.pk]), {"next": url})
    assert 'role="alert"' in front_desk_client.get(url).content.decode()  # "checked in", once
    again = front_desk_client.get(url).content.decode()
    assert 'role="alert"' not in again and "Checked in" in again


def test_a_write_moves_the_version_now_and_again_when_it_commits(django_capture_on_commit_callbacks):
    """A page rendered by another request between the write and the commit (it may have read the old rows)
    is kept under a version that the commit makes obsolete."""
    before = pagecache.data_version()
    with django_capture_on_commit_callbacks() as callbacks:
        PatientFactory()
    assert pagecache.data_version() > before
    assert pagecache.bump in callbacks


def test_the_access_log_and_history_rows_do_not_empty_the_cache(clinician_client):
    patient = PatientFactory()
    clinician_client.get(patient.get_absolute_url())
    version = pagecache.data_version()
    clinician_client.get(patient.get_absolute_url())  # writes an access-log row each time
    assert pagecache.data_version() == version


def test_with_the_cache_off_every_request_reads_the_database(settings, front_desk_client, day):
    settings.PAGE_CACHE = False
    _, url = day
    front_desk_client.get(url)  # the session's first page does one-off work
    _, cold = _queries(front_desk_client, url)
    _, again = _queries(front_desk_client, url)
    assert again == cold > 5


def test_a_lost_version_restarts_from_the_clock_not_from_one():
    from django.core.cache import cache

    cache.delete(pagecache.VERSION_KEY)
    pagecache.bump()
    assert pagecache.data_version() > 10**15


def test_a_disabled_account_is_signed_out_on_its_next_request_although_the_user_was_kept(front_desk, day):
    _, url = day
    client = Client()
    client.force_login(front_desk)
    assert client.get(url).status_code == 200  # user and permissions now kept in the cache
    front_desk.is_active = False
    front_desk.save()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_role_taken_away_is_refused_on_the_next_request(front_desk, day):
    _, url = day
    client = Client()
    client.force_login(front_desk)
    assert client.get(url).status_code == 200
    front_desk.groups.clear()
    assert client.get(url).status_code == 403


def test_a_post_that_fails_half_way_leaves_nothing_behind(rf):
    """Writes are all-or-nothing per request (clinic.middleware.AtomicWritesMiddleware replaces ATOMIC_REQUESTS)."""
    from clinic.middleware import AtomicWritesMiddleware
    from patients.models import Patient

    middleware = AtomicWritesMiddleware(lambda request: None)

    def half_done(request):
        PatientFactory()
        raise RuntimeError("the second write failed")

    with pytest.raises(RuntimeError):
        middleware.process_view(rf.post("/anything/"), half_done, (), {})
    assert not Patient.objects.exists()
    # A read is left to Django's handler: no transaction opened for it.
    assert middleware.process_view(rf.get("/anything/"), half_done, (), {}) is None
    assert not Patient.objects.exists()


def test_a_changed_rule_setting_gives_another_release_so_no_page_kept_under_the_old_one_is_served(monkeypatch):
    from django.conf import settings as django_settings

    from clinic.env import release_id

    before = release_id(django_settings.BASE_DIR)
    monkeypatch.setenv("RULE_WINDOW_AFTER_DAYS", "10")
    assert release_id(django_settings.BASE_DIR) != before


def test_users_with_the_same_role_share_a_kept_page_each_with_their_own_name(front_desk, day):
    _, url = day
    colleague = UserFactory(role="front_desk", first_name="Eve <b>", last_name="Ng")
    mine, theirs = Client(), Client()
    mine.force_login(front_desk)
    theirs.force_login(colleague)
    mine.get(url)
    _queries(mine, url)  # kept now, and this session's one-off work done
    theirs.get("/")  # the colleague's session's one-off work, elsewhere
    page, count = _queries(theirs, url)
    assert count <= 5  # served from the page the other desk's request kept
    html = page.content.decode()
    assert "Eve &lt;b&gt; Ng" in html and "Ben Brown" not in html and "Eve <b>" not in html
    assert pagecache.USER_NAME_PLACEHOLDER not in html and pagecache.USER_ROLE_PLACEHOLDER not in html


def test_a_role_with_other_permissions_gets_its_own_page(clinician, front_desk_client, day):
    """The desk sees check-in buttons; a clinician (no permission to change bookings) must not get the desk's page."""
    _, url = day
    assert "Check in" in front_desk_client.get(url).content.decode()
    client = Client()
    client.force_login(clinician)
    assert "Check in</button>" not in client.get(url).content.decode()


def test_requests_wait_for_a_page_being_rendered_and_render_it_themselves_if_it_never_comes(settings, front_desk, day):
    import threading

    from django.core.cache import cache
    from django.test import RequestFactory

    _, url = day
    client = Client()
    client.force_login(front_desk)
    client.get("/")  # the session's one-off work
    request = RequestFactory().get(url)
    request.user, request.htmx = front_desk, False
    key = pagecache._key(request)  # the key the client's next request uses
    settings.PAGE_CACHE_WAIT_SECONDS = 1

    # Another request holds the lock and keeps its page 50 ms later: this one waits and serves that page.
    cache.add(key + ":rendering", 1)
    timer = threading.Timer(0.05, lambda: cache.set(key, "<p>kept by the other request</p>"))
    timer.start()
    assert client.get(url).content.decode() == "<p>kept by the other request</p>"
    timer.join()

    # The renderer never keeps a page (the lock is still held): after the wait this request renders it itself.
    cache.delete(key)
    settings.PAGE_CACHE_WAIT_SECONDS = 0.1
    page = client.get(url).content.decode()
    assert "Okafor" in page and "kept by the other request" not in page
