"""LMS log observers: text and JSON lines, verbose filtering, destinations."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from twisted.logger import Logger, LogPublisher

from csta_connector import lms
from csta_connector.config import LogSection
from csta_connector.logoutput import (
    LmsOutputObserver,
    LogOutputError,
    build_observers,
    destination_levels,
    format_json_line,
    format_text_line,
)

DEFAULT_LOG = LogSection(verbose="standard", all=("stdout",), standard=(), interaction=(),
                         trace=(), debug=(), format="text")


def one_of_each_level(log: Logger) -> None:
    lms.emit(log, lms.ALL_LINKS_DOWN, channel_set="cs")
    lms.emit(log, lms.CALL_PARTY_NOT_SYNCHRONIZED, device="2002", call_id="5:1",
             party="callhalf-7:0")
    lms.emit(log, lms.MONITOR_STARTED, client="c1", cross_ref_id=1, device="2001")
    lms.emit(log, lms.LINK_CONNECTING, link="a", host="h", port=8011)
    lms.emit(log, lms.CSTA_FRAME_RECEIVED, client="c1", frame="...")


def run(log_section: LogSection, **streams):
    streams.setdefault("stdout", io.StringIO())
    streams.setdefault("stderr", io.StringIO())
    observers = build_observers(log_section, stdout=streams["stdout"],
                                stderr=streams["stderr"])
    publisher = LogPublisher(*observers)
    one_of_each_level(Logger(namespace="t", observer=publisher))
    return observers, streams


def ids(text: str) -> list[int]:
    return [int(line.split(" ")[2]) for line in text.splitlines()]


@pytest.mark.parametrize(
    "verbose, expected",
    [
        ("none", []),
        ("standard", [37105, 37205]),
        ("interaction", [37105, 37205, 37311]),
        ("trace", [37105, 37205, 37311, 37101]),
        ("debug", [37105, 37205, 37311, 37101, 37390]),
        ("all", [37105, 37205, 37311, 37101, 37390]),
    ],
)
def test_verbose_filtering(verbose, expected):
    _, streams = run(replace(DEFAULT_LOG, verbose=verbose))
    assert ids(streams["stdout"].getvalue()) == expected


def test_outputs_per_level_group():
    log = replace(DEFAULT_LOG, verbose="all", all=("stderr",), standard=("stdout",))
    _, streams = run(log)
    assert ids(streams["stdout"].getvalue()) == [37105, 37205]
    assert ids(streams["stderr"].getvalue()) == [37105, 37205, 37311, 37101, 37390]


def test_same_destination_in_two_options_written_once():
    log = replace(DEFAULT_LOG, verbose="trace", all=("stdout",), trace=("stdout",))
    observers, streams = run(log)
    assert len(observers) == 1
    assert ids(streams["stdout"].getvalue()) == [37105, 37205, 37311, 37101]


def test_verbose_caps_every_output():
    log = replace(DEFAULT_LOG, verbose="standard", all=(), debug=("stdout",))
    assert destination_levels(log) == {"stdout": frozenset({"Alarm", "Standard"})}
    assert destination_levels(replace(log, verbose="none")) == {}


def test_file_outputs(tmp_path):
    standard = tmp_path / "standard.log"
    trace = tmp_path / "trace.log"
    log = replace(DEFAULT_LOG, verbose="all", all=(), standard=(str(standard),),
                  trace=(str(trace),))
    observers, _ = run(log)
    for observer in observers:
        observer.close()
    assert ids(standard.read_text()) == [37105, 37205]
    assert ids(trace.read_text()) == [37105, 37205, 37311, 37101]


def test_file_output_appends(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("earlier line\n")
    observers, _ = run(replace(DEFAULT_LOG, all=(str(path),)))
    for observer in observers:
        observer.close()
    assert path.read_text().splitlines()[0] == "earlier line"
    assert len(path.read_text().splitlines()) == 3


def test_unopenable_file_is_one_line_error(tmp_path):
    missing = str(tmp_path / "no-such-dir" / "x.log")
    with pytest.raises(LogOutputError) as info:
        build_observers(replace(DEFAULT_LOG, all=("stdout", missing)), stdout=io.StringIO())
    assert str(info.value) == (
        "[log] cannot open log output %s: No such file or directory" % missing
    )


def test_close_leaves_stdout_open():
    stream = io.StringIO()
    observer = LmsOutputObserver(stream, {"Standard"}, name="stdout")
    observer.close()
    assert not stream.closed


def test_text_line():
    log_events: list[dict] = []
    lms.emit(Logger(observer=log_events.append), lms.CALL_PARTY_NOT_SYNCHRONIZED,
             device="2002", call_id="5:1", party="callhalf-7:0")
    log_events[0]["log_time"] = 1795555800.123
    assert format_text_line(log_events[0]) == (
        "2026-11-24T21:30:00.123Z Std 37205 Call party not synchronized: device 2002, "
        "call 5:1, party callhalf-7:0, cleared\n"
    )


def test_json_output():
    _, streams = run(replace(DEFAULT_LOG, format="json"))
    lines = streams["stdout"].getvalue().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[1])
    assert record["level"] == "Standard"
    assert record["id"] == 37205
    assert record["text"] == (
        "Call party not synchronized: device 2002, call 5:1, party callhalf-7:0, cleared"
    )
    assert record["fields"] == {"device": "2002", "call_id": "5:1", "party": "callhalf-7:0"}
    assert record["time"].endswith("Z") and "T" in record["time"]
    assert record["namespace"] == "t"


def test_json_survives_odd_fields():
    events: list[dict] = []
    log = Logger(observer=events.append)
    log.info("odd {thing}", thing=object(), keys={(1, 2): "tuple key"})
    record = json.loads(format_json_line(events[0]))
    assert record["id"] == 0
    assert record["level"] == "Trace"
    assert set(record["fields"]) == {"thing", "keys"}


def test_json_failure_has_traceback():
    events: list[dict] = []
    try:
        1 / 0
    except ZeroDivisionError:
        Logger(observer=events.append).failure("boom")
    record = json.loads(format_json_line(events[0]))
    assert record["level"] == "Alarm"
    assert "ZeroDivisionError" in record["traceback"]
