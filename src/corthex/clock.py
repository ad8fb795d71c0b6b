"""The clock every worker judges leases and due times by: the database's, not its host's.

Workers on several hosts share one database; a host whose clock runs ahead would see every
lease as run out and take over work still in hand (issue 12: a worker ten minutes ahead
adopted a batch its creator was still creating). Each process measures how far its clock is
from the database's when its engine starts (and again now and then) and reads time through
`now()`, which is the host's clock corrected by that offset.
"""

from __future__ import annotations

import time

#: seconds to add to the host's clock to read the database's
_offset = 0.0


def now() -> float:
    """Seconds since the epoch, by the database's clock (as last measured)."""
    return time.time() + _offset


def follow(database_time: float, sent_at: float, received_at: float) -> float:
    """Take the database's time, read by a query sent at `sent_at` and answered at
    `received_at` (host clock), as the reference; returns the offset now in force."""
    global _offset
    _offset = database_time - (sent_at + received_at) / 2  # the answer was read mid-way, on average
    return _offset
