from django.core.management.base import BaseCommand

from clinic import demo


class Command(BaseCommand):
    help = "Load the demo clinic (fixed seed; running it again adds nothing) and print the demo logins."

    def handle(self, *args, **options):
        if demo.demo_exists():
            self.stdout.write("Demo clinic already loaded; nothing added.")
        else:
            ctx = demo.build_demo()
            self.stdout.write(self.style.SUCCESS(f"Loaded the demo clinic: {len(ctx['patients'])} patients."))
        self.stdout.write("")
        self.stdout.write("DEMO DATA ONLY — these logins are public; never use them with real patients.")
        for username, role in demo.DEMO_LOGINS:
            self.stdout.write(f"  {role:<11} username: {username:<10} password: {demo.DEMO_PASSWORD}")
        self.stdout.write("")
