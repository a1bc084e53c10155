# -*- test-case-name: tests.unit.test_logoutput -*-
"""twisted.logger observers that write LMS log lines (SPEC §8, ``[log]``).

``[log] verbose`` picks the most detailed LMS level written at all; the output
options ``all``, ``standard``, ``interaction``, ``trace`` and ``debug`` name
where each group of levels goes (``stdout``, ``stderr`` or a file path, comma
separated), as in the Genesys log section:

=============  =====================================
output option  levels it receives
=============  =====================================
all            every level
standard       Alarm, Standard
interaction    Alarm, Standard, Interaction
trace          Alarm, Standard, Interaction, Trace
debug          every level
=============  =====================================

A destination named by several options is opened once and receives the union
of their levels, so a line is never written twice to the same place.

:func:`build_observers` returns the observers; starting logging
(``globalLogBeginner.beginLoggingTo(observers, redirectStandardIO=...)``) is
the caller's job.  ``stdout``/``stderr`` are captured when the observers are
built, so build them *before* ``beginLoggingTo`` redirects standard I/O into
the log; otherwise every line would loop back into logging.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any, Callable, Iterable, Mapping

from twisted.logger import ILogObserver
from zope.interface import implementer

from csta_connector.lms import (
    LEVELS,
    LogDetail,
    event_text,
    format_time,
    lms_id_of,
    lms_level_of,
    render_line,
)

#: ``[log] verbose`` value -> the LMS levels it lets through.
VERBOSE_LEVELS: Mapping[str, frozenset[str]] = {
    "none": frozenset(),
    "standard": frozenset(LEVELS[:2]),
    "interaction": frozenset(LEVELS[:3]),
    "trace": frozenset(LEVELS[:4]),
    "debug": frozenset(LEVELS),
    "all": frozenset(LEVELS),
}

#: ``[log]`` output option -> the LMS levels its destinations receive.
OUTPUT_LEVELS: Mapping[str, frozenset[str]] = {
    "all": frozenset(LEVELS),
    "standard": frozenset(LEVELS[:2]),
    "interaction": frozenset(LEVELS[:3]),
    "trace": frozenset(LEVELS[:4]),
    "debug": frozenset(LEVELS),
}

FORMATS = ("text", "json")

# Keys of an event that are bookkeeping, not the emitter's fields: twisted's
# log_* keys, our lms_* keys, and what the legacy twisted.python.log bridge adds.
_LEGACY_KEYS = frozenset({"message", "isError", "system", "time", "format", "why", "failure"})


class LogOutputError(ValueError):
    """A log destination could not be opened; ``str`` is one line."""


def event_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The structured fields the emitter gave, without bookkeeping keys."""
    return {
        key: value
        for key, value in event.items()
        if not key.startswith(("log_", "lms_")) and key not in _LEGACY_KEYS
    }


def format_text_line(event: Mapping[str, Any]) -> str:
    """One text line (plus a traceback, if any) ending in a newline."""
    return render_line(event) + "\n"


def format_json_line(event: Mapping[str, Any]) -> str:
    """One JSON object per line: time, level, id, text, fields (+ traceback)."""
    record: dict[str, Any] = {
        "time": format_time(event.get("log_time")),
        "level": lms_level_of(event),
        "id": lms_id_of(event),
        "text": event_text(event),
        "fields": event_fields(event),
    }
    namespace = event.get("log_namespace")
    if namespace:
        record["namespace"] = namespace
    failure = event.get("log_failure")
    if failure is not None:
        try:
            record["traceback"] = failure.getTraceback()
        except Exception:
            record["traceback"] = repr(failure)
    try:
        text = json.dumps(record, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        # Non-string dict keys or similar in a field: fall back to reprs so
        # a log call never fails.
        record["fields"] = {str(k): repr(v) for k, v in record["fields"].items()}
        text = json.dumps(record, default=str, ensure_ascii=False)
    return text + "\n"


FORMATTERS: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "text": format_text_line,
    "json": format_json_line,
}


@implementer(ILogObserver)
class LmsOutputObserver:
    """Writes the events whose LMS level is in ``levels`` to one stream."""

    def __init__(
        self,
        stream: IO[str],
        levels: Iterable[str],
        formatter: Callable[[Mapping[str, Any]], str] = format_text_line,
        name: str = "",
        owns_stream: bool = False,
    ) -> None:
        self.stream = stream
        self.levels = frozenset(levels)
        self.name = name
        self._formatter = formatter
        self._owns_stream = owns_stream

    def __call__(self, event: Mapping[str, Any]) -> None:
        if lms_level_of(event) not in self.levels:
            return
        self.stream.write(self._formatter(event))
        # Flush per event: operators tail these files, and a crash must not
        # lose the lines that explain it.
        self.stream.flush()

    def close(self) -> None:
        """Close the stream if this observer opened it (files, not stdout)."""
        if self._owns_stream and not self.stream.closed:
            self.stream.close()

    def __repr__(self) -> str:
        return "<LmsOutputObserver %s %s>" % (
            self.name or self.stream,
            "/".join(level for level in LEVELS if level in self.levels),
        )


def destination_levels(log: Any) -> dict[str, frozenset[str]]:
    """Destination -> LMS levels it receives, from a ``LogSection``.

    ``log`` has ``verbose`` and one tuple of destinations per output option
    (``all``, ``standard``, ``interaction``, ``trace``, ``debug``).
    Destinations that end up with no level are left out.
    """
    allowed = VERBOSE_LEVELS[log.verbose]
    levels: dict[str, set[str]] = {}
    for option, option_levels in OUTPUT_LEVELS.items():
        for destination in getattr(log, option, ()) or ():
            levels.setdefault(destination, set()).update(option_levels & allowed)
    return {dest: frozenset(lv) for dest, lv in levels.items() if lv}


def build_observers(
    log: Any,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    open_file: Callable[[str], IO[str]] | None = None,
) -> list[LmsOutputObserver]:
    """The observers that implement ``log`` (a ``config.LogSection``).

    ``stdout``/``stderr`` default to ``sys.stdout``/``sys.stderr`` *now*;
    ``open_file`` (default: append, UTF-8, line buffered) opens file paths.
    Raises :class:`LogOutputError` when a file cannot be opened (observers
    already built are closed first).  Call ``close()`` on each observer when
    logging stops.
    """
    formatter = FORMATTERS[log.format]
    if open_file is None:
        open_file = _append
    streams = {
        "stdout": stdout if stdout is not None else sys.stdout,
        "stderr": stderr if stderr is not None else sys.stderr,
    }
    observers: list[LmsOutputObserver] = []
    for destination, levels in destination_levels(log).items():
        if destination in streams:
            observers.append(
                LmsOutputObserver(streams[destination], levels, formatter, destination)
            )
            continue
        try:
            stream = open_file(destination)
        except OSError as e:
            for observer in observers:
                observer.close()
            raise LogOutputError(
                "[log] cannot open log output %s: %s" % (destination, e.strerror or e)
            ) from e
        observers.append(
            LmsOutputObserver(stream, levels, formatter, destination, owns_stream=True)
        )
    return observers


def levels_written(observers: Iterable[LmsOutputObserver]) -> frozenset[str]:
    """Every LMS level some of ``observers`` writes."""
    return frozenset().union(*(observer.levels for observer in observers))


def log_detail(observers: Iterable[LmsOutputObserver]) -> LogDetail:
    """The :class:`~csta_connector.lms.LogDetail` of these outputs, for the
    code that emits (it skips building lines no output writes)."""
    return LogDetail(levels_written(observers))


def _append(path: str) -> IO[str]:
    return open(path, "a", encoding="utf-8", buffering=1)
