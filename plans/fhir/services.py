"""Writes for the FHIR export: the record of who downloaded which bulk export file."""

from django.db import transaction

from plans.models import ExportDownload


@transaction.atomic
def export_download_record(*, user, export: str, file: str) -> ExportDownload:
    download = ExportDownload(user=user, export=export, file=file)
    download.full_clean()
    download.save()
    return download
