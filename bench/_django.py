"""Start Django for a bench helper process (seed.py, probe.py): the repository on sys.path, production-like
settings from the environment that bench/run.py passes (DATABASE_URL, DEBUG=0, SECRET_KEY, ...)."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def setup() -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("bench helpers need DATABASE_URL (bench/run.py sets it)")
    import django

    django.setup()
