"""Which department a command goes to (pure): keyword rules first, a model classifier otherwise.

Keywords match whole words, never substrings (LESSONS W20: "주식시장" hit CSO's "시장", "VIP" hit
CLO's "IP", "회의록" and "전체적으로" started a broadcast):

- The text is NFKC-normalized and case-folded, then cut into tokens: runs of Hangul, or runs of
  other letters and digits. Punctuation, spaces and underscores separate tokens, and so does a
  change of script ("IP분쟁" is "ip" + "분쟁"; "VIP" stays "vip").
- A keyword matches a token equal to it, or equal to it followed by one Korean particle from
  `PARTICLES` ("시장을" matches "시장"; "주식시장" and "회의록" match neither "시장" nor "회의").
- A keyword of several words ("모든 부서", "all departments") matches that run of tokens; the
  particle may follow only the last word ("모든 부서에").

Among the rules that match, the highest priority wins; a tie goes to the longer keyword (the
more specific), then to the department listed first in the org, then to the rule listed first.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from corthex.domain.org import Department, KeywordRule, Org

# Korean particles (조사) and a few suffixes that may follow a keyword in the same token.
# Longer forms are listed on their own: the suffix must equal one entry exactly.
PARTICLES: frozenset[str] = frozenset(
    {
        "은",
        "는",
        "이",
        "가",
        "을",
        "를",
        "의",
        "에",
        "에서",
        "에게",
        "께",
        "께서",
        "한테",
        "에게서",
        "로",
        "으로",
        "와",
        "과",
        "랑",
        "이랑",
        "하고",
        "도",
        "만",
        "부터",
        "까지",
        "보다",
        "처럼",
        "마다",
        "나",
        "이나",
        "든",
        "이든",
        "라도",
        "이라도",
        "요",
        "별",
        "별로",
        "에는",
        "에서는",
        "에도",
        "에서도",
        "에게는",
        "으로는",
        "로는",
        "으로도",
        "로도",
        "와는",
        "과는",
        "와의",
        "과의",
        "에서의",
        "으로의",
        "로의",
        "까지는",
        "부터는",
        "만은",
        "만이",
        "도요",
    }
)

_HANGUL = "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff"
_TOKEN = re.compile(rf"[{_HANGUL}]+|[^\W_{_HANGUL}]+")
_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a command goes, and why."""

    department_id: str
    keyword: str  #: the keyword that matched; "" when a classifier decided
    method: str = "keyword"  #: "keyword", "classifier" or "fallback"
    reason: str = ""  #: the classifier's reason, or why it fell back


def tokenize(text: str) -> tuple[str, ...]:
    """The text's words as the keyword rules see them (normalized, case-folded)."""
    return tuple(_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold()))


@lru_cache(maxsize=4096)
def _keyword_tokens(keyword: str) -> tuple[str, ...]:
    return tokenize(keyword)


def _word_matches(token: str, word: str) -> bool:
    return token == word or (token.startswith(word) and token[len(word) :] in PARTICLES)


def keyword_matches(keyword: str, tokens: tuple[str, ...]) -> bool:
    """Whether `keyword` occurs as whole words in `tokens` (from `tokenize`)."""
    words = _keyword_tokens(keyword)
    if not words:
        return False
    *head, last = words
    n = len(words)
    for i in range(len(tokens) - n + 1):
        if list(tokens[i : i + n - 1]) == head and _word_matches(tokens[i + n - 1], last):
            return True
    return False


def _rank(match: tuple[int, int, KeywordRule]) -> tuple[int, int, int, int]:
    dept_index, rule_index, rule = match
    return (-rule.priority, -len(rule.keyword), dept_index, rule_index)


def classify_by_keywords(org: Org, text: str) -> Route | None:
    """The department whose best keyword rule matches `text`; None when no rule matches."""
    tokens = tokenize(text)
    matches = [
        (d, r, rule)
        for d, dept in enumerate(org.departments)
        for r, rule in enumerate(dept.keywords)
        if keyword_matches(rule.keyword, tokens)
    ]
    if not matches:
        return None
    dept_index, _, rule = min(matches, key=_rank)
    return Route(org.departments[dept_index].id, rule.keyword)


def is_broadcast(org: Org, text: str) -> str | None:
    """The broadcast keyword `text` contains (the longest, then the first listed), or None."""
    tokens = tokenize(text)
    found = [k for k in org.broadcast_keywords if keyword_matches(k, tokens)]
    return max(found, key=len) if found else None


def validate_route(org: Org, department_id: str) -> str:
    """`department_id` when it names a department, else the chief of staff's id."""
    return department_id if department_id in org.department_ids else org.chief_of_staff


# -- the model classifier ---------------------------------------------------------------------


def classification_schema(org: Org) -> dict[str, Any]:
    """The JSON schema the classifier's answer must follow."""
    return {
        "type": "object",
        "properties": {
            "department": {"type": "string", "enum": list(org.department_ids)},
            "reason": {"type": "string"},
        },
        "required": ["department", "reason"],
        "additionalProperties": False,
    }


def _remit_line(dept: Department) -> str:
    return f"- {dept.id}: {dept.name}. {dept.describe()}"


def classification_prompt(org: Org) -> str:
    """The classifier's system prompt: the departments, their remits, and the answer's form."""
    departments = "\n".join(_remit_line(d) for d in org.departments)
    return (
        "You route a CEO's command to the one department of an AI organization best placed to "
        f"handle it.\n\nDepartments:\n{departments}\n\n"
        'Answer with a JSON object only: {"department": "<one id from the list>", '
        '"reason": "<one short sentence>"}. '
        f'When no department clearly fits, answer "{org.chief_of_staff}".'
    )


def _outermost_object(text: str) -> Any:
    body = _FENCE.sub("", text)
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        return json.loads(body[start : end + 1])
    except ValueError:
        return None


def parse_classification(org: Org, text: str) -> Route:
    """The classifier's answer as a route; anything unparseable or unknown → the chief of staff."""
    data = _outermost_object(text)
    if not isinstance(data, dict) or not isinstance(data.get("department"), str):
        return Route(org.chief_of_staff, "", "fallback", "the classifier's answer was not understood")
    answer = data["department"].strip()
    reason = data.get("reason")
    reason = reason if isinstance(reason, str) else ""
    known = {d.casefold(): d for d in org.department_ids}
    if answer.casefold() not in known:
        return Route(org.chief_of_staff, "", "fallback", f"unknown department {answer!r}")
    return Route(known[answer.casefold()], "", "classifier", reason)
