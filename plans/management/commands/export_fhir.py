"""manage.py export_fhir --since DATE --out DIR: FHIR Bulk Data style NDJSON (plans/fhir/bulk.py)."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from plans.fhir.bulk import export_ndjson


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--since must be a date, YYYY-MM-DD (got {value!r}).") from exc


class Command(BaseCommand):
    help = "Export patients' records as FHIR R4 NDJSON, one file per resource type, with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="Directory to write (created; must not hold an export)")
        parser.add_argument("--since", type=_date, help="Only patients whose record changed on or after this day")
        parser.add_argument("--chunk", type=int, default=200, help="Patients read per batch of queries")

    def handle(self, *args, out, since, chunk, **options):
        # The day starts at midnight in the clinic's time zone.
        since_at = timezone.make_aware(dt.datetime.combine(since, dt.time())) if since else None
        started = time.monotonic()
        try:
            manifest = export_ndjson(out=out, since=since_at, chunk_size=chunk)
        except FileExistsError as exc:
            raise CommandError(str(exc)) from exc
        for output in manifest["output"]:
            self.stdout.write(f"{output['type']:<20} {output['count']:>9}")
        self.stdout.write(f"Written to {out} in {time.monotonic() - started:.1f} s.")
