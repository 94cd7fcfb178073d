"""The command line as a script outside the repo uses it (DESIGN.md §8, README's command table):
every command and documented flag exists, every command takes `--db`, and bad input — an unknown
source id, a malformed date, a database URL that is none, a folder that is missing, a port in use —
is one `error: …` line on stderr and exit status 2, never a traceback or a box wrapped at 80 columns.

In process (tests/aggregator/cli_inprocess.py): none of these starts a crawl."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from aggregator.cli import app, main
from db.engine import session_scope
from db.models import Source
from tests.aggregator.cli_inprocess import Result, invoke
from tests.conftest import REPO


def leaf_commands() -> Iterator[tuple[str, Any]]:
    """("subscribers add", its click command), … for every command the CLI has (Typer brings its
    own copy of click: the groups are told by their `commands`)."""
    root = typer.main.get_command(app)

    def walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, f"{path} {name}".strip())
        else:
            yield path, command

    yield from walk(root, "")


def options_of(command: Any) -> set[str]:
    return {opt for param in command.params for opt in param.opts if opt.startswith("--")}


def readme_commands() -> list[tuple[str, set[str]]]:
    """(command, its documented --flags) for each `ropsfeed …` in README's command table."""
    documented = []
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `ropsfeed "):
            continue
        usage_cell = line.split(" | ")[0]
        for usage in re.findall(r"`(ropsfeed [^`]+)`", usage_cell):
            words = usage.split()[1:]
            name = []
            for word in words:  # the command's words end at the first argument or option
                if not re.fullmatch(r"[a-z]+", word):
                    break
                name.append(word)
            documented.append((" ".join(name), set(re.findall(r"--[a-z][a-z-]*", usage))))
    return documented


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_every_command_accepts_db() -> None:
    """DESIGN.md §8: "Commands (all accept --db URL)"; `mirror serve` and `deploy` refused it."""
    lacking = [name for name, command in leaf_commands() if "--db" not in options_of(command)]
    assert lacking == []


def test_readme_command_table_matches_the_cli() -> None:
    """Each command and flag the README documents exists, and each command is documented (`dedup`
    was missing from the table)."""
    commands = dict(leaf_commands())
    documented = readme_commands()
    assert {name for name, _ in documented} == set(commands)
    for name, flags in documented:
        assert flags <= options_of(commands[name]), (name, flags - options_of(commands[name]))


def test_help_shows_brackets_literally() -> None:
    """Rich read "[deploy]" in the help of `deploy --scrapyd` as a style and printed "scrapy.cfg's ."."""
    result = invoke("deploy", "--help")
    assert result.returncode == 0 and "scrapy.cfg's [deploy]" in result.stdout


@pytest.mark.parametrize("url", ["not a url", "bogus://jan:s3cret@db.example.org/ropsfeed"])
def test_a_database_url_that_is_none_is_one_line(url: str, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["ropsfeed", "status", "--db", url])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.count("\n") == 1 and err.startswith("error: invalid database URL: "), err
    assert "s3cret" not in err


@pytest.mark.parametrize(("args", "message"), [
    (("feed", "--limit", "abc"), "error: Invalid value for '--limit': "),
    (("fed",), "error: No such command 'fed'. Did you mean 'feed'?"),
    (("feed", "--bogus"), "error: No such option: --bogus"),
])  # fmt: skip
def test_a_bad_call_that_click_catches_is_one_line_too(args: tuple[str, ...], message: str,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Typer drew click's usage errors in a box of several lines, wrapped at 80 columns."""
    monkeypatch.setattr(sys, "argv", ["ropsfeed", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and err.startswith(message), err
    assert err.rstrip().endswith("--help`)"), "it says where the usage is"


def test_the_entry_point_keeps_the_commands_exit_statuses(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    for args, status, said in ((["dates", "12 marca 2024"], 0, "2024-03-12"),
                               (["feed", "--source", "mcsp", "--db", sqlite_url], 2, "")):  # fmt: skip
        monkeypatch.setattr(sys, "argv", ["ropsfeed", *args])
        with pytest.raises(SystemExit) as exit_:
            main()
        out = capsys.readouterr().out
        assert exit_.value.code == status and said in out, out


# The mirror is checked before the other settings: were it not, this one stops the command before
# any request, instead of a crawl of the live sites (from the test process) that a missing check allows.
NO_CRAWL = {"ROPSFEED_DOWNLOAD_TIMEOUT": "0"}


def test_crawl_refusals_are_one_line(sqlite_url: str) -> None:
    """`crawl` printed its refusals through Rich, wrapped at 80 columns when piped (`run` did not)."""
    unknown = one_error_line(invoke("crawl", "no-such-source", "--db", sqlite_url, env={"COLUMNS": "60"}))
    assert "unknown source 'no-such-source' (known: mcps, " in unknown and "rops-olsztyn" in unknown
    bad_mirror = invoke("crawl", "mcps", "--mirror", "mirror.example.org", "--db", sqlite_url, env=NO_CRAWL)
    assert one_error_line(bad_mirror) == "error: --mirror must be an http:// or https:// URL, not 'mirror.example.org'"


def test_crawl_and_run_read_ropsfeed_mirror(sqlite_url: str) -> None:
    """README: ROPSFEED_MIRROR is "the same as --mirror"; `crawl` and `run` ignored it and crawled
    the live sites. A mirror that is no URL shows it is read, without crawling anything."""
    for command in ("crawl", "run"):
        result = invoke(command, "--db", sqlite_url, env={"ROPSFEED_MIRROR": "./snapshot", **NO_CRAWL})
        assert "--mirror must be an http:// or https:// URL, not './snapshot'" in one_error_line(result), command


def test_demo_checks_its_out_folder_before_crawling(sqlite_url: str, tmp_path: Path) -> None:
    """An --out that cannot be a folder was a traceback after the whole crawl."""
    (tmp_path / "a-file").write_text("")
    out = tmp_path / "a-file" / "out"
    line = one_error_line(invoke("demo", "--out", str(out), "--db", sqlite_url, env=NO_CRAWL))
    assert line == f"error: cannot create --out {out}: Not a directory"


def test_demo_checks_the_mail_settings_before_crawling(sqlite_url: str, tmp_path: Path) -> None:
    """The digest preview reads ROPSFEED_MAIL_FROM: a malformed one was a traceback after the crawl."""
    out = tmp_path / "out"
    result = invoke("demo", "--out", str(out), "--db", sqlite_url,
                    env={"ROPSFEED_MAIL_FROM": "ropsfeed biuletyn@example.org", **NO_CRAWL})  # fmt: skip
    assert one_error_line(result).startswith("error: ROPSFEED_MAIL_FROM is not an email address")
    assert not out.exists(), "refused before anything was written"


def test_feed_and_export_refuse_an_unknown_source(database: str) -> None:
    """An unknown `--source` printed an empty feed or export with status 0, as a quiet source would."""
    for command in ("feed", "export"):
        result = invoke(command, "--source", "mcsp", "--db", database)
        assert one_error_line(result) == "error: unknown source 'mcsp'; see `ropsfeed sources`"
        assert result.stdout == ""
        assert invoke(command, "--source", "rops-szczecin", "--db", database).returncode == 0, "known, empty"
    with session_scope(database, write=True) as session:  # taken out of the registry, still in the database
        session.add(Source(id="rops-old", institution="ROPS", voivodeship="opolskie", platform="html",
                           base_url="https://rops-old.example.pl/"))  # fmt: skip
    assert invoke("export", "--source", "rops-old", "--db", database).returncode == 0


def test_a_refusal_in_json_log_mode_is_one_json_record(database: str) -> None:
    """With --log-format json, cron's stderr is a JSON-lines log: a refusal printed as a plain line
    was the one record a collector could not read."""
    for args in (("feed", "--source", "mcsp"), ("export", "--source", "mcsp"), ("feed", "--format", "csv")):
        result = invoke("--log-format", "json", *args, "--db", database)
        assert result.returncode == 2 and result.stdout == ""
        [record] = [json.loads(line) for line in result.stderr.splitlines()]
        assert record["level"] == "ERROR" and record["event"] == "error"
        assert record["message"].startswith("error: ") and "\n" not in record["message"]


def test_export_to_a_missing_folder_is_one_line(database: str, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "stories.csv"
    line = one_error_line(invoke("export", "--output", str(target), "--db", database))
    assert line == f"error: cannot write {target}: No such file or directory"
    assert not target.parent.exists()


def test_mirror_serve_refusals_are_one_line(tmp_path: Path) -> None:
    """A port in use was a traceback; a root that is no folder served 404s to every request. The
    port is taken in both cases, so a missing check fails the test instead of serving forever."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = one_error_line(invoke("mirror", "serve", "--port", port, "--db", "sqlite://"))
        assert busy.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
        missing = one_error_line(invoke("mirror", "serve", "--port", port, "--root", str(tmp_path / "nothing")))
        assert missing == f"error: --root is not a folder: {tmp_path / 'nothing'}"


@pytest.mark.parametrize(("args", "message"), [
    (("dates",), "error: give a TEXT argument or --jsonl"),
    (("dates", "15 marca br.", "--reference", "15.03.2024"), "error: --reference must be YYYY-MM-DD, not '15.03.2024'"),
    (("entities",), "error: give a TEXT argument or --jsonl"),
    (("dedup",), "error: give --jsonl and pairs on stdin"),
])  # fmt: skip
def test_text_tools_say_a_bad_call_in_one_line(args: tuple[str, ...], message: str) -> None:
    assert one_error_line(invoke(*args, env={"COLUMNS": "60"})) == message


@pytest.mark.parametrize(
    ("tool", "line", "answer"),
    [
        ("dates", '{"text": "do 15 maja 2024 w Łodzi", "reference": "2024-05-01"}', "do 15 maja 2024"),
        ("entities", '{"text": "ROPS w Łodzi"}', "Regionalny Ośrodek Polityki Społecznej w Łodzi"),
        ("dedup", '{"a": {"title": "Łódź", "text": "Żółć"}, "b": {"title": "Łódź", "text": "Żółć"}}', '"same": true'),
    ],
)
def test_jsonl_tools_speak_utf8_whatever_the_locale(tool: str, line: str, answer: str) -> None:
    """JSON lines are UTF-8 (RFC 8259): under a cp1250 locale the tools read „Łódź” as mojibake and
    died on a byte cp1250 lacks (a traceback); a line that is not UTF-8 is a bad line like any
    other — its error record, and the stream goes on."""
    stdin = (line + "\n").encode() + b'{"text": "\xb3\xf3d\xbc"}\n' + (line + "\n").encode()
    result = subprocess.run([sys.executable, "-m", "aggregator.cli", tool, "--jsonl"], input=stdin,
                            capture_output=True, env={**os.environ, "PYTHONIOENCODING": "cp1250"},
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    first, broken, third = result.stdout.decode("utf-8").splitlines()
    assert answer in first and first == third
    assert json.loads(broken)["error"] == "the line is not UTF-8 (byte 0xb3 at 10)"


def test_the_command_list_gives_each_summary_whole() -> None:
    """`ropsfeed --help` listed a command's summary cut where its docstring's source lines ended
    ("(with --alarm-exit," alone on a line); on a wide terminal each summary is one line now."""
    result = subprocess.run([sys.executable, "-m", "aggregator.cli", "--help"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "250"}, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("│ ") and "  " in line}
    assert "(with --alarm-exit, 3 when none had but one raised a layout alarm)." in rows["crawl"]
    assert "print a summary; exit code 1 when a source had errors" in rows["demo"]
    listed = [line for line in result.stdout.split("Commands")[1].splitlines() if line.startswith("│ ")]
    assert all(line.split("│")[1][:14].strip() for line in listed), "no summary runs on to a second line"
