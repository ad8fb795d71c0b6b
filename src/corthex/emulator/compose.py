"""Plausible Markdown answers for the emulator: of the requested length and in the prompt's
language (Korean in, Korean out), with headings and lists on their own lines, and the same
answer for the same request every time (seeded by the model and the prompt).

A short one-line English prompt still gets the short echo `[emulated MODEL] prompt` (tests read
it); everything else (a long prompt, a report asked for, a length asked for, Korean) is composed.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

ECHO_WORDS = 16
HANGUL = re.compile(r"[\uac00-\ud7a3]")
REPORT_WORDS = re.compile(r"report|summary|analy[sz]|review|markdown|보고|요약|분석|검토", re.IGNORECASE)
LENGTH_ASKED = re.compile(r"(\d{1,5})\s*(words?|단어|자|글자)", re.IGNORECASE)
COMMAND_LINE = re.compile(r"(?:The CEO's command:|## The CEO's original command)\s*\n\s*(.+)")
WORDS_PER_TOKEN = 1 / 1.3  #: the emulator counts 1.3 tokens a word (answers.tokens)
REPORT_WORDS_DEFAULT, PLAIN_WORDS_DEFAULT = 180, 60
#: Markdown emphasis by underscores (`_word_`, `__word__`): an underscore at a word's edge only, so
#: one inside an identifier (`get_weather`, `날씨_조회`) is kept when the prompt is quoted back
EMPHASIS_UNDERSCORE = re.compile(r"(?<!\w)_+|_+(?!\w)")


@dataclass(frozen=True)
class Bank:
    """The phrases of one language. Each heading says which kind of block follows it."""

    headings: tuple[tuple[str, str], ...]  #: (heading, "para" | "bullets" | "steps")
    lead: str
    sentences: list[str]
    bullets: list[str]
    steps: list[str]


EN = Bank(
    headings=(
        ("Summary", "para"),
        ("Key findings", "bullets"),
        ("Risks", "para"),
        ("Recommendations", "steps"),
        ("Figures to watch", "bullets"),
    ),
    lead="This note looks at “{topic}”.",
    sentences=[
        "It depends on a few drivers that can be measured every week.",
        "The strongest signal is demand, which held steady over the last quarter.",
        "Costs rose faster than revenue, so margins need attention before we scale.",
        "Two teams already track the same figures; one shared view would save time.",
        "The main risk is timing: a delay of one month moves the result noticeably.",
        "Competitors are moving the same way, which narrows the window to act.",
        "Customer feedback is mostly positive, with recurring complaints about response times.",
        "A pilot with a fixed budget and a four-week review would limit the downside.",
        "Data quality is uneven; the last two months of figures need checking.",
        "Regulation is stable for now, but a draft rule could change the picture next year.",
    ],
    bullets=[
        "Demand is **stable** across the main segments",
        "Unit costs rose about 8% quarter on quarter",
        "Two suppliers account for most of the exposure",
        "Hiring plans are on track for the next half",
        "Cash runway covers the plan with a modest buffer",
        "The backlog is shrinking, but slower than planned",
        "Customer churn is below the industry average",
    ],
    steps=[
        "Confirm the figures with finance before the next review",
        "Run a four-week pilot with a fixed budget",
        "Name one owner for the decision and a date for it",
        "Report progress weekly in one shared dashboard",
        "Revisit the plan if demand drops more than 10%",
    ],
)
KO = Bank(
    headings=(
        ("요약", "para"),
        ("핵심 발견", "bullets"),
        ("위험 요인", "para"),
        ("권고 사항", "steps"),
        ("주목할 지표", "bullets"),
    ),
    lead="이 보고서는 “{topic}”에 대해 검토한 내용입니다.",
    sentences=[
        "결과는 매주 측정할 수 있는 몇 가지 요인에 좌우됩니다.",
        "가장 뚜렷한 신호는 수요이며, 지난 분기 동안 안정적으로 유지되었습니다.",
        "비용이 매출보다 빠르게 늘어 확장 전에 수익성을 점검해야 합니다.",
        "두 팀이 같은 지표를 따로 관리하고 있어 하나로 합치면 시간을 아낄 수 있습니다.",
        "가장 큰 위험은 일정이며, 한 달의 지연도 결과에 뚜렷한 영향을 줍니다.",
        "경쟁사도 같은 방향으로 움직이고 있어 대응할 시간이 많지 않습니다.",
        "고객 반응은 대체로 긍정적이지만 응답 속도에 대한 불만이 반복됩니다.",
        "예산을 정한 4주 시범 운영으로 손실 위험을 줄일 수 있습니다.",
        "데이터 품질이 고르지 않아 최근 두 달 수치는 다시 확인해야 합니다.",
        "규제는 당분간 안정적이지만 내년에 새 규칙이 나올 수 있습니다.",
    ],
    bullets=[
        "주요 고객층의 수요는 **안정적**입니다",
        "단위 비용이 전 분기 대비 약 8% 올랐습니다",
        "공급업체 두 곳에 위험이 집중되어 있습니다",
        "하반기 채용 계획은 예정대로 진행 중입니다",
        "현금 여력은 계획을 감당할 만큼 충분합니다",
        "미처리 업무는 줄고 있으나 계획보다 느립니다",
        "고객 이탈률은 업계 평균보다 낮습니다",
    ],
    steps=[
        "다음 검토 전에 재무팀과 수치를 확인합니다",
        "예산을 정해 4주 동안 시범 운영합니다",
        "결정 책임자와 기한을 한 명, 한 날짜로 정합니다",
        "진행 상황을 매주 하나의 대시보드로 보고합니다",
        "수요가 10% 넘게 줄면 계획을 다시 검토합니다",
    ],
)


def is_echo(prompt: str) -> bool:
    """A short one-line English prompt with no report or length asked for: the plain echo."""
    words = prompt.split()
    return (
        len(words) <= ECHO_WORDS
        and "\n" not in prompt.strip()
        and not HANGUL.search(prompt)
        and not REPORT_WORDS.search(prompt)
        and not LENGTH_ASKED.search(prompt)
    )


def echo(model: str, prompt: str) -> str:
    words = prompt.split()
    summary = " ".join(words[:ECHO_WORDS]) + (" …" if len(words) > ECHO_WORDS else "")
    return f"[emulated {model}] {summary or '(empty prompt)'}"


def compose(model: str, prompt: str, max_tokens: int | None = None) -> str:
    """A Markdown answer to `prompt`: the echo for a short English prompt, else composed."""
    if is_echo(prompt):
        return echo(model, prompt)
    topic = _topic(prompt)
    bank = KO if HANGUL.search(topic) else EN
    rng = random.Random(hashlib.blake2b(f"{model}\x00{prompt}".encode(), digest_size=8).digest())
    target = _target_words(prompt, max_tokens)
    if REPORT_WORDS.search(prompt) or len(prompt.split()) > 40:
        return _report(bank, topic, rng, target)
    return _plain(bank, topic, rng, target)


def _topic(prompt: str) -> str:
    """What the answer is about: the CEO's command in a chain prompt, else the first line."""
    match = COMMAND_LINE.search(prompt)
    line = match.group(1) if match else next((ln for ln in prompt.splitlines() if ln.strip()), "")
    text = EMPHASIS_UNDERSCORE.sub("", re.sub(r"[#*`>\[\]]", "", line)).strip()
    words = text.split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "") if words else "the request"


def _target_words(prompt: str, max_tokens: int | None) -> int:
    asked = LENGTH_ASKED.search(prompt)
    if asked:
        count = int(asked.group(1))
        target = count // 3 if asked.group(2) in ("자", "글자") else count  # Korean counts characters
    else:
        target = REPORT_WORDS_DEFAULT if REPORT_WORDS.search(prompt) else PLAIN_WORDS_DEFAULT
    if max_tokens:
        target = min(target, int(max_tokens * WORDS_PER_TOKEN))
    return max(8, min(target, 4000))


def _report(bank: Bank, topic: str, rng: random.Random, target: int) -> str:
    blocks: list[str] = []
    count = 0
    section = 0
    while count < target:
        heading, kind = bank.headings[section % len(bank.headings)]
        if section >= len(bank.headings):
            heading += f" ({section // len(bank.headings) + 1})"
        body = _block(bank, kind, rng, lead=bank.lead.format(topic=topic) if section == 0 else "")
        blocks.append(f"### {heading}\n\n{body}")
        count += len(heading.split()) + len(body.split())
        section += 1
    return "\n\n".join(blocks)


def _block(bank: Bank, kind: str, rng: random.Random, lead: str) -> str:
    if kind == "bullets":
        return "\n".join(f"- {b}" for b in rng.sample(bank.bullets, 3))
    if kind == "steps":
        return "\n".join(f"{i}. {s}" for i, s in enumerate(rng.sample(bank.steps, 3), start=1))
    return " ".join(filter(None, [lead, *rng.sample(bank.sentences, 2)]))


def _plain(bank: Bank, topic: str, rng: random.Random, target: int) -> str:
    sentences = [bank.lead.format(topic=topic)]
    while sum(len(s.split()) for s in sentences) < target:
        sentences.append(bank.sentences[rng.randrange(len(bank.sentences))])
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return "\n\n".join(paragraphs)
