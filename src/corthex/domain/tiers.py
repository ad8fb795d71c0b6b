"""The tiers a request can be answered on, cheapest and slowest first (docs/providers.md, tiers).

`batch`: the provider's Batch API (half price, minutes to a day); `flex`: OpenAI's flex processing,
a realtime call answered slower and sometimes refused (429), priced at the batch rates; `realtime`:
the standard realtime API at the full price.
"""

from __future__ import annotations

import enum


class Tier(enum.StrEnum):
    BATCH = "batch"
    FLEX = "flex"
    REALTIME = "realtime"
