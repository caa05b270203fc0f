#!/usr/bin/env python3
"""Schema fuzzing of a live Roster server with schemathesis (driven by
scripts/fuzz-api, which prepares the virtualenv and builds the binary).

For each backend (SQLite, and PostgreSQL on a throwaway cluster started
here from initdb/pg_ctl), it starts `roster serve` on a free 127.0.0.1
port, signs up a fresh user with a fresh org, an API key with every scope
and an org-scoped access token, and runs schemathesis over:

- the server's own documents (every generation mode), and
- each seed spec in the spec folder (valid requests only: a seed documents
  what its clients send and what they get back, not every refusal).

Checks: not_a_server_error, status_code_conformance,
content_type_conformance, response_schema_conformance. Any failure fails
the run. Only the standard library is used here; schemathesis runs as its
own CLI from the virtualenv.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PASSWORD = "fuzzing horse battery staple"
ALL_SCOPES = [
    "org:read", "org:write", "members:read", "members:write", "projects:read",
    "projects:write", "invitations:read", "invitations:write", "audit:read",
]


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base: str, method: str, path: str, body=None, token: str | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def expect(answer, status: int, what: str):
    got, body = answer
    if got != status:
        raise SystemExit(f"fuzz-api: {what}: expected {status}, got {got}: {body}")
    return body


class Postgres:
    """A throwaway cluster in a temporary folder, as the test kit starts one
    (run as the `postgres` user when we are root: initdb refuses root)."""

    def __init__(self) -> None:
        self.bin = self._bin()
        self.root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="roster-fuzz-pg-"))
        if self.root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = 0

    @staticmethod
    def _bin() -> Path:
        if os.environ.get("ROSTER_PG_BIN"):
            return Path(os.environ["ROSTER_PG_BIN"])
        candidates = sorted(
            (int(p.name), p / "bin")
            for p in Path("/usr/lib/postgresql").glob("*")
            if p.name.isdigit() and (p / "bin" / "pg_ctl").exists()
        )
        if not candidates:
            raise SystemExit("fuzz-api: no PostgreSQL binaries in /usr/lib/postgresql (scripts/test installs them)")
        return candidates[-1][1]

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")
        self.port = free_port()
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.dir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "60",
                  "-o", options, "start")
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.port:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    def __init__(self, binary: Path, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        env = dict(os.environ)
        env.update({
            "ROSTER_DATABASE_URL": database_url,
            "ROSTER_LISTEN": f"127.0.0.1:{self.port}",
            # The fuzzer signs up and logs in far faster than a person.
            "ROSTER_AUTH_RATE_PER_MINUTE": "1000000",
            "ROSTER_INVITATIONS_PER_RECIPIENT_PER_DAY": "1000000",
            "ROSTER_INVITATIONS_PER_ACCOUNT_PER_HOUR": "1000000",
            "ROSTER_ORGS_PER_ACCOUNT_PER_DAY": "1000000",
            # Without SMTP the server delivers mail to its log at info
            # level; the fuzzer reads the verification link from there.
            "RUST_LOG": "warn,roster_mail=info",
        })
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(binary), "serve"], env=env, stdout=self.log_file,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"fuzz-api: the server exited at start:\n{self.log_path.read_text()}")
            try:
                if call(self.base, "GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("fuzz-api: the server did not become ready within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


def verification_token(log_path: Path, email: str, timeout: float = 30.0) -> str:
    """The token of the newest verification link mailed to `email`: with no
    SMTP server the server writes each email to its log, as a newcomer
    would read it there."""
    link = re.compile(r"/console/verify-email\?token=([A-Za-z0-9_-]+)")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        # The email's text names the address just before the link.
        mine = [m.group(1) for m in link.finditer(text) if email in text[max(0, m.start() - 300):m.start()]]
        if mine:
            return mine[-1]
        time.sleep(0.2)
    raise SystemExit(f"fuzz-api: no verification email to {email} in {log_path} within {timeout:.0f} s")


def credentials(server: "Server") -> dict[str, str]:
    """A fresh user (its address verified through the emailed link, since
    an unverified account may not create orgs or keys), an org it owns, an
    API key with every scope and an access token bound to the org."""
    base = server.base
    email = f"fuzz-{int(time.time() * 1000)}@example.com"
    expect(call(base, "POST", "/api/v1/auth/signup", {"email": email, "password": PASSWORD}), 201, "signup")
    token = verification_token(server.log_path, email)
    expect(call(base, "POST", "/api/v1/auth/verify-email", {"token": token}), 200, "verify email")
    tokens = expect(call(base, "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD}), 200, "login")
    token = tokens["access_token"]
    org = expect(call(base, "POST", "/api/v1/orgs", {"name": "Fuzzing"}, token), 201, "create org")["id"]
    key = expect(call(base, "POST", f"/api/v1/orgs/{org}/api-keys", {"name": "fuzz", "scopes": ALL_SCOPES}, token),
                 201, "create API key")["key"]
    org_token = expect(call(base, "POST", f"/api/v1/orgs/{org}/access-token", None, token), 201,
                       "org access token")["access_token"]
    return {"token": token, "org": org, "key": key, "org_token": org_token}


def schemathesis(st: Path, label: str, location: str, base_url: str | None, headers: list[str],
                 parameters: dict[str, str], mode: str, args: argparse.Namespace, workdir: Path,
                 exclude: list[str] = ()) -> bool:
    config = workdir / f"{label}.toml"
    lines = ["[parameters]"] + [f'"{name}" = {json.dumps(value)}' for name, value in parameters.items()]
    config.write_text("\n".join(lines) + "\n")
    command = [str(st), "--no-color", "--config-file", str(config), "run", location,
               "--checks", CHECKS, "--mode", mode, "--max-examples", str(args.max_examples),
               "--workers", str(args.workers), "--seed", str(args.seed), "--request-timeout", "30",
               "--max-failures", "20", "--suppress-health-check", "all",
               "--phases", "examples,coverage,fuzzing"]
    if base_url:
        command += ["--url", base_url]
    for header in headers:
        command += ["--header", header]
    for operation in exclude:
        command += ["--exclude-operation-id", operation]
    log(f"-- schemathesis: {label}")
    started = time.monotonic()
    result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    elapsed = time.monotonic() - started
    (workdir / f"{label}.out").write_text(result.stdout)
    if result.returncode != 0:
        log(result.stdout)
        log(f"FAILED: {label} ({elapsed:.0f} s, exit {result.returncode})")
        return False
    summary = [line for line in result.stdout.splitlines() if "passed" in line or "failed" in line]
    log(f"   ok in {elapsed:.0f} s: {summary[-1].strip('= ') if summary else 'no summary'}")
    return True


def fuzz_backend(backend: str, args: argparse.Namespace, spec_dir: Path | None) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix=f"roster-fuzz-{backend}-"))
    postgres = None
    server = None
    ok = True
    try:
        if backend == "postgres":
            postgres = Postgres()
            database_url = postgres.start()
        else:
            database_url = f"sqlite://{workdir / 'roster.db'}"
        server = Server(Path(args.binary), database_url, workdir)
        log(f"== {backend}: server at {server.base}")
        st = Path(args.schemathesis)
        # Our own document, as an owner (every org-scoped operation aims at
        # the fresh org), then as an API key of that org. The owner run
        # leaves out what would end the run's own credentials: logging
        # out, deleting the org, handing it away.
        creds = credentials(server)
        ok &= schemathesis(
            st, f"{backend}-openapi-owner", f"{server.base}/openapi.json", server.base,
            [f"Authorization: Bearer {creds['token']}"], {"path.org_id": creds["org"]}, "all", args, workdir,
            exclude=["logout", "deleteOrganization", "transferOwnership"])
        creds = credentials(server)
        ok &= schemathesis(
            st, f"{backend}-openapi-key", f"{server.base}/openapi.json", server.base,
            [f"apikey: {creds['key']}"], {"path.org_id": creds["org"]}, "all", args, workdir)
        # The other two surfaces' documents, with the credential each takes.
        creds = credentials(server)
        ok &= schemathesis(
            st, f"{backend}-openapi-members", f"{server.base}/openapi/members.json", server.base,
            [f"Authorization: Bearer {creds['key']}"], {}, "all", args, workdir)
        ok &= schemathesis(
            st, f"{backend}-openapi-organization", f"{server.base}/openapi/organization.json", server.base,
            [f"apikey: {creds['key']}"], {"path.orgId": creds["org"]}, "all", args, workdir)
        if spec_dir is not None:
            creds = credentials(server)
            ok &= schemathesis(
                st, f"{backend}-seed-tenant", str(spec_dir / "tenant-api.openapi.json"), f"{server.base}/tenant",
                [f"Authorization: Bearer {creds['token']}"], {"path.org_id": creds["org"]}, "positive", args,
                workdir)
            ok &= schemathesis(
                st, f"{backend}-seed-members", str(spec_dir / "spice-members.openapi.json"), server.base,
                [f"Authorization: Bearer {creds['key']}"], {}, "positive", args, workdir)
            ok &= schemathesis(
                st, f"{backend}-seed-organization", str(spec_dir / "ango-organization.openapi.json"),
                f"{server.base}/v2", [f"apikey: {creds['key']}"], {"path.orgId": creds["org"]}, "positive", args,
                workdir)
        if not ok:
            log(f"(server log and schemathesis output kept in {workdir})")
    finally:
        if server is not None:
            server.stop()
        if postgres is not None:
            postgres.stop()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the roster binary to serve")
    parser.add_argument("--schemathesis", required=True, help="the `st` executable")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--spec-dir", default=None, help="folder of the seed specs (absent: skipped)")
    parser.add_argument("--max-examples", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    spec_dir = Path(args.spec_dir) if args.spec_dir else None
    started = time.monotonic()
    ok = True
    for backend in args.backends.split(","):
        ok &= fuzz_backend(backend.strip(), args, spec_dir)
    log(f"== fuzz-api: {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
