"""The LMS catalog, emit() and the log-line renderer (SPEC §8)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure

from csta_connector import lms

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lms.md"


def capture():
    events: list[dict] = []
    return Logger(namespace="test", observer=events.append), events


def test_37205_is_fixed():
    message = lms.CALL_PARTY_NOT_SYNCHRONIZED
    assert message.id == 37205
    assert message.level == "Standard"
    assert message.template == (
        "Call party not synchronized: device {device}, call {call_id}, party {party}, cleared"
    )


def test_render_line_37205_exactly():
    log, events = capture()
    lms.emit(log, lms.CALL_PARTY_NOT_SYNCHRONIZED,
             device="2002", call_id="5:1", party="callhalf-7:0")
    events[0]["log_time"] = 1795555800.123  # 2026-11-24T21:30:00.123Z
    assert lms.render_line(events[0]) == (
        "2026-11-24T21:30:00.123Z Std 37205 Call party not synchronized: "
        "device 2002, call 5:1, party callhalf-7:0, cleared"
    )


def test_emit_carries_id_level_fields_and_template():
    log, events = capture()
    lms.emit(log, lms.LINK_CONNECTED, link="xsp1", host="10.0.0.1", port=8011)
    (event,) = events
    assert event["lms_id"] == 37102
    assert event["lms_level"] == "Standard"
    assert event["log_format"] == lms.LINK_CONNECTED.template
    assert (event["link"], event["host"], event["port"]) == ("xsp1", "10.0.0.1", 8011)
    assert event["log_level"] is LogLevel.warn
    assert lms.is_message(event, lms.LINK_CONNECTED)
    assert not lms.is_message(event, lms.LINK_LOST)
    assert lms.lms_id_of(event) == 37102 and lms.lms_level_of(event) == "Standard"


@pytest.mark.parametrize(
    "level, twisted_level",
    [("Alarm", LogLevel.critical), ("Standard", LogLevel.warn),
     ("Interaction", LogLevel.info), ("Trace", LogLevel.info), ("Debug", LogLevel.debug)],
)
def test_level_mapping(level, twisted_level):
    message = next(m for m in lms.CATALOG.values() if m.level == level)
    log, events = capture()
    lms.emit(log, message, **{name: "x" for name in message.field_names})
    assert events[0]["log_level"] is twisted_level
    assert lms.render_line(events[0]).split(" ")[1] == lms.LEVEL_ABBREVIATIONS[level]


def test_line_shape_for_every_catalog_entry():
    shape = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (Alr|Std|Int|Trc|Dbg) (\d+) (.+)$")
    for message in lms.CATALOG.values():
        log, events = capture()
        lms.emit(log, message, **{name: "v" for name in message.field_names})
        match = shape.match(lms.render_line(events[0]))
        assert match, message
        assert int(match.group(2)) == message.id
        assert match.group(1) == message.abbreviation
        assert "Unable to format" not in match.group(3)


def test_non_lms_events_render_with_id_0():
    log, events = capture()
    log.info("Starting factory {factory!r}", factory="F")
    log.warn("careful")
    log.debug("detail")
    lines = [lms.render_line(e) for e in events]
    assert lines[0].split(" ", 3)[1:] == ["Trc", "0", "Starting factory 'F'"]
    assert lines[1].split(" ", 3)[1:] == ["Std", "0", "careful"]
    assert lines[2].split(" ", 3)[1:] == ["Dbg", "0", "detail"]


def test_failure_adds_traceback_after_the_line():
    log, events = capture()
    try:
        1 / 0
    except ZeroDivisionError:
        lms.emit(log, lms.BROADWORKS_REQUEST_FAILED, failure=Failure(), link="a",
                 request="DialRequest", request_id=3, status=500, reason="boom")
    first, *rest = lms.render_line(events[0]).split("\n")
    assert first.endswith("Trc 37120 Link a: BroadWorks request DialRequest (requestId 3) "
                          "failed: 500 boom")
    assert any("ZeroDivisionError" in line for line in rest)


def test_legacy_failure_via_log_failure():
    log, events = capture()
    try:
        raise ValueError("x")
    except ValueError:
        log.failure("Unhandled")
    line = lms.render_line(events[0])
    assert line.split(" ", 3)[1:3] == ["Alr", "0"]
    assert "ValueError" in line


def test_format_time():
    assert lms.format_time(0) == "1970-01-01T00:00:00.000Z"
    assert lms.format_time(1795555800.123) == "2026-11-24T21:30:00.123Z"
    assert lms.format_time(1.9996) == "1970-01-01T00:00:02.000Z"


def test_ids_unique_and_names_complete():
    messages = [v for v in vars(lms).values() if isinstance(v, lms.LmsMessage)]
    ids = [m.id for m in messages]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == list(lms.CATALOG)
    assert set(lms.NAMES) == set(lms.CATALOG)
    for message_id, name in lms.NAMES.items():
        assert getattr(lms, name) is lms.CATALOG[message_id]


def test_numbering_scheme():
    for message in lms.CATALOG.values():
        assert 37000 <= message.id < 37500
        if message.level == "Debug":
            assert message.id % 100 >= 90


def test_reserved_field_names_rejected():
    with pytest.raises(ValueError):
        lms.LmsMessage(1, "Standard", "bad {format}")
    with pytest.raises(ValueError):
        lms.LmsMessage(1, "Standard", "bad {log_time}")
    with pytest.raises(ValueError):
        lms.LmsMessage(1, "Loud", "bad level")


def test_text_is_pure_formatting():
    assert lms.CHANNEL_TERMINATED.text(link="a", channel_id="c1") == (
        "Link a: channel c1 terminated by BroadWorks"
    )


def test_operational_messages_present():
    # The brief's list of operational messages, by symbolic name.
    for name in [
        "LINK_CONNECTING", "LINK_CONNECTED", "LINK_LOST", "LINK_RECOVERED", "ALL_LINKS_DOWN",
        "LINK_UNRESPONSIVE", "CHANNEL_ADDED", "CHANNEL_ADD_FAILED", "CHANNEL_TERMINATED",
        "SUBSCRIPTION_ADDED", "SUBSCRIPTION_REMOVED", "SUBSCRIPTION_FAILED",
        "SUBSCRIPTION_RENEWED", "SUBSCRIPTION_TERMINATED", "SEQUENCE_GAP",
        "SNAPSHOT_REQUESTED", "SNAPSHOT_COMPLETED", "SNAPSHOT_TIMED_OUT",
        "SYNCHRONIZATION_SUMMARY", "CALL_PARTY_NOT_SYNCHRONIZED", "CLIENT_CONNECTED",
        "CLIENT_DISCONNECTED", "CLIENT_ENCODING_DETECTED", "CLIENT_SESSION_STARTED",
        "CSTA_REQUEST_FAILED", "MALFORMED_CLIENT_FRAME", "MALFORMED_BROADWORKS_DOCUMENT",
        "UNKNOWN_XSI_EVENT", "BROADWORKS_REQUEST_FAILED", "BROADWORKS_REQUEST_TIMED_OUT",
        "SYSTEM_STATUS_SENT", "SIMULATOR_STARTED", "SIMULATOR_FAILOVER", "SIMULATOR_XSP_DOWN",
        "SIMULATOR_XSP_UP", "CONFIGURATION_LOADED", "METRICS_LISTENING",
        "CONNECTOR_STARTED", "CONNECTOR_STOPPED",
    ]:
        assert isinstance(getattr(lms, name), lms.LmsMessage), name


def _docs_rows():
    rows = {}
    row = re.compile(r"^\| (\d+) \| (\w+) \| `(\w+)` \| `(.*)` \|$")
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = row.match(line)
        if match:
            message_id = int(match.group(1))
            assert message_id not in rows, "docs/lms.md lists %d twice" % message_id
            rows[message_id] = match.groups()[1:]
    return rows


def test_docs_list_the_catalog_exactly():
    rows = _docs_rows()
    assert set(rows) == set(lms.CATALOG), "docs/lms.md and lms.CATALOG differ"
    for message_id, (level, name, template) in rows.items():
        message = lms.CATALOG[message_id]
        assert (level, name, template) == (message.level, lms.NAMES[message_id],
                                           message.template)


def test_per_event_lines_are_wanted_only_when_some_output_writes_them():
    from csta_connector.config import LogSection
    from csta_connector.logoutput import build_observers, log_detail

    def detail(verbose):
        section = LogSection(verbose=verbose, all=("stdout",), standard=(), interaction=(), trace=(),
                             debug=(), format="text")
        wanted = log_detail(build_observers(section, stdout=io.StringIO()))
        return [message.id for message in (lms.CALL_PARTY_NOT_SYNCHRONIZED, lms.CSTA_EVENT_SENT,
                                           lms.BROADWORKS_REQUEST_FAILED, lms.CSTA_FRAME_SENT)
                if wanted.wants(message)]

    assert detail("standard") == [37205]
    assert detail("interaction") == [37205, 37321]
    assert detail("trace") == [37205, 37321, 37120]
    assert detail("all") == [37205, 37321, 37120, 37391]
    assert detail("none") == []
    # without a log setup, everything is wanted (the global publisher sees it all)
    assert all(lms.EVERY_LEVEL.wants(message) for message in lms.CATALOG.values())


# What writes a line without a catalog id: a logger's own methods, and the two
# other logging systems.
_LOGGER_METHODS = frozenset({"debug", "info", "warn", "warning", "error", "critical", "failure",
                             "exception", "msg", "err", "emit"})


def _is_logger(owner):
    """Whether the expression ``owner`` names a logger: ``log``, ``self._log``,
    ``self.link_logger``, ``Logger()`` ... (not ``self.catalog``)."""
    import ast

    if isinstance(owner, ast.Call):
        func = owner.func
        return (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) == "Logger"
    name = (owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")).lower()
    return name.strip("_") in ("log", "logger") or name.endswith(("_log", "_logger"))


def _non_lms_log_calls(source):
    """(line, code) of every place in a module's ``source`` that would write a
    line with id 0: a logger's method called or passed on (``log.info(...)``,
    ``d.addErrback(self.log.failure)``, a raw ``log.emit``), or the stdlib
    ``logging`` / legacy ``twisted.python.log`` imported."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            bad = node.attr in _LOGGER_METHODS and _is_logger(node.value)
        elif isinstance(node, ast.Import):
            bad = any(alias.name.split(".")[0] == "logging" or alias.name == "twisted.python.log"
                      for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            bad = (module.split(".")[0] == "logging" or module == "twisted.python.log"
                   or (module == "twisted.python" and any(a.name == "log" for a in node.names)))
        else:
            continue
        if bad:
            found.append((node.lineno, ast.unparse(node)[:60]))
    return found


def test_the_scan_finds_lines_without_an_id_and_only_those():
    source = """
import logging
from twisted.python import log as legacy
from twisted.logger import Logger
from csta_connector import lms
log = Logger()

class C:
    _log = Logger()
    link_logger = Logger()

    def f(self, d):
        log.info("a {x}", x=1)
        self._log.warn("b")
        self.link_logger.debug("c")
        Logger().error("d")
        d.addErrback(self.log.failure, "e")
        self.log.emit(None, "f")
        lms.emit(self.log, lms.LINK_LOST, link="l")
        self.catalog.info("not a logger")
        self.emit("CallReleasedEvent", record)
"""
    found = _non_lms_log_calls(source)
    assert [line for line, _ in found] == [2, 3, 13, 14, 15, 16, 17, 18], found


def test_every_line_of_the_connector_has_a_catalog_id():
    # lms.emit everywhere, the BroadWorks simulator included; id 0 is left to
    # what Twisted itself logs. lms.py is where lms.emit hands the line to the
    # logger (logger.emit), so it alone is not scanned.
    package = Path(__file__).resolve().parents[2] / "csta_connector"
    offenders = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative == "lms.py":
            continue
        calls = _non_lms_log_calls(path.read_text(encoding="utf-8"))
        if calls:
            offenders[relative] = calls
    assert offenders == {}
    # ... and the scan would see it there
    assert [code for _, code in _non_lms_log_calls((package / "lms.py").read_text(encoding="utf-8"))] \
        == ["logger.emit"]
