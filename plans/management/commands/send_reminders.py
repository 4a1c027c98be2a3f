"""Send appointment reminders: email with an .ics attachment and the patient's pre-session instructions,
REMINDER_DAYS_BEFORE days ahead (setting / environment variable, default 7).

Run it periodically, e.g. from cron every 15 minutes:

    */15 * * * *  cd /srv/clinic && .venv/bin/python manage.py send_reminders

Running it again (or two runs at once) never sends twice: each reminder is logged (ReminderLog, unique per
appointment) in the same transaction before the email goes out. Patients without an email address or without
email consent are logged for a phone call, printed here and listed on /schedule/reminders/.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from plans.services.scheduling import reminders_send


class Command(BaseCommand):
    help = "Email appointment reminders due now and list the patients to phone instead."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Days ahead (default: REMINDER_DAYS_BEFORE)")

    def handle(self, *args, days=None, **options):
        run = reminders_send(days_before=days)
        self.stdout.write(f"Emailed {len(run.emailed)} reminder(s).")
        if run.to_call:
            self.stdout.write(f"To call ({len(run.to_call)}):")
            for log in run.to_call:
                appointment = log.appointment
                start = timezone.localtime(appointment.start)
                self.stdout.write(
                    f"  {start:%a %d %b %H:%M}  {appointment.patient.full_name}  {log.recipient or 'no phone on file'}"
                )
