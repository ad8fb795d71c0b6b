"""Benchmark: a CSV of N Korean reviews through the table path to Parquet (issue 14), as a user
runs it: `corthex submit reviews.csv --model gpt-5-mini --prompt "…{text}" --schema label.json
--wait --out labeled.parquet`, one process, against the emulator in its own process.

    .venv/bin/python bench/tables.py [--rows 100000] [--speed 0.05] [--label LABEL]

Reports wall time, the process's peak RSS and CPU time (wait4), and checks the Parquet has one
row per input row with the input's columns. Memory should stay flat in the number of rows:
run it at 10,000 and 100,000 to compare. Writes bench/out/tables[-LABEL].json. Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _bench import PYTHON, Child, Emulator, print_table, save, sdk_env  # noqa: E402

WORDS = ["배송이", "빨라요", "포장이", "엉망이에요", "품질이", "좋아요", "가격이", "비싸요", "재구매", "의사"]
SCHEMA = '{"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}'


def write_reviews(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,text,stars\n")
        for i in range(rows):
            text = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(8))
            fh.write(f"rev-{i:06d},{text},{i % 5 + 1}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--speed", type=float, default=0.05)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Emulator(args.speed) as emulator:
        work = Path(tmp)
        reviews, schema, out = work / "reviews.csv", work / "label.json", work / "labeled.parquet"
        write_reviews(reviews, args.rows)
        schema.write_text(SCHEMA)
        env = {
            **os.environ,
            **sdk_env(emulator.url),
            "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'c.db'}",
            "CORTHEX_DATA_DIR": str(work / "data"),
            "CORTHEX_POLL_INITIAL": "0.2",
            "CORTHEX_POLL_MAX": "1",
        }
        cmd = [PYTHON, "-m", "corthex", "submit", str(reviews), "--model", "gpt-5-mini",
               "--prompt", "이 리뷰를 긍정/부정으로 분류하세요: {text} (별점 {stars})",
               "--schema", str(schema), "--id-column", "id", "--wait", "--out", str(out)]  # fmt: skip
        started = time.time()
        done = Child(cmd, env, log=work / "submit.log").wait(timeout=1800)
        wall = time.time() - started
        if done.returncode != 0:
            raise SystemExit(f"submit failed ({done.returncode}):\n{done.stderr[-3000:]}")
        import pyarrow.parquet as pq

        table = pq.read_table(out)
        rows = table.num_rows
        assert rows == args.rows and {"id", "text", "stars", "label", "status"} <= set(table.column_names)
        succeeded = sum(1 for s in table.column("status").to_pylist() if s == "succeeded")
    result = {
        "rows": args.rows,
        "wall_s": round(wall, 1),
        "peak_rss_mb": done.peak_rss_mb,
        "cpu_s": done.cpu_s,
        "parquet_rows": rows,
        "succeeded": succeeded,
        "emulator_speed": args.speed,
        "load_avg_1m": os.getloadavg()[0],
    }
    print_table(f"CSV -> Parquet, {args.rows:,} rows", list(result.items()))
    print(save("tables" + (f"-{args.label}" if args.label else ""), result))


if __name__ == "__main__":
    main()
