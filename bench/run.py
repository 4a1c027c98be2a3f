"""`make bench`: seed a large clinic on PostgreSQL, serve it with gunicorn, drive the key pages with wrk.

    python bench/run.py                      # 10,000 patients (40,000 sessions), 10 s per page, 16 connections
    python bench/run.py --large              # 100,000 patients
    python bench/run.py --patients 1000 --duration 3      # a quick look while developing
    python bench/run.py --skip-seed          # reuse the databases seeded last time

Steps: (1) drop, create and migrate BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/clinic_bench)
and a 1,000-patient twin (<name>_1k) for the query-count comparison; (2) seed both with bench/seed.py
(bulk_create); (3) count each page's SQL queries in-process at both sizes (bench/probe.py) — they must be equal;
(4) time each page rendered afresh in-process beside Django's admin over the same rows (bench/admin_compare.py,
bench-only settings and URLs); (5) collectstatic, start gunicorn with the production config on a free local port;
(6) for each page check it answers 200, then run wrk --latency at 16 connections (each request carries one of 16
real logged-in sessions) while bench/writer.py saves a patient every second; the ceiling is /livez on the same
server; (7) print the tables with PASS/FAIL against the targets and write them to bench/RESULTS.md. gunicorn is
stopped whatever happens. Exit status 1 if a target is missed or a page fails.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
RESULTS = BENCH / "RESULTS.md"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/clinic_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"  # a database of its own: emptied at the start of every run
SMALL_PATIENTS = 1_000
TARGET_RATIO = 0.05  # every page rendered afresh: about what <= 20 ms a page allows on two cores
TARGET_P99_MS = 150.0
DEFAULT_WORKERS = 4  # on this 2-core machine 3–5 were tried; see bench/README.md
WARMUP_SECONDS = 2
ALONE_SECONDS = 3  # one connection, for the service time of a request without queueing
CEILING = "ceiling (/livez)"

sys.path.insert(0, str(BENCH))
from probe import CEILING as PROBE_CEILING  # noqa: E402
from probe import PAGES, SESSION_REFERENCE  # noqa: E402

REFERENCE = SESSION_REFERENCE[0]

assert PROBE_CEILING[0] == CEILING


def say(message=""):
    print(message, flush=True)


def run(cmd, *, env=None, timeout=None, quiet=False, what=None):
    """Run a command; on failure show its output and stop."""
    result = subprocess.run(
        cmd, cwd=REPO, env=env, timeout=timeout, text=True,
        stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None,
    )
    if result.returncode != 0:
        if quiet:
            say(result.stdout[-4000:])
        raise SystemExit(f"{what or cmd[0]} failed (exit {result.returncode})")
    return result


# ---------------------------------------------------------------------------------------------- databases


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_postgres(url: str):
    host = urlsplit(url).hostname or "127.0.0.1"
    port = str(urlsplit(url).port or 5432)
    if subprocess.run(["pg_isready", "-q", "-h", host, "-p", port]).returncode == 0:
        return
    clusters = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not clusters or host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"PostgreSQL is not answering on {host}:{port}")
    say(f"Starting PostgreSQL {clusters[-1]} ...")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "start"], check=False)
    for _ in range(30):
        if subprocess.run(["pg_isready", "-q", "-h", host, "-p", port]).returncode == 0:
            return
        time.sleep(1)
    raise SystemExit("PostgreSQL did not start")


def admin_sql(url: str, *statements: str):
    import psycopg

    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def admin_query(url: str, sql: str):
    import psycopg

    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def recreate(url: str, *, template: str | None = None):
    name = db_name(url)
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing odd database name {name!r}")
    create = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', create)


# ---------------------------------------------------------------------------------------------- environment


KEPT_SECTIONS = [("<!-- fhir-export:start -->", "<!-- fhir-export:end -->")]  # written by bench/export.py


def kept_sections(results: Path) -> str:
    """Sections of the old report that other bench scripts write (the FHIR export table), carried over."""
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    kept = [m.group(0) for start, end in KEPT_SECTIONS for m in re.finditer(re.escape(start) + ".*?" + re.escape(end), text, re.S)]
    return "".join(f"\n{section}\n" for section in kept)


def app_env(database_url: str, static_root: str, secret: str, redis_url: str = "") -> dict:
    env = os.environ.copy()
    for name in ("DJANGO_SETTINGS_MODULE", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="0",
        SECRET_KEY=secret,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        DATABASE_URL=database_url,
        STATIC_ROOT=static_root,
        EMAIL_BACKEND="console",
        PYTHONPATH=str(REPO),
        REDIS_URL=redis_url,  # production at scale: sessions and small shared values in Redis (README)
    )
    return env


def flush_redis(redis_url: str):
    """No sessions or values left from an earlier run."""
    import redis

    try:
        redis.Redis.from_url(redis_url).flushdb()
    except redis.RedisError as error:
        raise SystemExit(f"Redis at {redis_url} is not answering ({error}); start it or pass --no-redis") from error


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("Installing wrk (apt-get install -y wrk) ...")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL, timeout=300)
        found = shutil.which("wrk")
    if not found:
        say("wrk is not available: falling back to the built-in threaded load generator (lower ceiling).")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------- gunicorn


class Server:
    def __init__(self, env: dict, workers: int, log_path: Path):
        self.port = free_port()
        self.env = {**env, "BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers)}
        self.log_path = log_path
        self.process = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [GUNICORN, "clinic.wsgi", "-c", "gunicorn.conf.py"], cwd=REPO, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited (code {self.process.returncode}); see {self.log_path}:\n{self.tail()}")
            try:
                if get(self.port, "/livez")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /livez within 60 s; see {self.log_path}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()

    def restarts(self) -> int:
        """Workers recycled by gunicorn's max_requests during the run (each reboots the app in a new worker)."""
        try:
            return self.log_path.read_text(errors="replace").count("Autorestarting worker")
        except OSError:
            return 0

    def tail(self, lines=30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def get(port: int, path: str, cookie: str | None = None, timeout=10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- load generators

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text.strip()).groups()
    return float(number) * _UNITS[unit]


def lua_script(directory: Path, cookies: list[str] | None) -> Path:
    """Each request carries the next of several real sessions, as 16 people at 16 desks would."""
    path = directory / f"bench-{secrets.token_hex(4)}.lua"
    if cookies:
        items = ", ".join(f'"{c}"' for c in cookies)
        header = '{["Cookie"] = "sessionid=" .. cookies[(n % #cookies) + 1]}'
    else:  # the ceiling: same Lua cost per request, no cookie (a cookie would make /livez load a session)
        items = ""
        header = '{["X-Bench"] = "ceiling"}'
    path.write_text(
        f"local cookies = {{{items}}}\nlocal n = 0\n"
        f"request = function()\n  n = n + 1\n  return wrk.format(\"GET\", nil, {header})\nend\n"
    )
    return path


def wrk_run(wrk: str, url: str, script: Path, *, duration: int, connections: int, threads: int) -> dict:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    result = {"raw": out}
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    result["rps"] = float(match.group(1))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        result[f"p{pct}"] = _ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return result


def python_run(port: int, path: str, cookies: list[str] | None, *, duration: int, connections: int) -> dict:
    """Fallback when wrk cannot be had: keep-alive connections in threads, bounded by the duration."""
    latencies, errors = [], [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker(index):
        headers = {"Cookie": f"sessionid={cookies[index % len(cookies)]}"} if cookies else {}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        mine = []
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 400
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            mine.append((time.perf_counter() - began) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 30)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else None

    return {
        "rps": len(latencies) / duration, "p50": pct(50), "p75": pct(75), "p90": pct(90), "p99": pct(99),
        "requests": len(latencies), "non_2xx": errors[0], "socket_errors": 0, "raw": "",
    }


# ---------------------------------------------------------------------------------------------- facts


def versions(url: str, wrk: str | None) -> dict:
    facts = {"python": platform.python_version()}
    out = subprocess.run([PYTHON, "-c", "import django, gunicorn, psycopg; print(django.get_version(), gunicorn.__version__, psycopg.__version__)"],
                         capture_output=True, text=True, cwd=REPO).stdout.split()
    if len(out) == 3:
        facts.update(django=out[0], gunicorn=out[1], psycopg=out[2])
    try:
        facts["postgresql"] = admin_query(url, "SHOW server_version")[0][0]
    except Exception:  # facts only
        facts["postgresql"] = "?"
    if wrk:
        first = subprocess.run([wrk, "--version"], capture_output=True, text=True)
        facts["wrk"] = (first.stdout or first.stderr).split("[")[0].replace("wrk", "").strip() or "?"
    else:
        facts["wrk"] = "not available (Python threaded generator)"
    return facts


def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cores": os.cpu_count(), "cpu": model, "memory": memory, "os": platform.platform(), "load": load}


def db_facts(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = {}
        for label, sql in [
            ("patients", "SELECT count(*) FROM patients_patient"),
            ("plans", "SELECT count(*) FROM plans_plan"),
            ("sessions", "SELECT count(*) FROM plans_treatmentsession"),
            ("appointments", "SELECT count(*) FROM plans_appointment"),
            ("assessments", "SELECT count(*) FROM plans_assessment"),
            ("adverse events", "SELECT count(*) FROM plans_adverseevent"),
        ]:
            rows[label] = conn.execute(sql).fetchone()[0]
        rows["size"] = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        return rows


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Benchmark the key pages (see bench/README.md).")
    parser.add_argument("--patients", type=int, default=10_000, help="patients to seed (sessions = 4 x patients)")
    parser.add_argument("--large", action="store_true", help="100,000 patients")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", DEFAULT_WORKERS)),
                        help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the databases seeded by an earlier run")
    parser.add_argument("--no-redis", action="store_true", help="no REDIS_URL: database sessions, local-memory cache")
    parser.add_argument("--writes-per-second", type=float, default=1.0,
                        help="patient saves a second in the background while pages are loaded (0: none)")
    parser.add_argument("--skip-admin", action="store_true", help="skip timing the pages beside Django's admin")
    parser.add_argument("--admin-rounds", type=int, default=30, help="rounds of the in-process admin comparison")
    parser.add_argument("--no-compare", action="store_true", help="skip the 1,000-patient query-count twin")
    parser.add_argument("--only", action="append", help="measure only these pages (repeatable; names as in the table)")
    parser.add_argument("--results", default=str(RESULTS), help="where to write the markdown report")
    parser.add_argument("--sweep-workers", action="store_true",
                        help="only measure the ceiling with 3, 4 and 5 gunicorn workers (to choose --workers), then stop")
    parser.add_argument("--python-generator", action="store_true", help="use the built-in generator even if wrk is there")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (probe JSON, wrk output, gunicorn log)")
    args = parser.parse_args(argv)
    if args.large:
        args.patients = 100_000
    if args.patients < 100:
        parser.error("--patients must be at least 100")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    small_url = with_db(url, db_name(url) + "_1k")
    compare = not args.no_compare and args.patients != SMALL_PATIENTS
    secret = secrets.token_urlsafe(50)
    ensure_postgres(url)
    wrk = None if args.python_generator else ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
    static_root = work / "static"
    redis_url = "" if args.no_redis else os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    if redis_url:
        flush_redis(redis_url)
    env = app_env(url, str(static_root), secret, redis_url)
    small_env = app_env(small_url, str(static_root), secret, redis_url)
    timings = {"load_start": os.getloadavg()[0]}
    try:
        if not args.skip_seed:
            say(f"Database {db_name(url)}: drop, create, migrate ...")
            began = time.monotonic()
            recreate(url)
            run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, quiet=True, what="migrate")
            timings["migrate"] = time.monotonic() - began
            if compare:
                recreate(small_url, template=db_name(url))  # the migrated, still empty schema
                say(f"Seeding {SMALL_PATIENTS:,} patients into {db_name(small_url)} ...")
                began = time.monotonic()
                run([PYTHON, str(BENCH / "seed.py"), "--patients", str(SMALL_PATIENTS)], env=small_env, what="seed (small)")
                timings["seed_small"] = time.monotonic() - began
            say(f"Seeding {args.patients:,} patients into {db_name(url)} ...")
            began = time.monotonic()
            run([PYTHON, str(BENCH / "seed.py"), "--patients", str(args.patients)], env=env, what="seed")
            timings["seed"] = time.monotonic() - began
            say(f"  seeded in {timings['seed']:.0f} s")
        else:
            say(f"Reusing {db_name(url)}" + (f" and {db_name(small_url)}" if compare else ""))

        say("collectstatic ...")  # templates need the static manifest (DEBUG=0)
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], env=env, quiet=True, what="collectstatic")

        if args.sweep_workers:
            return sweep_workers(args, env, wrk, work)

        say("Counting each page's SQL queries in-process ...")
        # In-process figures are of fresh renders: no kept fragments (clinic/fragments.py).
        probe_env = {**env, "ALLOWED_HOSTS": "127.0.0.1,testserver", "FRAGMENT_CACHE": "0"}
        probe_main = probe(probe_env, work / "probe-main.json", sessions=args.connections)
        probe_small = probe({**small_env, "ALLOWED_HOSTS": "127.0.0.1,testserver", "FRAGMENT_CACHE": "0"},
                            work / "probe-small.json") if compare else None
        sizes = {"main": db_facts(url), "small": db_facts(small_url) if compare else None}

        admin = None
        if not args.skip_admin:
            say(f"Each page beside Django's admin over the same rows, in-process ({args.admin_rounds} rounds) ...")
            out = work / "admin.json"
            run([PYTHON, str(BENCH / "admin_compare.py"), "--out", str(out), "--rounds", str(args.admin_rounds)],
                env={**probe_env, "DJANGO_SETTINGS_MODULE": "bench.admin_settings"}, timeout=1800, what="admin comparison")
            admin = json.loads(out.read_text())

        server = Server(env, args.workers, work / "gunicorn.log")
        loads = {}
        writer = None
        try:
            say(f"Starting gunicorn ({args.workers} workers) on 127.0.0.1:{server.port} ...")
            server.start()
            if args.writes_per_second > 0:
                # A working clinic writes while it reads: a patient saved every second through the ORM.
                say(f"  with {args.writes_per_second:g} patient save(s) a second in the background")
                writer = subprocess.Popen(
                    [PYTHON, str(BENCH / "writer.py"), "--per-second", str(args.writes_per_second)],
                    cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                )
            loads = drive(args, server, wrk, probe_main, work)
        finally:
            if writer is not None:
                writer.terminate()
                timings["writes"] = (writer.communicate(timeout=30)[0] or "").strip()
            server.stop()
        timings["restarts"] = server.restarts()
        timings["redis"] = bool(redis_url)
        report = build_report(args, url, wrk, probe_main, probe_small, loads, sizes, timings, compare, admin)
        Path(args.results).write_text(report["markdown"] + kept_sections(Path(args.results)))
        say()
        say(report["text"])
        say(f"\nWritten to {os.path.relpath(args.results, Path.cwd())}")
        return 0 if report["ok"] else 1
    finally:
        if args.keep:
            say(f"Work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def probe(env: dict, out: Path, sessions: int = 0) -> dict:
    cmd = [PYTHON, str(BENCH / "probe.py"), "--out", str(out), "--explain"]
    if sessions:
        cmd += ["--sessions", str(sessions)]
    run(cmd, env=env, timeout=600, what="probe")
    return json.loads(out.read_text())


def drive(args, server: Server, wrk: str | None, probe_main: dict, work: Path) -> dict:
    """Check each page answers 200 through gunicorn, then load it; the ceiling first and last."""
    sessions = probe_main["sessions"]
    pages = [name for name in PAGES if not args.only or name in args.only]
    order = [CEILING, REFERENCE] + pages + [CEILING + " (again)"]
    loads = {}
    for name in order:
        page_name = CEILING if name.startswith(CEILING) else name
        page = probe_main["pages"][page_name]
        if page["unavailable"]:
            loads[name] = {"skipped": page["unavailable"]}
            say(f"  {name:<22} not available yet: {page['unavailable']}")
            continue
        if page.get("status") != 200:
            loads[name] = {"skipped": f"in-process status {page.get('status')}", "error": True}
            say(f"  {name:<22} FAILED in-process with status {page.get('status')}: {page.get('body', '')[:300]}")
            continue
        cookies = sessions[page["role"]] if page["role"] else None
        status, body = get(server.port, page["path"], cookies[0] if cookies else None)
        if status != 200:
            loads[name] = {"skipped": f"HTTP {status} through gunicorn", "error": True}
            say(f"  {name:<22} FAILED: HTTP {status} through gunicorn\n{server.tail()}")
            continue
        url = f"http://127.0.0.1:{server.port}{page['path']}"
        if wrk:
            script = lua_script(work, cookies)
            wrk_run(wrk, url, script, duration=WARMUP_SECONDS, connections=args.connections, threads=args.threads)
            drain(server)
            result = wrk_run(wrk, url, script, duration=args.duration, connections=args.connections, threads=args.threads)
        else:
            python_run(server.port, page["path"], cookies, duration=WARMUP_SECONDS, connections=args.connections)
            drain(server)
            result = python_run(server.port, page["path"], cookies, duration=args.duration, connections=args.connections)
        drain(server)
        (work / f"wrk-{re.sub(r'[^a-z]+', '-', name)}.txt").write_text(result["raw"])
        if result["non_2xx"] or result["socket_errors"] or not result["requests"]:
            result["error"] = True
            say(f"  {name:<22} errors under load: {result['non_2xx']} non-2xx, {result['socket_errors']} socket errors, "
                f"{result['requests']} requests\n{result['raw']}")
        # Service time on its own: one connection, no queue (much less disturbed by other load than the figures above).
        if wrk:
            alone = wrk_run(wrk, url, script, duration=ALONE_SECONDS, connections=1, threads=1)
        else:
            alone = python_run(server.port, page["path"], cookies, duration=ALONE_SECONDS, connections=1)
        result["alone_p50"] = alone["p50"]
        drain(server)
        loads[name] = result
        say(f"  {name:<22} {result['rps']:8.1f} req/s   p50 {result['p50']:7.1f} ms   p99 {result['p99']:7.1f} ms"
            f"   (alone: {result['alone_p50']:.1f} ms)")
    return loads


def sweep_workers(args, env, wrk, work) -> int:
    """The ceiling (/livez) with 3, 4 and 5 workers, twice each in turn (the machine is shared)."""
    results = {n: [] for n in (3, 4, 5)}
    for _ in range(2):
        for workers in results:
            server = Server(env, workers, work / f"gunicorn-{workers}.log")
            try:
                server.start()
                url = f"http://127.0.0.1:{server.port}/livez"
                if wrk:
                    script = lua_script(work, None)
                    wrk_run(wrk, url, script, duration=WARMUP_SECONDS, connections=args.connections, threads=args.threads)
                    drain(server)
                    result = wrk_run(wrk, url, script, duration=args.duration, connections=args.connections, threads=args.threads)
                else:
                    result = python_run(server.port, "/livez", None, duration=args.duration, connections=args.connections)
            finally:
                server.stop()
            results[workers].append(result["rps"])
            say(f"  {workers} workers: {result['rps']:8.1f} req/s  p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms")
    best = max(results, key=lambda n: max(results[n]))
    say(f"Best ceiling with {best} workers: use --workers {best} (or BENCH_WORKERS={best})")
    return 0


def drain(server: Server, timeout=120):
    """Wait until requests the load generator left queued are served (sync workers finish them all), so they
    don't count against the next measurement: a /livez answer means the queue ahead of it is empty."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(server.port, "/livez", timeout=timeout)[0] == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not drain its queue within two minutes")


def fmt(value, spec=".1f", dash="—"):
    return dash if value is None else format(value, spec)


def _admin_table(admin: dict, failures: list[str]) -> list[str]:
    """Each key page beside the admin's page over the same rows, rendered afresh in-process; goals checked."""
    lines = [
        "| Page | ms | CPU ms | queries | KiB | goal | Django admin (same rows) | admin ms | admin CPU ms | admin queries "
        "| ratio (ms) | Result |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in admin["pages"].items():
        page, theirs = row["page"], row["admin"]
        verdicts = []
        if page["status"] != 200 or theirs["status"] != 200:
            verdicts.append(f"FAIL status {page['status']} / admin {theirs['status']}")
        if page["wall_ms"] > row["goal_ms"]:
            verdicts.append(f"FAIL > {row['goal_ms']} ms")
        if row["half_of_admin"] and row["ratio_wall"] > 0.5:
            verdicts.append("FAIL > half the admin's time")
        if verdicts:
            failures.append(f"{name} (in-process): " + "; ".join(verdicts))
        goal = f"<= {row['goal_ms']} ms" + (", <= 0.5 x admin" if row["half_of_admin"] else "")
        lines.append(
            f"| {name} | {page['wall_ms']:.1f} | {page['cpu_ms']:.1f} | {page['queries']} | {page['kib']:.0f} | {goal} "
            f"| `{row['admin_path']}` | {theirs['wall_ms']:.1f} | {theirs['cpu_ms']:.1f} | {theirs['queries']} "
            f"| {row['ratio_wall']:.2f} | {'; '.join(verdicts) or 'PASS'} |"
        )
    return lines


def build_report(args, url, wrk, probe_main, probe_small, loads, sizes, timings, compare, admin=None) -> dict:
    ceilings = [loads[k]["rps"] for k in (CEILING, CEILING + " (again)") if loads.get(k, {}).get("rps")]
    ceiling = max(ceilings) if ceilings else None
    rows, failures, unavailable = [], [], []
    ceiling_load = max((loads[k] for k in (CEILING, CEILING + " (again)") if loads.get(k, {}).get("rps")),
                       key=lambda r: r["rps"], default={})
    for name in [CEILING, REFERENCE] + list(PAGES):
        load = ceiling_load if name == CEILING else loads.get(name, {})
        page = probe_main["pages"][name]
        small_q = probe_small["pages"][name].get("queries") if probe_small else None
        main_q = page.get("queries")
        if page["unavailable"]:
            unavailable.append(f"{name} ({page['path']}): {page['unavailable']}")
            rows.append([name, page["path"], "—", "—", "—", "—", "—", "—", "—", "not available yet"])
            continue
        if name == CEILING:
            rows.append([name, page["path"], fmt(ceiling), fmt(load.get("p50"), ".2f"), fmt(load.get("p99"), ".2f"),
                         "1.00", fmt(load.get("alone_p50"), ".2f"), fmt(small_q, "d"), fmt(main_q, "d"), "ceiling"])
            continue
        if name == REFERENCE or (args.only and name not in args.only):
            ratio = load["rps"] / ceiling if ceiling and load.get("rps") else None
            note = "reference (no target)" if name == REFERENCE else "not measured this run (--only)"
            rows.append([name, page["path"] + (" + cookie" if name == REFERENCE else ""), fmt(load.get("rps")),
                         fmt(load.get("p50"), ".2f"), fmt(load.get("p99"), ".2f"), fmt(ratio, ".2f"),
                         fmt(load.get("alone_p50"), ".2f"), fmt(small_q, "d"), fmt(main_q, "d"), note])
            continue
        verdicts = []
        if load.get("skipped") is not None or "rps" not in load:
            verdicts.append("FAIL: " + load.get("skipped", "not measured"))
            ratio = None
        else:
            ratio = load["rps"] / ceiling if ceiling else None
            if ratio is None or ratio < TARGET_RATIO:
                verdicts.append(f"FAIL ratio < {TARGET_RATIO:.2f}")
            if load["p99"] is None or load["p99"] > TARGET_P99_MS:
                verdicts.append(f"FAIL p99 > {TARGET_P99_MS:.0f} ms")
            if load.get("error"):
                verdicts.append("FAIL errors under load")
        if compare and small_q is not None and main_q is not None and small_q != main_q:
            verdicts.append("FAIL queries grow")
        if compare and (small_q is None) != (main_q is None):
            verdicts.append("FAIL query count missing")
        if verdicts:
            failures.append(f"{name}: " + "; ".join(verdicts))
        rows.append([
            name, page["path"], fmt(load.get("rps")), fmt(load.get("p50"), ".2f"), fmt(load.get("p99"), ".2f"),
            fmt(ratio, ".2f"), fmt(load.get("alone_p50"), ".2f"), fmt(small_q, "d"), fmt(main_q, "d"),
            "; ".join(verdicts) or "PASS",
        ])
    ok = not failures
    facts = {**machine(), **versions(url, wrk)}
    today = dt.date.today().isoformat()
    main_size, small_size = sizes["main"], sizes["small"]
    header = ["Page", "Path", "req/s", "p50 ms", "p99 ms", "ratio", "alone ms", f"queries @ {small_size['patients']:,}" if small_size else "queries (small)",
              f"queries @ {main_size['patients']:,}", "Result"]
    table = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    table += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    writes = f"with {args.writes_per_second:g} patient save(s) a second in the background" if args.writes_per_second > 0 else "read-only"
    targets = (f"Targets under load ({writes}): every key page >= {TARGET_RATIO:.0%} of the ceiling's requests/s, "
               f"p99 <= {TARGET_P99_MS:.0f} ms, the same number of SQL queries at {SMALL_PATIENTS:,} and "
               f"{main_size['patients']:,} patients.")
    admin_lines = _admin_table(admin, failures) if admin else []
    ok = not failures
    overall = "PASS — every measured page meets every target." if ok else "FAIL — " + str(len(failures)) + " page(s) miss a target."
    md = [
        "# Benchmark results",
        "",
        f"Latest `make bench` run{' (--large)' if args.large else ''}: {today}. Regenerated by `bench/run.py` on every run; "
        "see bench/README.md for what is measured and how.",
        "",
        *table,
        "",
        targets,
        "",
        f"**Overall: {overall}**",
    ]
    if failures:
        md += ["", "Misses:", ""] + [f"- {f}" for f in failures]
    if admin_lines:
        md += [
            "",
            "## Each page rendered afresh, beside Django's admin over the same rows",
            "",
            "In-process on the seeded database (Django test Client, DEBUG=0, nothing cached: every request renders "
            f"the page from the database). Median of {admin['rounds']} rounds; in each round the page and the "
            "admin's page are fetched one after the other, so other load on the shared machine falls on both alike. "
            "*ms* is wall-clock time, *CPU ms* this process's CPU time (Python and templates, less disturbed by other "
            "load); the admin is set up with search on the same fields, 25 a page, the day's appointments with every "
            "related row selected (bench/admin_urls.py, bench-only settings bench/admin_settings.py). Goals: search, "
            "patient, plan and aftercare pages <= 20 ms, day calendar <= 30 ms, search and calendar at most half the "
            "admin's time.",
            "",
            *admin_lines,
        ]
    if mixed_note := timings.get("writes"):
        md += ["", f"Background writes during the load table: {mixed_note} (bench/writer.py, a patient other than the showcase one)."]
    if unavailable:
        md += ["", "Not available yet (their area has not landed; measured automatically once it does):", ""]
        md += [f"- {u}" for u in unavailable]
    seed_line = ", ".join(f"{v:,} {k}" for k, v in main_size.items() if k != "size")
    md += [
        "",
        "## Conditions",
        "",
        f"- Machine: {facts['cores']} cores ({facts['cpu']}), {facts['memory']} RAM, {facts['os']}; "
        f"1-min load average {fmt(timings.get('load_start'), '.2f')} at the start, {fmt(facts['load'], '.2f')} at the end "
        "(the machine is shared with other work; absolute figures vary run to run, ratios much less).",
        f"- Software: Python {facts['python']}, Django {facts.get('django', '?')}, gunicorn {facts.get('gunicorn', '?')} "
        f"(sync workers, production gunicorn.conf.py incl. access log), psycopg {facts.get('psycopg', '?')}, "
        f"PostgreSQL {facts['postgresql']} on the same machine, wrk {facts['wrk']}.",
        f"- Seeded: {seed_line} ({main_size['size']})"
        + (f"; query-count twin: {small_size['patients']:,} patients, {small_size['sessions']:,} sessions." if small_size else ".")
        + (f" Seeding took {timings['seed']:.0f} s." if "seed" in timings else " (reused an earlier seed)"),
        f"- Calendar day {probe_main['targets']['day']}: "
        f"{day_count(url, probe_main['targets']['day'])} appointments.",
        f"- Server: gunicorn, {args.workers} workers, DEBUG=0, PostgreSQL via DATABASE_URL, persistent DB connections "
        f"(DB_CONN_MAX_AGE default), sessions: {probe_main.get('settings', {}).get('session_engine', '?')}, "
        f"cache: {probe_main.get('settings', {}).get('cache', '?')}"
        + (" on the machine's Redis (a database of its own, emptied first); no page is cached, the patient page, the "
           "plan page and the day calendar keep their rendered content under the version of the rows it shows (FRAGMENT_CACHE, as in "
           "production: the background writer never writes the showcase patient, so those pages are mostly served "
           "from their kept content; the in-process table above is their fresh cost)"
           if timings.get("redis") else " (--no-redis)")
        + ". Load: "
        + (f"wrk, {args.threads} threads, " if wrk else "the built-in Python threaded generator (wrk missing), ")
        + f"{args.connections} connections, "
        f"{args.duration} s per page after a {WARMUP_SECONDS} s warm-up; each request carries one of "
        f"{args.connections} real logged-in sessions of the page's role (clinician, or front desk for the calendar "
        f"and aftercare). The ceiling is /livez (no database) on the same server, measured first and last; "
        f"the higher is used ({', '.join(fmt(c) for c in ceilings)} req/s).",
        "- Query counts: Django test Client + CaptureQueriesContext in-process against each seeded database, "
        "second GET of each page (includes the session, user and permission queries of the request).",
        f"- *alone ms*: p50 latency with a single connection ({ALONE_SECONDS} s, no queueing): the service time of one "
        "request, much less disturbed by other load than the 16-connection figures.",
        f"- gunicorn recycled workers {timings.get('restarts', 0)} times during the run (max_requests = 20,000 "
        "± 2,000 per worker in gunicorn.conf.py; a restart pauses that worker for a moment).",
    ]
    md += slow_query_section(probe_main, failures)
    text = "\n".join(table) + "\n\n" + targets + "\n" + overall
    if admin_lines:
        text += "\n\nEach page rendered afresh in-process, beside Django's admin over the same rows:\n" + "\n".join(admin_lines)
    if failures:
        text += "\n" + "\n".join("  - " + f for f in failures)
    if unavailable:
        text += "\nNot available yet:\n" + "\n".join("  - " + u for u in unavailable)
    return {"markdown": "\n".join(md) + "\n", "text": text, "ok": ok}


def day_count(url: str, day: str) -> str:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            conn.execute("SET TIME ZONE 'Europe/London'")
            return f"{conn.execute('SELECT count(*) FROM plans_appointment WHERE start::date = %s', [day]).fetchone()[0]:,}"
    except Exception:  # a fact for the report only
        return "?"


def slow_query_section(probe_main: dict, failures: list[str]) -> list[str]:
    """For each page: its slowest queries in-process, and the plan of the slowest (always, for reference)."""
    lines = ["", "## Slowest queries per page (in-process, seeded database; Django records times to the millisecond)", ""]
    for name in PAGES:
        page = probe_main["pages"][name]
        if page["unavailable"] or "sql" not in page:
            continue
        total = sum(q["ms"] for q in page["sql"])
        lines.append(f"- **{name}**: {page['queries']} queries, {total:.1f} ms of SQL in total; slowest:")
        for q in sorted(page["sql"], key=lambda q: -q["ms"])[:3]:
            sql = re.sub(r"\s+", " ", q["sql"])
            lines.append(f"  - {q['ms']:.2f} ms: `{sql[:220]}{'…' if len(sql) > 220 else ''}`")
    return lines


if __name__ == "__main__":
    sys.exit(main())
