"""Every URL of the project, walked as anonymous and as each role, checked against the permission matrix.

URL_MATRIX (clinic/urlmatrix.py) is the documented matrix (README "Pages and who may use them" is generated
from it by `manage.py permission_matrix --pages`). A new URL without a row fails test_every_url_is_in_the_matrix."""

import pytest

from clinic.urlmatrix import ALL, PUBLIC, URL_MATRIX
from tests.security.conftest import ROUTE_KEYS, url_for

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "clinician", "front_desk", "manager"]


def test_every_url_is_in_the_matrix():
    missing = sorted(set(ROUTE_KEYS) - set(URL_MATRIX))
    stale = sorted(set(URL_MATRIX) - set(ROUTE_KEYS))
    assert not missing, f"URLs without a row in clinic/urlmatrix.py: {missing}"
    assert not stale, f"rows in clinic/urlmatrix.py for URLs that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(URL_MATRIX))
def test_url_answers_as_the_matrix_says(role_clients, world, role, name):
    row = URL_MATRIX[name]
    url = url_for(name, world)
    client = role_clients[role]
    response = client.post(url, row.get("data", {})) if row["method"] == "post" else client.get(url)
    allowed = row["roles"]
    if allowed == PUBLIC:
        assert response.status_code in (200, 302), (name, role, response.status_code)
    elif role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/"), (name, response.status_code)
    elif role in allowed:
        expected = row.get("status", {200} if row["method"] == "get" else {200, 302})
        assert response.status_code in expected, (name, role, response.status_code)
    else:
        assert response.status_code == 403, (name, role, response.status_code)


def test_calendar_feed_with_an_unknown_token_is_404(client):
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404


def test_all_roles_constant_is_every_role():
    assert ALL == {"clinician", "front_desk", "manager"}
