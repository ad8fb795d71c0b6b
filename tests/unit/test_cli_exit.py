"""`corthex` (cli.run, the console script's entry) leaves without the interpreter's teardown once a command is done (cli._leave): the
teardown freed the SDKs' modules object by object, 1 to 2 s of CPU after the results were
written. What matters of it still happens: atexit handlers, flushed output, the exit status."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import atexit, os, sys, threading, time
    from corthex.cli import run

    class Torn:
        def __del__(self):
            print("torn down", flush=True)  # module teardown frees it: printed only by a full teardown

    kept = Torn()
    atexit.register(lambda: print("atexit ran", flush=True))
    sys.argv = ["corthex", *sys.argv[1:]]
    print("before", end="")  # unflushed: the exit must flush it
    if os.environ.get("FINISHING_THREAD"):  # a worker thread still ending its work (a closed connection's)
        threading.Thread(target=lambda: (time.sleep(0.3), print("thread done", flush=True))).start()
    run()  # the console script's entry
    """
)


def _run(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **(env or {}),
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


def test_a_thread_still_finishing_is_waited_for_and_the_teardown_still_skipped(tmp_path: Path) -> None:
    done = _run(tmp_path, "--help", env={"FINISHING_THREAD": "1"})
    assert done.returncode == 0
    assert "thread done" in done.stdout and "atexit ran" in done.stdout
    assert "torn down" not in done.stdout


def test_a_command_runs_with_fewer_garbage_collections() -> None:
    """Python's default thresholds ran ~800 collections (0.8 s of 6.8 s CPU) in a 10,000-request
    `submit --wait`; the command's entry raises them (cycles are still collected)."""
    script = "import gc, corthex.cli as c\nc.main = lambda: print(gc.get_threshold())\nc.run()"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ast.literal_eval(done.stdout)[0] >= 10_000


def test_a_phase_log_that_cannot_be_written_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "CORTHEX_PHASE_LOG": str(tmp_path / "없는-폴더" / "phases.log")}
    done = subprocess.run(
        [sys.executable, "-m", "corthex", "--help"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert (
        done.stderr.strip().startswith("CORTHEX_PHASE_LOG: cannot write") and len(done.stderr.strip().splitlines()) == 1
    )
