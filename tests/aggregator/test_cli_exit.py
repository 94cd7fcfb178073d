"""The process entry point ends quickly yet exits as the interpreter would: same status, output
flushed, exit handlers run, other threads finished first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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
