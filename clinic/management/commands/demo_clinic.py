from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from clinic import demo

START_AFRESH_SQLITE = "To start afresh: stop the server, delete db.sqlite3 (if nothing in it is needed) and run make demo."
START_AFRESH_OTHER = (
    "To start afresh, give the demo an empty database of its own: drop and re-create it (dropdb NAME; createdb "
    "NAME), then run make demo with DATABASE_URL pointing at it; or run make demo without DATABASE_URL (SQLite)."
)


class Command(BaseCommand):
    help = (
        "Load the demo clinic (fixed seed) for today and print the demo logins. An empty database gets the demo; "
        "a SQLite database holding only a demo built for an earlier day gets it rebuilt for today; a database "
        "holding anything else is left as it was."
    )

    def handle(self, *args, **options):
        today = timezone.localdate()
        status = demo.demo_status(today=today)
        loaded = True
        if status.state is demo.DemoState.EMPTY:
            ctx = demo.build_demo(today=today)
            self.stdout.write(self.style.SUCCESS(f"Loaded the demo clinic for today, {today:%A %-d %B %Y}: "
                                                 f"{len(ctx['patients'])} patients."))
        elif status.state is demo.DemoState.CURRENT:
            self.stdout.write(f"Demo clinic already loaded for today, {today:%A %-d %B %Y}; nothing added.")
        elif status.state is demo.DemoState.STALE and connection.vendor in demo.REBUILD_VENDORS:
            ctx = demo.demo_rebuild(today=today)
            self.stdout.write(self.style.SUCCESS(
                f"The demo clinic was built for {_day(status.built_for)}; rebuilt it for today, "
                f"{today:%A %-d %B %Y}: {len(ctx['patients'])} patients. Changes made during earlier demos are gone."
            ))
        elif status.state is demo.DemoState.STALE:
            loaded = False
            self.stdout.write(self.style.WARNING(
                f"The demo clinic here was built for {_day(status.built_for)}, so its bookings are in the past. "
                + demo.NOT_SQLITE.format(vendor=connection.vendor)
            ))
            self.stdout.write(START_AFRESH_OTHER)
        else:
            loaded = False
            self.stdout.write(self.style.WARNING(demo.NOT_ONLY_DEMO.format(what=status.other)
                                                 + " The demo is loaded only into an empty database or one holding "
                                                 "nothing but the demo."))
            self.stdout.write(START_AFRESH_SQLITE if connection.vendor == "sqlite" else START_AFRESH_OTHER)
        if loaded or status.has_demo_logins:
            self.stdout.write("")
            self.stdout.write("DEMO DATA ONLY — these logins are public; never use them with real patients.")
            for username, role in demo.DEMO_LOGINS:
                self.stdout.write(f"  {role:<11} username: {username:<10} password: {demo.DEMO_PASSWORD}")
            self.stdout.write("")


def _day(day) -> str:
    return f"{day:%A %-d %B %Y}" if day else "an earlier day (before the demo recorded its day)"
