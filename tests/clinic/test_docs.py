"""README stays true: the permission matrix it shows is the one the code enforces."""

from pathlib import Path

from clinic.management.commands.permission_matrix import matrix_markdown, pages_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_permission_matrix_matches_code():
    text = README.read_text()
    start = text.index("<!-- permission-matrix:start -->") + len("<!-- permission-matrix:start -->")
    end = text.index("<!-- permission-matrix:end -->")
    assert text[start:end].strip() == matrix_markdown().strip(), "run: manage.py permission_matrix"


def test_readme_page_matrix_matches_code():
    text = README.read_text()
    start = text.index("<!-- page-matrix:start -->") + len("<!-- page-matrix:start -->")
    end = text.index("<!-- page-matrix:end -->")
    assert text[start:end].strip() == pages_markdown().strip(), "run: manage.py permission_matrix --pages"


def test_quick_start_shows_exactly_the_two_commands():
    text = README.read_text()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line for line in block.strip().splitlines()] == ["make demo", "make test"]
