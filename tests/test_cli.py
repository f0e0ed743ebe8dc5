"""The `backprop-playground` command, and the Dockerfile that runs it."""
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
import uvicorn

from app import cli

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "backprop-playground"


@pytest.fixture
def no_server(monkeypatch):
    """Fail the test if the command gets as far as starting uvicorn."""
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail(f"uvicorn.run{a}{k}"))


def run_cli(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    return exit_.value.code, capsys.readouterr().err


def test_several_workers_may_share_sqlite(monkeypatch):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    monkeypatch.setenv("PLAYGROUND_STORE", "sqlite:///from-env.db")  # restored after the test
    cli.main(["serve", "--workers", "2", "--store", "sqlite:///x.db"])
    assert calls == [(("app.main:app",), {"host": "127.0.0.1", "port": 8000, "workers": 2,
                                          "timeout_graceful_shutdown": cli.SHUTDOWN_SECONDS})]
    assert os.environ["PLAYGROUND_STORE"] == "sqlite:///x.db"


@pytest.mark.parametrize("store", ["postgres://db/x", "sqlite://relative.db", "sqlite:///", "redis", ""])
def test_a_store_url_of_another_kind_is_refused(no_server, capsys, store):
    code, err = run_cli(["serve", "--store", store], capsys)
    assert code == 2
    assert "expected sqlite:///relative/path, sqlite:////absolute/path or redis://" in err


def test_serve_passes_its_options_to_uvicorn_and_the_store_to_the_workers(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_STORE", "sqlite:///from-env.db")  # restored after the test
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    cli.main(["serve", "--host", "0.0.0.0", "--port", "9001", "--workers", "3",
              "--store", "redis://127.0.0.1:6379/0"])
    assert calls == [(("app.main:app",), {"host": "0.0.0.0", "port": 9001, "workers": 3,
                                          "timeout_graceful_shutdown": cli.SHUTDOWN_SECONDS})]
    assert os.environ["PLAYGROUND_STORE"] == "redis://127.0.0.1:6379/0"


def test_the_store_defaults_to_the_environment_then_the_settings(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_STORE", "redis://example:6379/1")
    assert cli.parser()[0].parse_args(["serve"]).store == "redis://example:6379/1"
    monkeypatch.delenv("PLAYGROUND_STORE")
    assert cli.parser()[0].parse_args(["serve"]).store == "sqlite:///data/playground.db"


def test_help_names_the_command_and_its_options():
    top = subprocess.run([SCRIPT, "--help"], capture_output=True, text=True, timeout=30)
    assert top.returncode == 0 and "serve" in top.stdout
    serve = subprocess.run([SCRIPT, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert serve.returncode == 0
    for option in ("--host", "--port", "--store", "--workers", "redis://", "FORWARDED_ALLOW_IPS"):
        assert option in serve.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_entry_point_serves_the_app(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [SCRIPT, "serve", "--port", str(port), "--store", f"sqlite:///{tmp_path}/p.db"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 300  # a guard against a hang: the wait ends when /healthz answers
        while True:
            assert server.poll() is None, f"the server exited with {server.returncode}:\n{server.stdout.read()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status, body = r.status, json.load(r)
                break
            except OSError:
                assert time.monotonic() < deadline, "no answer from /healthz within 300 s"
                time.sleep(0.2)
        assert (status, body) == (200, {"status": "ok"})
        # --store reached the app (the store opens at startup), not the default data/ under the cwd.
        assert (tmp_path / "p.db").exists() and not (tmp_path / "data").exists()
    finally:
        server.terminate()  # SIGTERM, as `docker stop` sends
        try:
            output, _ = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output


# The Dockerfile cannot be built here (no Docker engine), so check that what it runs still exists.

def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def exec_form(argument: str) -> list[str]:
    return json.loads(argument) if argument.startswith("[") else shlex.split(argument)


def test_the_dockerfile_runs_what_the_makefile_and_the_entry_point_provide(client):
    steps = dockerfile_instructions()
    makefile = (ROOT / "Makefile").read_text()

    commands = [shlex.split(command) for instruction, arg in steps if instruction == "RUN"
                for command in re.split(r"&&|;", arg)]
    make_targets = [word for command in commands if command[:1] == ["make"]
                    for word in command[1:] if not word.startswith("-") and "=" not in word]
    assert "install" in make_targets
    for target in make_targets:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"Makefile has no target {target!r}"

    [cmd] = [exec_form(arg) for instruction, arg in steps if instruction == "CMD"]
    assert Path(cmd[0]).name == "backprop-playground"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["backprop-playground"] == "app.cli:main"
    args = cli.parser()[0].parse_args(cmd[1:])
    assert (args.command, args.host, args.port, args.workers) == ("serve", "0.0.0.0", 8000, 1)

    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(arg for instruction, arg in steps if instruction == "ENV")))
    assert env["PLAYGROUND_STORE"] == "sqlite:////data/playground.db"
    assert cli.store_error(env["PLAYGROUND_STORE"]) is None
    assert ("VOLUME", "/data") in steps

    [healthcheck] = [arg for instruction, arg in steps if instruction == "HEALTHCHECK"]
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", healthcheck)[1]
    assert client.get(path).status_code == 200


def test_the_docker_context_keeps_what_make_install_needs():
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for needed in ("Makefile", "pyproject.toml", "package.json", "package-lock.json", "app", "templates", "static"):
        assert needed not in ignored
