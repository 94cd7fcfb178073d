"""The process entry point ends quickly yet exits as the interpreter would: same status, output
flushed, exit handlers run, other threads finished first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aggregator.cli import foreign_python, main
from tests.conftest import REPO, run_cli

SCRIPT = textwrap.dedent("""
    import atexit, sys, threading, time
    from pathlib import Path
    from aggregator.cli import quick_exit

    out = Path(sys.argv[1])
    atexit.register(lambda: (out / "atexit").write_text("ran"))

    def late() -> None:
        time.sleep(0.3)
        (out / "thread").write_text("finished")

    threading.Thread(target=late).start()
    print("x" * 200_000, end="")  # more than a pipe holds: written only if flushed
    status = eval(sys.argv[2])
    quick_exit(status)
""")


@pytest.mark.parametrize(("status", "code", "message"), [("None", 0, ""), ("3", 3, ""), ("'bye'", 1, "bye"),
                                                         ("-1", 255, "")])  # fmt: skip
def test_quick_exit_finishes_like_the_interpreter(tmp_path: Path, status: str, code: int, message: str) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), status], cwd=REPO, capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == code, result.stderr
    assert result.stdout == "x" * 200_000
    assert result.stderr.strip() == message
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").read_text() == "finished", "a thread that is not a daemon is waited for"


def test_the_command_line_keeps_its_exit_statuses(tmp_path: Path) -> None:
    assert run_cli("sources", "--help").returncode == 0
    unknown = run_cli("crawl", "no-such-source", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert unknown.returncode == 2 and "unknown source" in unknown.stderr
    assert run_cli("no-such-command").returncode == 2


def test_a_venv_whose_python_this_user_cannot_read_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A venv made by root with root's own Python (/root/.pyenv/…), run by cron or systemd as the
    `ropsfeed` user: the interpreter silently took the system's standard library instead, and on
    Debian 12 every page of every crawl failed inside soupsieve. Now every command refuses at once."""
    (tmp_path / "pyvenv.cfg").write_text(
        "home = /nonexistent/.pyenv/versions/3.11.7/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n"
    )
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["ropsfeed", "status", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    with pytest.raises(SystemExit) as exited:
        main()
    stderr = capsys.readouterr().err
    assert exited.value.code == 2 and len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith(f"error: this virtualenv ({tmp_path}) was made with the Python in /nonexistent/")
    assert foreign_python(sys.base_prefix) is None and foreign_python(str(tmp_path / "no-venv")) is None
