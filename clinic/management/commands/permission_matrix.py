from django.core.management.base import BaseCommand
from django.urls import URLPattern, URLResolver, get_resolver

from clinic.roles import PERMISSION_MATRIX, ROLE_LABELS
from clinic.urlmatrix import PUBLIC, URL_MATRIX


class Command(BaseCommand):
    help = "Print the permission matrix (clinic/roles.py) or, with --pages, who may use each page, as README shows."

    def add_arguments(self, parser):
        parser.add_argument("--pages", action="store_true", help="the page matrix (clinic/urlmatrix.py)")

    def handle(self, *args, **options):
        self.stdout.write(pages_markdown() if options["pages"] else matrix_markdown())


def matrix_markdown() -> str:
    roles = list(ROLE_LABELS)
    lines = ["| permission | " + " | ".join(ROLE_LABELS[r] for r in roles) + " |",
             "|---|" + "|".join(":-:" for _ in roles) + "|"]
    for perm in sorted(PERMISSION_MATRIX):
        marks = ["✓" if role in PERMISSION_MATRIX[perm] else "" for role in roles]
        lines.append(f"| `{perm}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def _routes() -> dict[str, str]:
    routes = {}

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern),
                     f"{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                routes[f"{namespace}{pattern.name}"] = "/" + prefix + str(pattern.pattern)

    walk(get_resolver().url_patterns)
    return routes


def pages_markdown() -> str:
    roles = list(ROLE_LABELS)
    routes = _routes()
    lines = ["| address | kind | " + " | ".join(ROLE_LABELS[r] for r in roles) + " |",
             "|---|---|" + "|".join(":-:" for _ in roles) + "|"]
    for name, row in sorted(URL_MATRIX.items(), key=lambda item: routes.get(item[0], "")):
        kind = "page" if row["method"] == "get" else "action (POST)"
        if row["roles"] == PUBLIC:
            marks = ["anyone"] * len(roles)
        else:
            marks = ["✓" if role in row["roles"] else "403" for role in roles]
        lines.append(f"| `{routes.get(name, name)}` | {kind} | " + " | ".join(marks) + " |")
    return "\n".join(lines)
