"""Read py-spy's raw (collapsed-stack) output and name the hot places.

    py-spy record -f raw -o FILE ...   then   python bench/_profile.py FILE [--top 10]

"Self" is where the samples were taken (the innermost frame); "inclusive, ours" is the share of
samples that pass through a function of `corthex` (innermost such frame), which names the
engine code that caused the time, whatever library it was spent in.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['func']} ({path})"


def _is_ours(frame: str) -> bool:
    return "corthex/" in frame and "/emulator/" not in frame


def analyse(path: Path, top: int = 10) -> dict[str, object]:
    self_time: Counter[str] = Counter()
    ours_innermost: Counter[str] = Counter()
    ours_inclusive: Counter[str] = Counter()
    total = 0
    for raw in path.read_text(errors="replace").splitlines():
        stack, _, count = raw.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        self_time[_short(frames[-1])] += n
        ours = [f for f in frames if _is_ours(f)]
        if ours:
            ours_innermost[_short(ours[-1])] += n
            for name in {_short(re.sub(r":\d+\)$", ")", f)) for f in ours}:
                ours_inclusive[name] += n

    def rows(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)] if total else []

    return {
        "samples": total,
        "self_pct": rows(self_time),
        "ours_innermost_pct": rows(ours_innermost),
        "ours_inclusive_pct": rows(ours_inclusive),
    }


def show(title: str, result: dict[str, object]) -> None:
    print(f"\n{title}: {result['samples']} samples")
    for key in ("self_pct", "ours_innermost_pct", "ours_inclusive_pct"):
        print(f"  {key}")
        for name, pct in result[key]:  # type: ignore[union-attr]
            print(f"    {pct:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    for path in args.files:
        show(str(path), analyse(path, args.top))


if __name__ == "__main__":
    main()
