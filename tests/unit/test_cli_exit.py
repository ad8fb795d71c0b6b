"""`corthex` (cli.run, the console script's entry) leaves without the interpreter's teardown once a command is done (cli._leave): the
teardown freed the SDKs' modules object by object, 1 to 2 s of CPU after the results were
written. What matters of it still happens: atexit handlers, flushed output, the exit status."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import atexit, sys
    from corthex.cli import run

    class Torn:
        def __del__(self):
            print("torn down", flush=True)  # module teardown frees it: printed only by a full teardown

    kept = Torn()
    atexit.register(lambda: print("atexit ran", flush=True))
    sys.argv = ["corthex", *sys.argv[1:]]
    print("before", end="")  # unflushed: the exit must flush it
    run()  # the console script's entry
    """
)


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/corthex.db",
        "CORTHEX_DATA_DIR": str(tmp / "data"),
    }
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=60, env=env)


def test_a_finished_command_skips_the_teardown_but_not_atexit_or_the_flush(tmp_path: Path) -> None:
    done = _run(tmp_path, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("before") and "submit" in done.stdout
    assert "atexit ran" in done.stdout
    assert "torn down" not in done.stdout


def test_the_exit_status_is_kept(tmp_path: Path) -> None:
    done = _run(tmp_path, "status", "job_not_there")  # refused: an unknown id
    assert done.returncode == 2, done.stderr
    assert "atexit ran" in done.stdout and "torn down" not in done.stdout
