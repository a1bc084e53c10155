"""``twistd -n csta-connector --config F`` with only xsi links against
``twistd -n broadworks-sim`` (issue 13): both as real processes on free
loopback ports, found in each other's LMS lines; an XML CSTA client in this
process monitors, the simulator's control API places a call, then both
processes stop on SIGTERM."""

import re

import pytest_twisted
from twisted.internet import reactor

from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.simulator.control_client import ControlClient
from csta_connector.testing import spawn_twistd

CONNECTOR_INI = """\
[Connector]
channel-set-name = twistd-xsi
link-recovery-tout = 0.2
kpl-interval = 2

[link-xsp1]
protocol = xsi
url = http://127.0.0.1:{port}
username = cti-app@example.com
password = secret

[link-xsp2]
protocol = xsi
url = http://127.0.0.1:{port}/
username = cti-app@example.com
password = secret
priority = 2

[csta]
port = 0

[log]
verbose = standard
all = stdout
"""


def line_of(process, lms_id):
    """A Deferred of the first stdout line of the LMS message ``lms_id``."""
    return process.out_lines.wait_for(
        lambda lines: [l for l in lines if " %d " % lms_id in l], timeout=15, what="LMS %d" % lms_id
    ).addCallback(lambda lines: [l for l in lines if " %d " % lms_id in l][0])


@pytest_twisted.inlineCallbacks
def test_twistd_connector_with_only_xsi_links_against_twistd_simulator(tmp_path):
    simulator = spawn_twistd(reactor, "-n", "--pidfile=", "broadworks-sim", "--cti-port", "0",
                             "--control-port", "0", "--xsi-port", "any", "--users", "10")
    connector = None
    try:
        xsi = yield line_of(simulator, 37407)
        started = yield line_of(simulator, 37401)
        xsi_port = int(re.search(r"serves Xsi on 127\.0\.0\.1:(\d+)", xsi).group(1))
        control_port = int(re.search(r"control port (\d+)", started).group(1))
        config = tmp_path / "connector.ini"
        config.write_text(CONNECTOR_INI.format(port=xsi_port))
        connector = spawn_twistd(reactor, "-n", "--pidfile=", "csta-connector", "--config", str(config))
        listening = yield line_of(connector, 37005)
        csta_port = int(re.search(r"CSTA listener on [\d.]+:(\d+)", listening).group(1))
        yield connector.out_lines.wait_for(
            lambda lines: sum(" 37110 " in l for l in lines) == 2, timeout=15, what="both channels added")

        client = yield connect(reactor, "127.0.0.1", csta_port, "xml")
        device_of = {}
        for device in ("2001", "2002"):
            response = yield client.request(m.MonitorStart(device=device))
            device_of[response.cross_ref_id] = device
        control = ControlClient(reactor, "127.0.0.1", control_port)
        front_ends = yield control.get("/xsp")
        assert [(f["protocol"], f["port"], f["state"], f["connections"]) for f in front_ends] == [
            ("cti", front_ends[0]["port"], "up", 0), ("xsi", xsi_port, "up", 2)]  # the two event channels
        placed = yield control.place_call("2001", "2002")
        yield client.events.wait_for(lambda events: len(events) >= 2, what="originated, delivered")
        yield control.user_action("2002", "answer")
        yield control.user_action("2001", "release")
        yield client.events.wait_for(lambda events: len(events) >= 7, what="the whole call")

        def at(device):
            return [type(e).__name__ for e in client.events.items if device_of[e.cross_ref_id] == device]

        assert at("2001") == ["OriginatedEvent", "EstablishedEvent", "ConnectionClearedEvent"]
        assert at("2002") == ["DeliveredEvent", "EstablishedEvent", "ConnectionClearedEvent", "CallClearedEvent"]
        assert {m.event_connection(e).call_id for e in client.events.items} == {placed["extTrackingId"]}
        client.transport.loseConnection()

        lines = connector.stdout_lines
        assert sum(" 37102 " in l and "(xsi)" in l for l in lines) == 2  # both links, named xsi
        assert not [l for l in lines if " Alr " in l]
    finally:
        for process in (connector, simulator):
            if process is not None and not process.ended.called:
                process.transport.signalProcess("TERM")
        for process in (connector, simulator):
            if process is not None:
                yield process.ended
    # twistd stops cleanly on SIGTERM, then ends by it
    assert [connector.end_signal, simulator.end_signal] == [15, 15], connector.stderr_lines[-20:]
    assert any(" 37002 " in l for l in connector.stdout_lines)  # Connector stopped
    assert any(" 37406 " in l for l in simulator.stdout_lines)  # Simulator stopped
