"""`corthex ARGS…` as the console script runs it, writing at exit the modules it loaded (one
name a line) to the file named by BASE_MEMORY_MODULES: what bench/base_memory.py reports per
command. Adds nothing of its own but `atexit` (already loaded by the interpreter)."""

from __future__ import annotations

import atexit
import os
import sys


def _write_modules() -> None:
    path = os.environ.get("BASE_MEMORY_MODULES")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(sorted(sys.modules)))


atexit.register(_write_modules)
sys.argv = ["corthex", *sys.argv[1:]]

from corthex.cli import main  # noqa: E402 - after the hook, so an import error is reported too

main()
