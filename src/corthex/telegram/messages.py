"""What the bot says, as Telegram HTML: escaping, minimal Markdown, splitting under the limit (pure).

Every piece of user or model text goes through `esc` before it is placed between our own tags,
so a report full of `<`, `&` and `>` can never break `parse_mode=HTML` (LESSONS T5: the original
sent user text under Markdown unescaped). Lengths are measured after escaping, in UTF-16 code
units as Telegram counts them, so a part that fits here fits there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from corthex.domain.budget import BudgetStatus
from corthex.domain.describe import describe
from corthex.domain.events import ChainDone, Event
from corthex.domain.org import Org
from corthex.engine.engine import ChainRow, ChainStopped
from corthex.i18n import step_name, text

LIMIT = 4096  #: Telegram's maximum message length
NUMBER_ROOM = 10  #: room kept in every part for its "(12/34)\n" number

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`\n]+)`")
_FENCE = re.compile(r"^\s*(```|~~~)")


def esc(text: str) -> str:
    """Escape text for Telegram HTML (quotes only matter inside attributes, which we never fill)."""
    return html.escape(text, quote=False)


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


# -- Markdown → Telegram HTML, line by line ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a message: its HTML and its plain text (an overlong line is cut from the text)."""

    html: str
    text: str

    @classmethod
    def plain(cls, text: str) -> Line:
        return cls(esc(text), text)


BLANK = Line("", "")


def markdown_lines(markdown: str) -> list[Line]:
    """Minimal Markdown: headings and **bold** become <b>, `code` <code>, bullets •; the rest is
    escaped text. Tags never span lines, so a message can be cut at any line."""
    lines, fenced = [], False
    for raw in markdown.splitlines():
        if _FENCE.match(raw):
            fenced = not fenced
            lines.append(Line.plain(raw))
        elif fenced:
            lines.append(Line.plain(raw))
        else:
            lines.append(Line(_line_html(raw), raw))
    return lines


def _line_html(line: str) -> str:
    heading = _HEADING.match(line)
    if heading and heading.group(1):
        return f"<b>{esc(heading.group(1).replace('**', ''))}</b>"
    bullet = _BULLET.match(line)
    if bullet:
        line = f"{bullet.group(1)}• {line[bullet.end() :]}"
    return _inline_html(line)


def _inline_html(text: str) -> str:
    out, pos = [], 0
    for match in _INLINE.finditer(text):
        out.append(esc(text[pos : match.start()]))
        bold, code = match.groups()
        out.append(f"<b>{esc(bold)}</b>" if bold is not None else f"<code>{esc(code)}</code>")
        pos = match.end()
    out.append(esc(text[pos:]))
    return "".join(out)


# -- splitting ---------------------------------------------------------------------------------


class _Packer:
    """Greedily fills parts up to `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit, self._cur, self._len = limit, "", 0
        self.parts: list[str] = []

    def add(self, html_text: str, sep: str) -> bool:
        """Append to the current part if it fits (with `sep` unless the part is empty)."""
        extra = tg_len(html_text) + (tg_len(sep) if self._cur else 0)
        if self._len + extra > self.limit:
            return False
        self._cur = f"{self._cur}{sep}{html_text}" if self._cur else html_text
        self._len += extra
        return True

    def flush(self) -> None:
        if self._cur:
            self.parts.append(self._cur)
        self._cur, self._len = "", 0

    def done(self) -> list[str]:
        self.flush()
        return self.parts


def split_lines(lines: Sequence[Line], limit: int = LIMIT) -> list[str]:
    """Parts of at most `limit`, cut between paragraphs where possible, else between lines, and
    only inside a line that alone is too long (then as plain escaped text, between words)."""
    packer = _Packer(limit)
    for paragraph in _paragraphs(lines):
        whole = "\n".join(line.html for line in paragraph)
        if packer.add(whole, "\n\n"):
            continue
        if tg_len(whole) <= limit:
            packer.flush()
            packer.add(whole, "")
            continue
        _pack_lines(packer, paragraph)
    return packer.done()


def _pack_lines(packer: _Packer, paragraph: Sequence[Line]) -> None:
    sep = "\n\n"
    for line in paragraph:
        if not packer.add(line.html, sep):
            packer.flush()
            if not packer.add(line.html, ""):
                for piece in hard_split(line.text, packer.limit):
                    packer.flush()
                    packer.add(piece, "")
        sep = "\n"


def _paragraphs(lines: Iterable[Line]) -> Iterator[list[Line]]:
    paragraph: list[Line] = []
    for line in lines:
        if line.text.strip() or line.html.strip():
            paragraph.append(line)
        elif paragraph:
            yield paragraph
            paragraph = []
    if paragraph:
        yield paragraph


def hard_split(text: str, limit: int) -> list[str]:
    """Escaped pieces of one overlong line, each at most `limit`, cut after whitespace when that
    keeps at least half a piece; entities are never cut because each piece is escaped whole."""
    pieces: list[str] = []
    start, size, cut = 0, 0, -1
    for i, char in enumerate(text):
        width = tg_len(esc(char))
        if size + width > limit:
            end = cut if cut > start and tg_len(esc(text[cut:i])) <= limit // 2 else i
            pieces.append(esc(text[start:end]))
            start, size, cut = end, tg_len(esc(text[end:i])), -1
        size += width
        if char.isspace():
            cut = i + 1
    if start < len(text):
        pieces.append(esc(text[start:]))
    return pieces


def numbered(lines: Sequence[Line], limit: int = LIMIT) -> list[str]:
    """The message as parts under `limit`, each numbered "(k/n)" when there is more than one."""
    parts = split_lines(lines, limit)
    if len(parts) <= 1:
        return parts or [esc("(empty)")]
    parts = split_lines(lines, limit - NUMBER_ROOM)
    return [f"({i}/{len(parts)})\n{part}" for i, part in enumerate(parts, 1)]


# -- what the bot says --------------------------------------------------------------------------


def money(usd: float) -> str:
    return f"${usd:.4f}" if abs(usd) >= 0.01 or usd == 0 else f"${usd:.6f}"


def elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def excerpt(text: str, size: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def mode_of(chain: ChainRow, lang: str = "en") -> str:
    mode = text(lang, "mode.realtime" if chain.realtime else "mode.batch")
    return mode + (f" · {text(lang, 'mode.broadcast')}" if chain.broadcast else "")


def report_parts(chain: ChainRow, report: str, cost: float, realtime_cost: float, lang: str = "en") -> list[str]:
    """The final report: header, the report's Markdown as HTML, then cost and saving."""
    title, mode = text(lang, "report.title"), mode_of(chain, lang)
    header = f"📦 {title} {chain.id} ({mode})"
    lines = [Line(f"📦 <b>{esc(title)}</b> <code>{esc(chain.id)}</code> ({esc(mode)})", header), BLANK]
    lines += markdown_lines(report.strip() or text(lang, "report.empty"))
    lines += [BLANK, Line.plain(cost_line(cost, realtime_cost, lang))]
    return numbered(lines)


def cost_line(cost: float, realtime_cost: float, lang: str = "en") -> str:
    saving = realtime_cost - cost
    if realtime_cost <= 0 or saving <= 0:
        return text(lang, "cost.no_saving", cost=money(cost))
    share = f"{saving / realtime_cost:.0%}"
    return text(lang, "cost.saving", cost=money(cost), realtime=money(realtime_cost), saving=money(saving), share=share)


def status_parts(chains: Sequence[ChainRow], now: float, *, more: bool = False, lang: str = "en") -> list[str]:
    """Running chains with their full ids (the original showed `id[:8]`, always "chain_20")."""
    if not chains:
        return [esc(text(lang, "status.none"))]
    title = text(lang, "status.title", count=f"{len(chains)}{'+' if more else ''}")
    lines = [Line(f"<b>{esc(title)}</b>", title), BLANK]
    step_word = esc(text(lang, "status.step"))
    for chain in chains:
        departments = ", ".join(chain.departments) or text(lang, "to_be_classified")
        lines.append(
            Line(
                f"<code>{esc(chain.id)}</code> · {step_word} <b>{esc(step_name(lang, chain.step.value))}</b>"
                f" · {esc(mode_of(chain, lang))}\n"
                f"   {esc(departments)} · {elapsed(now - chain.created_at)} · {esc(excerpt(chain.command, 60))}",
                f"{chain.id} {chain.step.value} {departments}",
            )
        )
        lines.append(BLANK)
    if more:
        lines.append(Line.plain(text(lang, "status.more")))
    return numbered(lines)


def budget_text(status: BudgetStatus, lang: str = "en") -> str:
    """/budget: the engine's one budget reading, what a submission is checked against too."""
    spent, budget, left = status.spent, status.budget, status.left
    where = text(lang, "budget.where", timezone=status.timezone)
    held = text(lang, "budget.held", held=money(status.held)) if status.held else ""
    if budget is None or left is None:
        return esc(text(lang, "budget.no_budget", where=where, spent=money(spent), held=held))
    share = f" ({spent / budget:.0%})" if budget > 0 else ""
    rest = text(lang, "budget.left", left=money(left)) if left >= 0 else text(lang, "budget.over", over=money(-left))
    line = text(
        lang, "budget.line", where=where, spent=money(spent), budget=money(budget), share=share, held=held, rest=rest
    )
    return esc(line)


def help_text(lang: str = "en") -> str:
    return text(lang, "help_html")


HELP = help_text()


def canceled_text(stopped: ChainStopped, lang: str = "en") -> str:
    """/cancel's answer: what was stopped (the report of what the chain had follows on its own)."""
    chain = stopped.chain
    return text(
        lang,
        "cancel.done",
        chain_id=esc(chain.id),
        step=esc(step_name(lang, chain.step.value)),
        canceled=f"{stopped.canceled:,}",
        done=f"{stopped.already_done:,}",
    )


def no_report_yet(chain: ChainRow, lang: str = "en") -> str:
    """/report of a chain still at work."""
    return text(
        lang,
        "report.not_yet",
        chain_id=esc(chain.id),
        status=esc(chain.status.value),
        step=esc(step_name(lang, chain.step.value)),
    )


def command_problem(command: str, usage: str, lang: str = "en") -> str | None:
    """The usage line for an empty command, or None (the engine refuses the rest, with its reason:
    too long, a NUL, … — see `start_failed`)."""
    return None if command.strip() else esc(text(lang, "usage", usage=usage))


def start_failed(reason: str, lang: str = "en") -> str:
    return esc(text(lang, "start_failed", reason=reason))


# -- progress ----------------------------------------------------------------------------------


def progress_line(event: Event, org: Org | None = None, lang: str = "en") -> str | None:
    """One short HTML line for a chain's progress (agents by their display names in `org`), or None
    for events not worth a line (the chain's end is not one: its report follows)."""
    if isinstance(event, ChainDone):
        return None
    line = describe(event, org, lang)
    return esc(line) if line else None


def progress_parts(chain_id: str, lines: Sequence[str]) -> list[str]:
    head = Line(f"<code>{esc(chain_id)}</code>", chain_id)
    return numbered([head, *(Line(line, line) for line in lines)])


def progress_board(chain_id: str, lines: Sequence[str], lang: str = "en", limit: int = LIMIT) -> str:
    """A chain's progress as ONE message under `limit`, edited in place as lines come: its id,
    the start line, then the latest lines that fit (the ones in between are counted, not shown)."""
    head = f"<code>{esc(chain_id)}</code>"
    whole = "\n".join([head, *lines])
    if tg_len(whole) <= limit or not lines:
        return whole
    first, rest = lines[0], list(lines[1:])
    kept: list[str] = []
    room = limit - tg_len(head) - tg_len(first) - 2 - tg_len(esc(text(lang, "progress.earlier", count=len(rest)))) - 1
    for line in reversed(rest):
        if tg_len(line) + 1 > room:
            break
        kept.insert(0, line)
        room -= tg_len(line) + 1
    skipped = esc(text(lang, "progress.earlier", count=len(rest) - len(kept)))
    return "\n".join([head, first, skipped, *kept])
