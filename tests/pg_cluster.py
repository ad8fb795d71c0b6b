"""A throwaway PostgreSQL server for the tests: initdb into a temporary directory, started on
127.0.0.1 at a free port, one fresh database per test, stopped at the end of the session.

PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user (Debian's
package creates it) and its programs run through `runuser`. The binaries come from Debian's
`postgresql` package (scripts/system-deps.sh installs it).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from corthex.testing import free_port


def find_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    postgres = shutil.which("postgres")
    return Path(postgres).parent if postgres else None


@dataclass
class PgCluster:
    bin: Path
    root: Path
    port: int
    user: str = "postgres"

    @classmethod
    def start(cls, bin_dir: Path) -> PgCluster:
        root = Path(tempfile.mkdtemp(prefix="corthex-pg-"))
        cluster = cls(bin_dir, root, free_port())
        os.chmod(root, 0o755)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        cluster._run("initdb", "-D", str(cluster.data), "-U", cluster.user, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-k {root} -c listen_addresses=127.0.0.1 -p {cluster.port} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        cluster._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(cluster.data), "-l", str(root / "log"), "-o", options
        )
        return cluster

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, program: str, *args: str) -> str:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr or done.stdout}")
        return done.stdout

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
