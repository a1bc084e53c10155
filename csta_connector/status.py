"""The system status the connector shows its CSTA clients (ECMA-269 SystemStatus).

``normal`` while at least one BroadWorks link is up, ``disabled`` otherwise
(SPEC §3, genesys-connector.md §6). The services set it from the channel
set's link state; the CSTA listener observes it and tells every session.
Built first and handed to both in their constructors, so neither calls up
into the other.
"""

from __future__ import annotations

import enum
from typing import Callable


class Status(enum.StrEnum):
    """The ECMA-269 SystemStatus values the connector reports."""

    NORMAL = "normal"
    DISABLED = "disabled"


NORMAL = Status.NORMAL
DISABLED = Status.DISABLED


class SystemStatus:
    def __init__(self, status: str = DISABLED):
        self.status = Status(status)
        self._observers: list[Callable[[str], None]] = []

    def add_observer(self, observer: Callable[[str], None]) -> None:
        """``observer(status)`` is called on every change (not for the current one)."""
        self._observers.append(observer)

    def remove_observer(self, observer: Callable[[str], None]) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def set(self, status: str) -> None:
        status = Status(status)
        if status is self.status:
            return
        self.status = status
        for observer in list(self._observers):
            observer(status)

    def links_changed(self, up_links: int) -> None:
        """While one link is up nothing changes for clients."""
        self.set(NORMAL if up_links else DISABLED)
