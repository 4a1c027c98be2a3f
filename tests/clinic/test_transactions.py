"""One transaction model: each service owns the transaction of its write (there is no per-request transaction),
so a POST that fails half way leaves nothing behind."""

import ast
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from clinic import services
from clinic.settings import MIDDLEWARE

ROOT = Path(__file__).resolve().parents[2]
SERVICE_MODULES = [ROOT / "clinic" / "services.py", ROOT / "patients" / "services.py", *sorted((ROOT / "plans" / "services").glob("*.py"))]
WRITES = (".save(", ".create(", ".delete(", ".update(", ".set(", "bulk_create(", "select_for_update(", "get_or_create(")
# Public service functions that write without a transaction of their own, and why that is safe.
NO_TRANSACTION_NEEDED = {
    "access_log_record": "one INSERT (create or bulk_create), atomic by itself",
    "roles_sync": "runs inside migrate's post_migrate, per app",
    "clean_save": "a helper services call inside their own transaction",
}


def _public_writers():
    for path in SERVICE_MODULES:
        source = path.read_text()
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                text = ast.get_source_segment(source, node)
                decorators = " ".join(ast.unparse(d) for d in node.decorator_list)
                if any(write in text for write in WRITES):
                    yield path.relative_to(ROOT), node.name, "transaction.atomic" in decorators + text


def test_no_request_wide_transaction():
    assert not any("Atomic" in name for name in MIDDLEWARE)


@pytest.mark.parametrize(("module", "name", "atomic"), list(_public_writers()), ids=lambda v: str(v))
def test_every_service_that_writes_owns_its_transaction(module, name, atomic):
    assert atomic or name in NO_TRANSACTION_NEEDED, f"{module}:{name} writes without transaction.atomic"


@pytest.mark.django_db
def test_a_post_that_fails_half_way_leaves_nothing_behind(manager_client, front_desk, monkeypatch):
    """The staff form changes role, active flag and password in one service: when the last step fails, the
    role change before it is undone too."""

    def fail(**kwargs):
        raise RuntimeError("the password could not be stored")

    monkeypatch.setattr(services, "staff_set_password", fail)
    with pytest.raises(RuntimeError):
        manager_client.post(f"/staff/{front_desk.pk}/", {
            "role": "clinician", "is_active": "on", "new_password": "a-new-Passw0rd-123", "new_password2": "a-new-Passw0rd-123",
        })
    front_desk.refresh_from_db()
    assert list(front_desk.groups.values_list("name", flat=True)) == ["front_desk"]
    assert Group.objects.get(name="clinician").user_set.filter(pk=front_desk.pk).count() == 0
