"""The per-event LMS lines over loopback: written at interaction/debug, not
even built at the default verbosity (standard)."""

import pytest
import pytest_twisted
from twisted.internet import reactor

from csta_connector import lms
from csta_connector.connector import ConnectorService
from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.testing import free_port_config

PER_EVENT = {37130, 37131, 37190, 37191, 37320, 37321, 37390, 37391}


@pytest.fixture
def connector_writing(request):
    """The embedded default whose log outputs write ``request.param`` (levels)."""
    service = ConnectorService(free_port_config(), reactor, lms.LogDetail(request.param))
    service.startService()
    pytest_twisted.blockon(service.started)
    pytest_twisted.blockon(service.channel_set.when_ready())
    yield service
    pytest_twisted.blockon(service.stopService())


@pytest_twisted.inlineCallbacks
def call_2001_to_2002(service, encoding="xml"):
    client = yield connect(reactor, "127.0.0.1", service.csta_port, encoding)
    try:
        monitor = yield client.request(m.MonitorStart(device="2001"))
        yield client.request(m.MakeCall(calling_device="2001", called_directory_number="2002"))
        yield client.events.wait_for(
            lambda items: any(isinstance(e, m.OriginatedEvent) for e in items), 5, "Originated")
        return monitor.cross_ref_id
    finally:
        client.transport.loseConnection()


@pytest.mark.parametrize("connector_writing", [lms.LEVELS], indirect=True)
@pytest_twisted.inlineCallbacks
def test_every_event_request_and_frame_has_its_line_at_debug(connector_writing, lms_lines):
    cross_ref_id = yield call_2001_to_2002(connector_writing)

    def of(lms_id):
        return [e for e in lms_lines if e["lms_id"] == lms_id]

    assert PER_EVENT <= {e["lms_id"] for e in lms_lines}
    # CSTA side: the requests, the events with their monitor, the frames
    assert {"MonitorStart", "MakeCall"} <= {e["service"] for e in of(37320)}
    sent = [(e["event"], e["device"], e["cross_ref_id"]) for e in of(37321)]
    assert ("OriginatedEvent", "2001", cross_ref_id) in sent
    assert any("<MonitorStart" in e["frame"] for e in of(37390))
    assert any("<OriginatedEvent" in e["frame"] for e in of(37391))
    # BroadWorks side: the events by subscription owner, the requests, the documents
    received = {(e["event_type"], e["user"]) for e in of(37130)}
    assert ("CallOriginatedEvent", "2001@example.com") in received
    assert "DialRequest" in {e["request"] for e in of(37131)}
    assert any("CallOriginatedEvent" in e["document"] for e in of(37190))
    assert any("<xsp:eventResponse" in e["document"] for e in of(37191))
    lines = [lms.render_line(e) for e in of(37321)]
    assert any(line.split(" ", 1)[1].startswith("Int 37321 CSTA client ") for line in lines)


@pytest.mark.parametrize("connector_writing", [lms.LEVELS[:3]], indirect=True)
@pytest_twisted.inlineCallbacks
def test_at_interaction_no_wire_dump(connector_writing, lms_lines):
    yield call_2001_to_2002(connector_writing, "ber")
    ids = {e["lms_id"] for e in lms_lines}
    assert {37130, 37320, 37321} <= ids
    assert not ids & {37131, 37190, 37191, 37390, 37391}


@pytest.mark.parametrize("connector_writing", [lms.LEVELS[:2]], indirect=True)
@pytest_twisted.inlineCallbacks
def test_at_standard_no_per_event_line_is_built(connector_writing, lms_lines):
    yield call_2001_to_2002(connector_writing)
    assert not {e["lms_id"] for e in lms_lines} & PER_EVENT
