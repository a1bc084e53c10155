"""ACD queues and agents over an Xsi link (issues 13 + 14): the connector's one
link is an Xsi link (Xsi-Events channel, Xsi-Actions requests) to the embedded
simulator's Xsi front-end; real CSTA clients in both encodings over loopback
TCP. Agent state set, queried and evented; a queued call distributed to the
Available agent only; a queued call deflected, transferred and cleared; a stuck
queued call cleared by a queue snapshot after an ungraceful failover; an
agent changed while the event channel was down corrected once it is back. Every
BroadWorks document both ways (request bodies, answers, stream documents)
validates against the official schemas, and each test checks the Xsi HTTP
requests the simulator received (the CTI front-end receives nothing)."""

import pytest
import pytest_twisted

from csta_connector.csta import messages as m
from csta_connector.csta.client import CSTAErrorResponse
from csta_connector.testing import (
    CONTACT_CENTRE_RESYNC_DELAY,
    CSTA_ENCODINGS,
    OTHER_ENCODING,
    cleared_lines,
    contact_centre_config,
    monitoring_client,
    pause,
    start_contact_centre,
)

ACTIONS = "/com.broadsoft.xsi-actions/v2.0"
QUEUE = "5001"


@pytest.fixture
def connector(bw_validator):
    service = pytest_twisted.blockon(start_contact_centre(contact_centre_config({"protocols": ("xsi",)})))
    service.http_requests = []
    xsi = service.simulator.xsi
    render = xsi.render

    def recording(request):
        service.http_requests.append((request.method.decode(), request.uri.decode()))
        return render(request)

    xsi.render = recording
    yield service
    pytest_twisted.blockon(service.stopService())
    assert service.documents, "no Xsi document at all"
    assert [(d, data) for d, data in service.documents if bw_validator(data)] == []
    # all of it Xsi: no CTI interface document (they are XspXMLInterface envelopes)
    assert [data for _, data in service.documents if b"XspXMLInterface" in data] == []


def requests_to(connector, method, path):
    """The Xsi-Actions requests ``method`` the simulator received whose target starts with ``path``."""
    return [target for m_, target in connector.http_requests if m_ == method and target.startswith(ACTIONS + path)]


@pytest.mark.parametrize("encoding", CSTA_ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_agent_state_set_queried_and_evented_over_xsi(connector, encoding):
    client = yield monitoring_client(connector, encoding)
    yield client.monitor("2002")
    yield pause()  # the Call Center Agent subscription's initial event
    expected = [
        ("loggedOn", "Unavailable", ["AgentLoggedOnEvent", "AgentNotReadyEvent"], "agentNotReady"),
        ("ready", "Available", ["AgentReadyEvent"], "agentReady"),
        ("notReady", "Unavailable", ["AgentNotReadyEvent"], "agentNotReady"),
        ("loggedOff", "Sign-Out", ["AgentLoggedOffEvent"], "agentNull"),
    ]
    for requested, state, events, csta_state in expected:
        before = len(client.of("2002"))
        response = yield client.request(m.SetAgentState(
            device="2002", requested_agent_state=requested, extensions=m.make_extensions(unavailableCode="BREAK")))
        assert response == m.SetAgentStateResponse()
        yield client.wait("2002", count=before + len(events), what="%s events" % requested)
        assert client.names("2002")[before:] == events
        assert (yield connector.control.get("/agents/2002"))["state"] == state
        monitored = yield client.request(m.GetAgentState(device="2002"))  # from the model
        (entry,) = monitored.agent_state_list
        assert [(i.acd_group, i.agent_state) for i in entry.agent_info] == [(QUEUE, csta_state)]
    assert m.extension_value(client.of("2002")[-2], m.EXT_UNAVAILABLE_CODE) == "BREAK"
    assert len(requests_to(connector, "PUT", "/user/2002@example.com/services/CallCenter")) == 4
    assert b"<xsi:agentUnavailableCode>BREAK</xsi:agentUnavailableCode>" in b"".join(
        data for d, data in connector.documents if d == "in")

    # an unmonitored agent: GET .../services/CallCenter answers
    yield connector.control.agent_state("2003", "Available")
    unmonitored = yield client.request(m.GetAgentState(device="2003"))
    (entry,) = unmonitored.agent_state_list
    assert (entry.agent_id, entry.logged_on) == ("2003@example.com", True)
    assert [(i.acd_group, i.agent_state) for i in entry.agent_info] == [(QUEUE, "agentReady")]
    assert requests_to(connector, "GET", "/user/2003@example.com/services/CallCenter") != []
    # an HTTP refusal (404: no agent) is the CSTA error it is over CTI
    with pytest.raises(CSTAErrorResponse) as refused:
        yield client.request(m.GetAgentState(device="2015"))
    assert (refused.value.error.category, refused.value.error.value) == ("operation", "invalidDeviceID")
    assert requests_to(connector, "GET", "/user/2015@example.com/services/CallCenter") != []
    client.close()


@pytest.mark.parametrize("encoding", CSTA_ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_queued_call_is_distributed_to_the_available_agent_only_over_xsi(connector, encoding):
    client = yield monitoring_client(connector, encoding)
    yield client.monitor(QUEUE, "2002", "2003")
    yield pause()
    yield connector.control.agent_state("2003", "Unavailable")
    yield client.wait("2003", "AgentNotReadyEvent")
    tracking = (yield connector.control.place_call("2001", QUEUE))["extTrackingId"]
    yield client.wait(QUEUE, "QueuedEvent")
    (queued,) = client.of(QUEUE, "QueuedEvent")
    assert queued.queued_connection == m.ConnectionID(call_id=tracking, device_id=QUEUE)
    yield pause(0.2)
    assert client.of("2002") == []  # nobody Available: it waits

    yield client.request(m.SetAgentState(device="2002", requested_agent_state="ready"))
    yield client.wait("2002", "DeliveredEvent")
    delivered = client.of("2002", "DeliveredEvent")[0]
    assert (delivered.connection.call_id, delivered.last_redirection_device, delivered.cause) == (
        tracking, QUEUE, "distributed")
    yield connector.control.user_action("2002", "answer")
    yield client.wait(QUEUE, "DivertedEvent")
    yield client.wait("2002", "AgentBusyEvent")
    assert client.names(QUEUE) == ["QueuedEvent", "DeliveredEvent", "DivertedEvent"]
    assert client.names("2003") == ["AgentLoggedOnEvent", "AgentNotReadyEvent"]  # not offered
    # the queue's events came on the Xsi stream
    assert b"ACDCallOfferedToAgentEvent" in b"".join(data for d, data in connector.documents if d == "out")
    client.close()


@pytest_twisted.inlineCallbacks
def test_queued_calls_deflected_transferred_and_cleared_over_xsi(connector):
    client = yield monitoring_client(connector, "xml")
    yield client.monitor(QUEUE, "2003", "2006")
    calls = []
    for caller in ("2001", "2007", "2008"):
        calls.append((yield connector.control.place_call(caller, QUEUE))["extTrackingId"])
    yield client.wait(QUEUE, "QueuedEvent", count=3)

    def queued(n):
        return m.ConnectionID(call_id=calls[n], device_id=QUEUE)

    # refused by BroadWorks over HTTP: the CSTA errors of the CTI link
    with pytest.raises(CSTAErrorResponse) as refused:
        yield client.request(m.DeflectCall(call_to_be_diverted=queued(0), new_destination="9999"))
    assert refused.value.error.value == "invalidDestination"
    response = yield client.request(m.DeflectCall(call_to_be_diverted=queued(0), new_destination="2003"))
    assert response == m.DeflectCallResponse()
    yield client.wait("2003", "DeliveredEvent")
    response = yield client.request(m.SingleStepTransferCall(active_call=queued(1), transferred_to="2006"))
    assert response.transferred_call == m.ConnectionID(call_id=calls[1], device_id="2006")
    yield client.wait("2006", "DeliveredEvent")
    assert [e.new_destination for e in client.of(QUEUE, "DivertedEvent")] == ["2003", "2006"]
    response = yield client.request(m.ClearConnection(connection=queued(2)))
    assert response == m.ClearConnectionResponse()
    yield client.wait(QUEUE, "CallClearedEvent")
    assert (yield connector.control.queue_calls(QUEUE)) == []
    transfers = requests_to(connector, "PUT", "/callcenter/5001@example.com/calls/")
    assert [t.rpartition("/")[2] for t in transfers] == [
        "blindtransfer?phoneno=9999", "blindtransfer?phoneno=2003", "blindtransfer?phoneno=2006"]
    assert len(requests_to(connector, "DELETE", "/callcenter/5001@example.com/calls/")) == 1
    client.close()


@pytest.mark.parametrize("encoding", CSTA_ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_stuck_queued_call_is_cleared_by_a_queue_snapshot_after_an_ungraceful_failover_over_xsi(
    connector, lms_lines, encoding
):
    requester = yield monitoring_client(connector, encoding)
    other = yield monitoring_client(connector, OTHER_ENCODING[encoding])
    yield requester.monitor(QUEUE)
    yield other.monitor(QUEUE)
    calls = []
    for caller in ("2001", "2006"):
        calls.append((yield connector.control.place_call(caller, QUEUE))["extTrackingId"])
    yield other.wait(QUEUE, "QueuedEvent", count=2)
    before = (len(requester.of(QUEUE)), len(other.of(QUEUE)))
    yield connector.control.failover("ungraceful")
    yield pause(2 * CONTACT_CENTRE_RESYNC_DELAY + 0.1)
    assert (len(requester.of(QUEUE)), len(other.of(QUEUE))) == before  # the peer AS says nothing of queues

    renewals = len([t for m_, t in connector.http_requests if m_ == "PUT" and "/subscription/" in t])
    snapshot = yield requester.request(m.SnapshotDevice(device=QUEUE))
    assert snapshot.items == ()
    # the snapshot was the queue subscription's UpdateSubscription over Xsi-Events
    assert len([t for m_, t in connector.http_requests if m_ == "PUT" and "/subscription/" in t]) == renewals + 1
    yield other.wait(QUEUE, "CallClearedEvent", count=2)
    got = other.of(QUEUE)[before[1]:]
    assert [type(e).__name__ for e in got] == ["ConnectionClearedEvent", "CallClearedEvent"] * 2
    assert sorted(e.dropped_connection.call_id for e in got if type(e) is m.ConnectionClearedEvent) == sorted(calls)
    assert {e.cause for e in got if type(e) is m.ConnectionClearedEvent} == {"switchingFunctionTerminated"}
    assert len(requester.of(QUEUE)) == before[0]  # the requester learns it from its response
    assert sorted(c for c, _ in cleared_lines(lms_lines, QUEUE)) == sorted(calls)
    assert len(connector.core.contact_centre.queue_model) == 0
    requester.close()
    other.close()


@pytest_twisted.inlineCallbacks
def test_an_agent_changed_while_the_xsi_channel_was_down_is_corrected_after_it_returns(connector, lms_lines):
    client = yield monitoring_client(connector, "xml")
    yield client.monitor("2002")
    yield pause()
    front_end = "/xsp/%d" % (connector.simulator.xsi.index + 1)
    channels = len([t for m_, t in connector.http_requests if m_ == "POST" and t.endswith("/channel")])
    yield connector.control.post(front_end + "/down", {"mode": "close"})
    yield pause(0.1)
    yield connector.control.agent_state("2002", "Available")  # its event is lost with the channel
    yield connector.control.post(front_end + "/up")
    yield client.wait("2002", "AgentReadyEvent", what="the refreshed AgentSubscriptionEvent's correction")
    assert client.names("2002") == ["AgentLoggedOnEvent", "AgentReadyEvent"]
    (line,) = [e for e in lms_lines if e["lms_id"] == 37251]
    assert (line["device"], line["old_state"], line["new_state"]) == ("2002", "Sign-Out", "Available")
    assert len([t for m_, t in connector.http_requests if m_ == "POST" and t.endswith("/channel")]) > channels
    # the agent subscription outlived the channel (its channel set's): refreshed, not added again
    agent = connector.core.contact_centre.agent_subscriptions.subscription_of("2002@example.com")
    refreshes = [t for m_, t in connector.http_requests if m_ == "PUT" and t.endswith("/" + agent.subscription_id)]
    assert refreshes != []
    client.close()
