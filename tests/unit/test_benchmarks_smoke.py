"""The benchmark harness's pure parts, and one tiny end-to-end run (no timings asserted)."""

import pytest
import pytest_twisted
from twisted.internet import reactor

from benchmarks import _harness as h
from benchmarks import memory


def test_percentile_interpolates_between_ranks():
    assert h.percentile([], 50) is None
    assert h.percentile([7], 99) == 7.0
    assert h.percentile([1, 2, 3, 4], 50) == 2.5
    assert h.percentile(range(1, 101), 99) == pytest.approx(99.01)
    assert h.percentile([5, 1, 3], 0) == 1 and h.percentile([5, 1, 3], 100) == 5


def test_summary():
    s = h.summary([3.0, 1.0, 2.0])
    assert s == {"n": 3, "median": 2.0, "p99": pytest.approx(2.98), "max": 3.0}
    assert h.summary([])["median"] is None


def test_stopwatch_accumulates():
    ticks = iter([0.0, 1.5, 2.0, 2.25])
    watch = h.Stopwatch(clock=lambda: next(ticks))
    f = watch.wrap(lambda x: x * 2)
    assert f(2) == 4 and f(3) == 6
    assert watch.total == 1.75 and watch.calls == 2


def test_table_lists_every_row_with_target_and_verdict():
    rows = [
        h.Row("event_path", "XML, 1 client: events/s", 15234.5, "ev/s", target=">= 15,000", ok=True),
        h.Row("snapshot", "steady: latency", 1.234, "ms", p99=48.0, target="p99 <= 50 ms", ok=False),
        h.Row("memory", "per device", None),
    ]
    table = h.format_table(rows, header="HEAD", notes=("note",))
    lines = table.splitlines()
    assert lines[0] == "HEAD" and lines[-1] == "note"
    assert "15,234" in table and "1.23" in table and "48.0" in table
    assert any(l.rstrip().endswith("yes") for l in lines) and any(l.rstrip().endswith("NO") for l in lines)
    assert h.Row(**rows[0].as_dict()) == rows[0]


def test_memory_owner_by_first_component_frame():
    sim = "/x/csta_connector/simulator/xsp_server.py"
    shared = "/x/csta_connector/broadworks/xsi.py"
    link = "/x/csta_connector/broadworks/link.py"
    assert memory.owner_of([shared, sim, "/t/twisted/tcp.py"]) == "simulator"
    assert memory.owner_of([shared, link, "/t/twisted/tcp.py"]) == "connector"
    assert memory.owner_of(["/x/csta_connector/csta/client.py", shared]) == "clients"
    assert memory.owner_of(["/t/twisted/tcp.py"]) == "other"


@pytest_twisted.inlineCallbacks
def test_a_tiny_event_path_run_completes():
    from benchmarks import event_path

    result = yield event_path.run(
        reactor, quick=True,
        overrides={"configs": [("xml", 1)], "pairs": 2, "calls": 20, "warmup_calls": 5, "batch": 5},
    )
    raw = result["raw"]["xml_x1"]
    assert raw["bw_events"] == 20 * event_path.BW_EVENTS_PER_CALL
    assert raw["csta_frames_received"] == raw["csta_events_sent"] == 20 * 7
    assert {r["benchmark"] for r in result["rows"]} == {"event_path"}


@pytest_twisted.inlineCallbacks
def test_a_tiny_run_with_the_simulator_in_its_own_process_completes():
    from benchmarks import event_path_separate

    result = yield event_path_separate.run(
        reactor, quick=True,
        overrides={"encodings": ("xml",), "pairs": 2, "calls": 20, "warmup_calls": 5, "repeats": 1},
    )
    raw = result["raw"]["xml"]
    assert raw["calls"] == 20 and raw["seconds"] > 0
    assert [r["metric"] for r in result["rows"]] == [
        "XML, 1 client, simulator in its own process: BroadWorks events/s end to end"]


@pytest_twisted.inlineCallbacks
def test_a_tiny_run_over_an_xsi_link_beside_a_cti_link_completes():
    from benchmarks import event_path_xsi

    result = yield event_path_xsi.run(
        reactor, quick=True, overrides={"pairs": 2, "calls": 20, "warmup_calls": 5, "repeats": 1})
    for protocol in ("cti", "xsi"):
        raw = result["raw"][protocol]
        assert raw["calls"] == 20 and raw["seconds"] > 0 and raw["connector_us_per_event"] > 0
    assert [r["metric"].rsplit(",", 1)[-1].strip() for r in result["rows"]][:2] == [
        "CTI link: BroadWorks events/s end to end", "Xsi link: BroadWorks events/s end to end"]
    assert [r["target"] for r in result["rows"]] == ["", ">= 10,000", "", "", "<= 1.3"]


@pytest_twisted.inlineCallbacks
def test_a_tiny_failover_run_completes():
    from benchmarks import failover

    result = yield failover.run(
        reactor, quick=True, overrides={"users": 40, "clients": 2, "new_calls": 4})
    raw = result["raw"]
    assert raw["unsolicited"]["correct"] and raw["snapshot"]["correct"]
    assert raw["false_clears"] == 0


@pytest_twisted.inlineCallbacks
def test_a_tiny_proactive_resync_run_completes():
    from benchmarks import proactive_resync

    result = yield proactive_resync.run(
        reactor, quick=True,
        overrides={"users": 40, "clients": 2, "new_calls": 4, "rates": ((200, 10), (1000, 20))})
    runs = result["raw"]["runs"]
    assert [(r["rate"], r["cleared"], r["stuck"], r["false_clears"]) for r in runs] == [
        (200, 40, 40, 0), (1000, 40, 40, 0)]
    # the wave refreshes the originators first; at 200/s the callees' own
    # events have cleared theirs long before the wave would get to them
    assert runs[0]["update_requests"] == 20
    assert {r["benchmark"] for r in result["rows"]} == {"proactive_resync"}


@pytest_twisted.inlineCallbacks
def test_a_tiny_restart_run_rebuilds_the_model():
    from benchmarks import restart

    result = yield restart.run(reactor, quick=True, overrides={"users": 40, "clients": 2})
    raw = result["raw"]
    assert raw["correct"] and raw["parties"] == raw["parties_after"] == 40
    assert raw["held"] == raw["held_after"] == 5
    assert raw["rebuilt_s"] >= raw["monitored_s"] >= raw["link_up_s"] > 0


@pytest_twisted.inlineCallbacks
def test_a_tiny_contact_centre_run_completes():
    from benchmarks import contact_centre

    result = yield contact_centre.run(
        reactor, quick=True,
        overrides={"queues": 3, "agents_per_queue": 2, "calls": 30, "warmup_calls": 6, "batch": 5,
                   "separate_calls": 20},
    )
    raw = result["raw"]
    distribution, snapshot, separate = raw["distribution"], raw["snapshot"], raw["separate"]
    assert distribution["calls"] == 30 and distribution["acd_events"] == 30 * 3
    # every ACD document of the warm-up read in one pass
    assert distribution["decode_one_pass_percent"] == 100.0
    # the simulator in its own process: 8 BroadWorks events per call, as in process
    assert separate["calls"] == 20 and separate["bw_events"] == 20 * 8
    assert 20 * 8 <= separate["csta_events"] <= 20 * 9 and separate["connector_us_per_bw_event"] > 0
    # the queue's 3, the agent's 5, and AgentReady unless the agent is busy
    # again before its state is read after the call
    assert 30 * 8 <= distribution["csta_events"] <= 30 * 9
    assert (snapshot["queues"], snapshot["waiting"], snapshot["cleared"], snapshot["errors"]) == (3, 3, 3, 0)
    assert {r["benchmark"] for r in result["rows"]} == {"contact_centre"}


@pytest_twisted.inlineCallbacks
def test_a_tiny_routeing_run_completes():
    from benchmarks import routeing

    result = yield routeing.run(
        reactor, quick=True, overrides={"calls": 30, "warmup_calls": 10, "callers": 10, "agents": 10, "rate": 300},
    )
    raw = result["raw"]
    assert raw["routed"] == 30 and raw["ended_with_error"] == 0
    assert raw["latency_ms"]["n"] == 30 and raw["bw_events_per_call"] == 3.0
    assert {r["benchmark"] for r in result["rows"]} == {"routeing"}
