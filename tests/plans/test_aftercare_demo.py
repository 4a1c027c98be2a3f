"""The demo step issues sheets for earlier completed sessions and leaves today's to be printed."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from plans.demo import aftercare as demo
from plans.models import AftercareSheet
from tests.factories import UserFactory
from tests.plans.test_aftercare_content import completed_session

pytestmark = pytest.mark.django_db


def _ctx():
    staff = {"clinician": UserFactory(role="clinician"), "frontdesk": UserFactory(role="front_desk")}
    return {"today": timezone.localdate(), "rng": random.Random(1), "staff": staff, "patients": []}


def test_seed_issues_sheets_for_past_sessions_only():
    earlier = completed_session(performed_at=timezone.now() - dt.timedelta(days=30))
    today = completed_session(performed_at=timezone.now())
    planned = completed_session(status="planned")

    ctx = _ctx()
    demo.seed(ctx)

    assert ctx["aftercare_sheets"] == 1
    assert AftercareSheet.objects.filter(session=earlier).exists()
    assert not AftercareSheet.objects.filter(session__in=[today, planned]).exists()
    demo.seed(ctx)  # running again adds nothing
    assert AftercareSheet.objects.count() == 1


def test_seed_does_nothing_without_completed_sessions():
    ctx = _ctx()
    demo.seed(ctx)
    assert ctx["aftercare_sheets"] == 0 and not AftercareSheet.objects.exists()
