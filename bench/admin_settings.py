"""Bench-only settings: the app's production settings plus Django's admin over the same rows, so the benchmark
can time the key pages beside the admin's pages on the same data (bench/admin_compare.py). Never used to serve."""

from clinic.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.admin_urls"
