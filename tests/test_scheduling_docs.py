"""The scheduling examples in docs/scheduling/ are valid: systemd units pass `systemd-analyze verify`,
the crontab line parses and fires nightly, and the ropsfeed command lines they run are accepted."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from tests.aggregator.cli_inprocess import invoke
from tests.conftest import REPO

SCHEDULING = REPO / "docs" / "scheduling"
INSTALL_DIR = "/opt/ropsfeed"  # where the units expect the checkout


def ropsfeed_arguments(command_line: str) -> list[str]:
    """The arguments after `…/ropsfeed` in a shell command line."""
    words = shlex.split(command_line.split("&&")[-1].split(">>")[0])
    index = next(i for i, w in enumerate(words) if w.endswith("/.venv/bin/ropsfeed"))
    return words[index + 1 :]


def test_systemd_units_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    for name in ("ropsfeed.service", "ropsfeed.timer"):  # pointed at this checkout, whose binary exists
        text = (SCHEDULING / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(INSTALL_DIR, str(REPO)), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / "ropsfeed.service"), str(tmp_path / "ropsfeed.timer")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and "ropsfeed" not in result.stderr, result.stderr

    calendar = re.search(r"^OnCalendar=(.+)$", (SCHEDULING / "ropsfeed.timer").read_text(), re.M)
    assert calendar is not None
    normalised = subprocess.run(["systemd-analyze", "calendar", calendar.group(1)], capture_output=True, text=True)
    assert normalised.returncode == 0 and "Next elapse" in normalised.stdout


def test_units_run_a_valid_command() -> None:
    service = (SCHEDULING / "ropsfeed.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.+)$", service, re.M)
    assert exec_start is not None and exec_start.group(1).startswith(f"{INSTALL_DIR}/.venv/bin/ropsfeed ")
    arguments = ropsfeed_arguments(exec_start.group(1))
    assert arguments[0] == "run"
    assert invoke(*arguments, "--help").returncode == 0, "the service's flags exist"


def test_crontab_line_parses_and_fires_every_night() -> None:
    lines = [line for line in (SCHEDULING / "ropsfeed.crontab").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]  # fmt: skip
    variables = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))
    jobs = [line for line in lines if not re.match(r"^[A-Z_]+=", line)]
    assert len(jobs) == 1
    fields = jobs[0].split(None, 5)
    schedule, command = " ".join(fields[:5]), fields[5]
    assert croniter.is_valid(schedule), schedule
    zone = ZoneInfo(variables["CRON_TZ"])
    start = datetime(2026, 3, 28, 12, 0, tzinfo=zone)  # across the switch to summer time
    series = croniter(schedule, start)
    fires = [series.get_next(datetime) for _ in range(3)]
    assert [(f.day, f.hour, f.minute) for f in fires] == [(29, 3, 15), (30, 3, 15), (31, 3, 15)]
    arguments = ropsfeed_arguments(command)
    assert arguments[:3] == ["--log-format", "json", "run"]
    assert invoke(*arguments, "--help").returncode == 0


# A value both systemd (EnvironmentFile=) and the cron line's shell (`. ropsfeed.env`) read alike:
# bare, without whitespace or a character either treats specially, or whole in single quotes.
PORTABLE_VALUE = re.compile(r"""[^\s$`\\"'<>|&;()#*]*|'[^']*'""")


def environment_file() -> dict[str, str]:
    """docs/scheduling/ropsfeed.env as systemd reads it (for the portable lines `PORTABLE_VALUE`
    admits: the quotes go), every assignment line checked to be one."""
    settings = {}
    for number, line in enumerate((SCHEDULING / "ropsfeed.env").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        assert equals and re.fullmatch(r"ROPSFEED_[A-Z_]+", name), f"line {number}: {line}"
        assert PORTABLE_VALUE.fullmatch(value), f"line {number}: systemd and sh would read it apart: {line}"
        settings[name] = value[1:-1] if value.startswith("'") else value
    return settings


def test_the_environment_file_reads_alike_in_systemd_and_in_the_cron_shell(tmp_path: Path) -> None:
    """The cron line sources the environment file with `sh`: an unquoted `ropsfeed <biuletyn@…>`,
    the sender README gives as the example, is a redirection there, and the job failed before
    ropsfeed started, with nothing in its log."""
    settings = environment_file()
    assert settings["ROPSFEED_MAIL_FROM"] == "ropsfeed <biuletyn@example.org>"
    script = f"set -a && . {SCHEDULING / 'ropsfeed.env'} && set +a && env"
    result = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30, env={}, check=False)
    assert result.returncode == 0, result.stderr
    read = dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("ROPSFEED_"))
    assert read == settings
    configuration = (REPO / "README.md").read_text(encoding="utf-8").partition("## Configuration")[2]
    assert all(f"`{name}`" in configuration for name in settings), "every setting is one README documents"
    install = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "install -m 600 -o ropsfeed docs/scheduling/ropsfeed.env /etc/ropsfeed/ropsfeed.env" in install
    assert "install -d -m 755 /etc/ropsfeed" in install and "useradd --system" in install
