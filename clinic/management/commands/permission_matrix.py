from django.core.management.base import BaseCommand

from clinic.roles import PERMISSION_MATRIX, ROLE_LABELS


class Command(BaseCommand):
    help = "Print the permission matrix (clinic/roles.py) as the Markdown table README.md shows."

    def handle(self, *args, **options):
        self.stdout.write(matrix_markdown())


def matrix_markdown() -> str:
    roles = list(ROLE_LABELS)
    lines = ["| permission | " + " | ".join(ROLE_LABELS[r] for r in roles) + " |",
             "|---|" + "|".join(":-:" for _ in roles) + "|"]
    for perm in sorted(PERMISSION_MATRIX):
        marks = ["✓" if role in PERMISSION_MATRIX[perm] else "" for role in roles]
        lines.append(f"| `{perm}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)
