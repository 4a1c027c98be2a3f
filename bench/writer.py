"""Background writes while pages are measured: a working clinic writes while it reads.

    DATABASE_URL=... REDIS_URL=... python bench/writer.py --per-second 1

Every 1/N seconds it saves a patient other than the showcase one, through the ORM as the app's services do
(row locks, WAL and autovacuum work alongside the pages being read).
It runs until it is terminated (bench/run.py stops it after the pass) and prints how many writes it made.
"""

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402
from seed import SHOWCASE_MRN  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-second", type=float, default=1.0)
    args = parser.parse_args()
    _django.setup()
    from patients.models import Patient

    ids = list(Patient.objects.exclude(mrn=SHOWCASE_MRN).order_by("pk").values_list("pk", flat=True)[:500])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    interval, writes, began = 1.0 / args.per_second, 0, time.monotonic()
    while not stop:
        patient = Patient.objects.get(pk=ids[writes % len(ids)])
        patient.screening_notes = f"bench write {writes}"
        patient.save(update_fields=["screening_notes"])
        writes += 1
        time.sleep(max(0.0, began + writes * interval - time.monotonic()))
    print(f"{writes} writes in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
