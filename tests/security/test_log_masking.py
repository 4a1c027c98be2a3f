"""A calendar-feed address carries its secret token: no server log line may hold it (gunicorn's access log,
runserver's request lines, Django's 404 warnings)."""

import datetime as dt
import io
import logging
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from clinic.logmask import GunicornLogger, mask_secrets
from plans.models import CalendarFeedToken

TOKEN = "s3cr3t-Tok_en-abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.mark.parametrize(("line", "expected"), [
    (f"GET /calendar/{TOKEN}.ics HTTP/1.1", "GET /calendar/[hidden] HTTP/1.1"),
    (f"Not Found: /calendar/{TOKEN}.ics", "Not Found: /calendar/[hidden]"),
    (f"/calendar/{TOKEN}", "/calendar/[hidden]"),  # without .ics: still a token
    (f"https://clinic.example/CALENDAR/{TOKEN}.ics?x=1", "https://clinic.example/CALENDAR/[hidden]?x=1"),
    ("POST /calendar/regenerate/ HTTP/1.1", "POST /calendar/regenerate/ HTTP/1.1"),
    ("GET /calendar/ HTTP/1.1", "GET /calendar/ HTTP/1.1"),
    ("GET /patients/12/ HTTP/1.1", "GET /patients/12/ HTTP/1.1"),
])
def test_mask_secrets(line, expected):
    assert mask_secrets(line) == expected


def _gunicorn_line(fmt: str) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", fmt)
    logger = GunicornLogger(cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/calendar/{TOKEN}.ics?since=1", "PATH_INFO": f"/calendar/{TOKEN}.ics",
        "QUERY_STRING": "since=1", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.9",
        "HTTP_REFERER": f"https://clinic.example/calendar/{TOKEN}.ics",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[("Content-Type", "text/calendar")])
    request = SimpleNamespace(headers=[("USER-AGENT", "Calendar/1.0")])
    logger.access(response, request, environ, dt.timedelta(milliseconds=7))
    return stream.getvalue().strip().splitlines()[-1]


def test_gunicorn_access_log_in_production_format_hides_the_token():
    namespace = {}
    exec(open("gunicorn.conf.py").read(), namespace)  # the production settings, as gunicorn reads them
    assert namespace["logger_class"] == "clinic.logmask.GunicornLogger"
    line = _gunicorn_line(namespace["access_log_format"])
    assert "GET /calendar/[hidden] HTTP/1.1" in line and " 200 512 " in line
    assert TOKEN not in line


def test_gunicorn_hides_the_token_in_every_atom_a_format_could_name():
    line = _gunicorn_line('%(r)s|%(U)s|%(f)s|%({raw_uri}e)s|%({path_info}e)s')
    assert line.count("[hidden]") == 5
    assert TOKEN not in line


def _server_handlers(logger_name: str) -> list[logging.StreamHandler]:
    """The handlers settings.LOGGING gives this logger and its ancestors (pytest's own capture left out)."""
    logger, handlers = logging.getLogger(logger_name), []
    while logger is not None:
        handlers += [h for h in logger.handlers
                     if isinstance(h, logging.StreamHandler) and not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    assert handlers, logger_name
    return handlers


class _Streams:
    """Point the server's log handlers at strings for the duration."""

    def __init__(self, logger_name):
        self.handlers = _server_handlers(logger_name)

    def __enter__(self):
        self.streams = [io.StringIO() for _ in self.handlers]
        self.previous = [h.setStream(s) for h, s in zip(self.handlers, self.streams)]
        return self

    def __exit__(self, *exc):
        for handler, stream in zip(self.handlers, self.previous):
            handler.setStream(stream)

    @property
    def written(self) -> str:
        return "".join(s.getvalue() for s in self.streams)


@pytest.mark.parametrize("logger_name", ["django.server", "django.request", "django"])
def test_django_request_logging_hides_the_token(logger_name):
    with _Streams(logger_name) as logs:
        logging.getLogger(logger_name).warning('"%s" %s %s', f"GET /calendar/{TOKEN}.ics HTTP/1.1", "404", "179")
    assert "/calendar/[hidden]" in logs.written
    assert TOKEN not in logs.written


@pytest.mark.django_db
def test_a_retired_feed_address_answers_404_and_its_404_warning_hides_the_token(client, clinician):
    feed = CalendarFeedToken.objects.create(user=clinician)
    with _Streams("django.request") as logs:
        assert client.get(f"/calendar/{feed.token}x.ics").status_code == 404
    assert "Not Found: /calendar/[hidden]" in logs.written
    assert feed.token not in logs.written
