"""The progress hook that long-running functions take: the CLI passes a rich progress bar, others nothing."""

from __future__ import annotations

from typing import Callable, Iterable, Optional

Track = Callable[..., Iterable]


def no_track(items: Iterable, description: str = "", total: Optional[int] = None) -> Iterable:
    """A progress hook that shows nothing."""
    return items
