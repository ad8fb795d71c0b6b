"""What CORTHEX says to people, in Korean and English: one catalogue (pure, no I/O).

`text(lang, key, **values)` fills a string of the catalogue; every language has every key
(tests/unit/test_i18n.py). The Telegram bot speaks the language `choose_language` picks; the
dashboard gets its part (the `dash.*` keys, from `corthex.i18n_dashboard`, and the `step.*` names)
from GET /i18n (`dashboard_strings`); the CLI stays English.

Strings that end up in Telegram HTML are plain text here: the bot escapes them (`telegram/messages.py`),
except the few keys ending in `_html`, whose values are HTML already (their fields are escaped by
the caller).
"""

from __future__ import annotations

from typing import Final

from corthex import i18n_dashboard

LANGUAGES: Final = ("ko", "en")
DEFAULT: Final = "en"
#: the time zone that makes Korean the default (CORTHEX_TIMEZONE), unless CORTHEX_LANGUAGE says otherwise
KOREAN_TIMEZONE: Final = "Asia/Seoul"

EN: dict[str, str] = {
    # commands (the bot's menu)
    "cmd.batch": "Run a chain on the Batch APIs",
    "cmd.rt": "Run a chain in realtime",
    "cmd.broadcast": "Every department works on a command",
    "cmd.status": "Running chains",
    "cmd.budget": "Today's cost against the budget",
    "cmd.cancel": "Stop a chain: /cancel <chain id>",
    "cmd.report": "A chain's report: /report <chain id>",
    "cmd.help": "The commands",
    "help_html": "\n".join(
        [
            "<b>CORTHEX commands</b>",
            "/batch &lt;command&gt; — run a chain on the Batch APIs (about half the price, slower)",
            "/rt &lt;command&gt; — run a chain in realtime",
            "/broadcast &lt;command&gt; — every department works on it, plus a chief-of-staff summary",
            "/status — running chains: id, step, departments, elapsed time",
            "/budget — today's cost against the daily budget",
            "/cancel &lt;chain id&gt; — stop a chain; the report of what it has follows",
            "/report &lt;chain id&gt; — a chain's report (again)",
            "/help — this list",
            "",
            "Plain text starts a batch chain too (or “실시간 &lt;command&gt;” for realtime).",
            "Progress and the final report come to this chat.",
        ]
    ),
    "usage": "Usage: {usage}",
    "usage.command": "command",
    "unknown_command": "Unknown command. Send /help for the commands.",
    "cancel.done": (
        "⏹ Chain <code>{chain_id}</code> canceled at step <b>{step}</b>: "
        "{canceled} requests canceled, {done} already done."
    ),
    "report.not_yet": (
        "Chain <code>{chain_id}</code> is {status} at step <b>{step}</b>: no report yet. "
        "/cancel {chain_id} stops it and sends what it has."
    ),
    "start_failed": "❌ The chain was not started: {reason}",
    "internal_error": "an internal error (it is logged)",
    # /status
    "status.none": "No chains are running.",
    "status.title": "Running chains: {count}",
    "status.step": "step",
    "status.more": "… and more; the dashboard lists them all.",
    "to_be_classified": "to be classified",
    # /budget
    "budget.where": "Today in {timezone} (since 00:00)",
    "budget.held": "; open jobs will still cost ~{held}",
    "budget.no_budget": "{where}: spent {spent}{held}.\nNo daily budget set (CORTHEX_DAILY_BUDGET_USD).",
    "budget.left": "{left} left",
    "budget.over": "over by {over}",
    "budget.line": "{where}: spent {spent} of the {budget} daily budget{share}{held}; {rest}.",
    # modes
    "mode.batch": "batch",
    "mode.realtime": "realtime",
    "mode.broadcast": "broadcast",
    # the report
    "report.title": "Report of chain",
    "report.empty": "(empty report)",
    "cost.no_saving": "💰 cost {cost} (no batch saving)",
    "cost.saving": "💰 cost {cost} · realtime price {realtime} · saved {saving} ({share})",
    # progress (domain/describe.py)
    "progress.title": "Chain {chain_id}",
    "progress.started": "chain {chain_id} started ({mode}), route {route}, first step {step}: “{command}”",
    "progress.route_pending": "to be classified",
    "progress.sent": "▶ {step}: {requests} sent ({models}) — {agents}",
    "progress.requests": "{count} requests",
    "progress.request": "1 request",
    "progress.done": "✔ {step} done{chosen}; next: {next}",
    "progress.chosen": " → departments {departments}",
    "progress.batch": "  ⧗ {provider} batch {remote_id} ({requests})",
    "progress.chain_done": "chain {chain_id} {status}",
    "progress.earlier": "… {count} earlier lines",
    # steps and chain statuses
    "step.classify": "classify",
    "step.delegate": "delegate",
    "step.specialists": "specialists",
    "step.synthesize": "synthesize",
    "step.summary": "summary",
    "step.deliver": "deliver",
    "step.done": "done",
}

KO: dict[str, str] = {
    "cmd.batch": "Batch API로 체인 실행",
    "cmd.rt": "실시간으로 체인 실행",
    "cmd.broadcast": "모든 부서가 함께 작업",
    "cmd.status": "실행 중인 체인",
    "cmd.budget": "오늘 비용과 예산",
    "cmd.cancel": "체인 중지: /cancel <체인 ID>",
    "cmd.report": "체인 보고서: /report <체인 ID>",
    "cmd.help": "명령어 목록",
    "help_html": "\n".join(
        [
            "<b>CORTHEX 명령어</b>",
            "/batch &lt;명령&gt; — Batch API로 체인 실행 (약 절반 가격, 더 느림)",
            "/rt &lt;명령&gt; — 실시간으로 체인 실행",
            "/broadcast &lt;명령&gt; — 모든 부서가 작업하고 비서실장이 요약",
            "/status — 실행 중인 체인: ID, 단계, 부서, 경과 시간",
            "/budget — 오늘 비용과 일일 예산",
            "/cancel &lt;체인 ID&gt; — 체인 중지; 그때까지의 보고서가 이어서 옵니다",
            "/report &lt;체인 ID&gt; — 체인 보고서 (다시 보기)",
            "/help — 이 목록",
            "",
            "그냥 글을 보내도 배치 체인이 시작됩니다 (실시간은 “실시간 &lt;명령&gt;”).",
            "진행 상황과 최종 보고서는 이 채팅으로 옵니다.",
        ]
    ),
    "usage": "사용법: {usage}",
    "usage.command": "명령",
    "unknown_command": "알 수 없는 명령입니다. /help 로 명령어를 확인하세요.",
    "cancel.done": (
        "⏹ 체인 <code>{chain_id}</code> 를 <b>{step}</b> 단계에서 중지했습니다: "
        "요청 {canceled}건 취소, {done}건은 이미 완료."
    ),
    "report.not_yet": (
        "체인 <code>{chain_id}</code> 는 <b>{step}</b> 단계에서 {status} 상태입니다: 아직 보고서가 없습니다. "
        "/cancel {chain_id} 로 중지하면 그때까지의 내용을 보냅니다."
    ),
    "start_failed": "❌ 체인을 시작하지 못했습니다: {reason}",
    "internal_error": "내부 오류 (로그에 기록됨)",
    "status.none": "실행 중인 체인이 없습니다.",
    "status.title": "실행 중인 체인: {count}",
    "status.step": "단계",
    "status.more": "… 더 있습니다. 전체 목록은 대시보드에서 볼 수 있습니다.",
    "to_be_classified": "분류 전",
    "budget.where": "오늘 ({timezone}, 00:00부터)",
    "budget.held": "; 진행 중인 작업에 약 {held} 더 들 예정",
    "budget.no_budget": "{where}: {spent} 사용{held}.\n일일 예산이 설정되지 않았습니다 (CORTHEX_DAILY_BUDGET_USD).",
    "budget.left": "{left} 남음",
    "budget.over": "{over} 초과",
    "budget.line": "{where}: 일일 예산 {budget} 중 {spent} 사용{share}{held}; {rest}.",
    "mode.batch": "배치",
    "mode.realtime": "실시간",
    "mode.broadcast": "전체 부서",
    "report.title": "체인 보고서",
    "report.empty": "(빈 보고서)",
    "cost.no_saving": "💰 비용 {cost} (배치 절감 없음)",
    "cost.saving": "💰 비용 {cost} · 실시간 가격 {realtime} · 절감 {saving} ({share})",
    "progress.title": "체인 {chain_id}",
    "progress.started": "체인 {chain_id} 시작 ({mode}), 경로 {route}, 첫 단계 {step}: “{command}”",
    "progress.route_pending": "분류 예정",
    "progress.sent": "▶ {step}: {requests} 전송 ({models}) — {agents}",
    "progress.requests": "요청 {count}건",
    "progress.request": "요청 1건",
    "progress.done": "✔ {step} 완료{chosen}; 다음: {next}",
    "progress.chosen": " → 부서 {departments}",
    "progress.batch": "  ⧗ {provider} 배치 {remote_id} ({requests})",
    "progress.chain_done": "체인 {chain_id} {status}",
    "progress.earlier": "… 이전 {count}줄 생략",
    "step.classify": "분류",
    "step.delegate": "위임",
    "step.specialists": "전문가",
    "step.synthesize": "종합",
    "step.summary": "요약",
    "step.deliver": "전달",
    "step.done": "완료",
}

EN.update({f"dash.{key}": value for key, value in i18n_dashboard.EN.items()})
KO.update({f"dash.{key}": value for key, value in i18n_dashboard.KO.items()})

CATALOGUE: Final[dict[str, dict[str, str]]] = {"en": EN, "ko": KO}
#: the prefixes of the keys the dashboard gets (`dash.` is left out of its keys)
DASHBOARD_PREFIX: Final = "dash."
STEP_PREFIX: Final = "step."


def text(lang: str, key: str, **values: object) -> str:
    """The `key` string in `lang` (English for a language we do not have), filled with `values`."""
    table = CATALOGUE.get(lang, EN)
    template = table.get(key) or EN[key]
    return template.format(**values) if values else template


def dashboard_strings(lang: str) -> dict[str, str]:
    """The dashboard's strings in `lang` (English for a language we do not have): the `dash.*`
    keys without their prefix, and the steps' names (`step.*`)."""
    table = CATALOGUE.get(lang, EN)
    strings = {
        key.removeprefix(DASHBOARD_PREFIX): value for key, value in table.items() if key.startswith(DASHBOARD_PREFIX)
    }
    strings.update({key: value for key, value in table.items() if key.startswith(STEP_PREFIX)})
    return strings


def step_name(lang: str, step: str) -> str:
    """A chain step's name in `lang` (the id itself for a step the catalogue does not know)."""
    key = f"step.{step}"
    return text(lang, key) if key in EN else step


def language_of(code: str | None) -> str | None:
    """A language tag (`ko`, `ko-KR`, `en-US`, …) as one of ours, or None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def choose_language(setting: str | None, timezone: str | None, user_code: str | None = None) -> str:
    """The language to speak: CORTHEX_LANGUAGE when set; else Korean in the Asia/Seoul time zone;
    else the Telegram user's `language_code` when we have it; else English."""
    chosen = language_of(setting)
    if chosen:
        return chosen
    if timezone == KOREAN_TIMEZONE:
        return "ko"
    return language_of(user_code) or DEFAULT
