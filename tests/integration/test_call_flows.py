"""Every call-control flow end to end (issue 4): the connector with its embedded
simulator over real loopback TCP, driven by XML and BER CSTA clients, over a
CTI link and over an Xsi link (Xsi-Events channel, Xsi-Actions call control).
Each test asserts the exact CSTA event sequence per monitored device and an
empty model at the end."""

import dataclasses

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from csta_connector.csta import messages as m
from csta_connector.csta.client import CSTAErrorResponse, connect

DEVICES = ("2001", "2002", "2003")

# every flow over a CTI link and over an Xsi link to the simulator
pytestmark = pytest.mark.parametrize(
    "embedded_connector", [{"protocols": ("cti",)}, {"protocols": ("xsi",)}], indirect=True, ids=["cti", "xsi"])


def conn(call_id, device):
    return m.ConnectionID(call_id=call_id, device_id=device)


def first_connection(event):
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        if isinstance(value, m.ConnectionID):
            return (value.call_id, value.device_id)
    return None


class Session:
    """One CSTA client monitoring DEVICES; events summarized per device."""

    def __init__(self, client, xrefs):
        self.client = client
        self.xrefs = xrefs
        self.device_of = {x: d for d, x in xrefs.items()}

    def summary(self):
        return [
            (self.device_of[e.cross_ref_id], type(e).__name__, first_connection(e),
             getattr(e, "local_connection_info", None), getattr(e, "cause", None))
            for e in self.client.events.items
        ]

    def of(self, device):
        return [row[1:] for row in self.summary() if row[0] == device]


@pytest.fixture(params=["xml", "ber"])
def session(request, embedded_connector):
    client = pytest_twisted.blockon(connect(reactor, "127.0.0.1", embedded_connector.csta_port, request.param))
    xrefs = {}
    for device in DEVICES:
        response = pytest_twisted.blockon(client.request(m.MonitorStart(device=device)))
        xrefs[device] = response.cross_ref_id
    yield Session(client, xrefs)
    client.transport.loseConnection()


def pause(seconds=0.15):
    return task.deferLater(reactor, seconds, lambda: None)


@pytest_twisted.inlineCallbacks
def until_idle(connector, session, count):
    yield session.client.events.wait_for(lambda items: len(items) >= count, what="%d events" % count)
    yield pause(0.1)
    assert len(session.client.events.items) == count, session.summary()
    assert len(connector.core.model) == 0


@pytest_twisted.inlineCallbacks
def answered_call(connector, caller="2001", callee="2002"):
    placed = yield connector.control.place_call(caller, callee)
    yield pause()
    yield connector.control.user_action(callee, "answer")
    yield pause()
    return placed["extTrackingId"]


@pytest_twisted.inlineCallbacks
def test_inbound_call_answered_on_the_phone_released_by_the_callee(embedded_connector, session):
    call = yield answered_call(embedded_connector)
    yield embedded_connector.control.user_action("2002", "release")
    yield until_idle(embedded_connector, session, 7)
    assert session.of("2001") == [
        ("OriginatedEvent", (call, "2001"), "connected", "newCall"),
        ("EstablishedEvent", (call, "2002"), "connected", "newCall"),
        ("ConnectionClearedEvent", (call, "2001"), "null", "normalClearing"),
        ("CallClearedEvent", (call, None), None, "normalClearing"),
    ]
    assert session.of("2002") == [
        ("DeliveredEvent", (call, "2002"), "alerting", "newCall"),
        ("EstablishedEvent", (call, "2002"), "connected", "newCall"),
        ("ConnectionClearedEvent", (call, "2002"), "null", "normalClearing"),
    ]
    delivered = [e for e in session.client.events.items if isinstance(e, m.DeliveredEvent)][0]
    assert (delivered.alerting_device, delivered.calling_device, delivered.called_device) == ("2002", "2001", "2002")
    assert session.of("2003") == []


@pytest_twisted.inlineCallbacks
def test_makecall_answered_by_the_far_end_released_by_the_caller(embedded_connector, session):
    response = yield session.client.request(m.MakeCall(calling_device="2001", called_directory_number="2002"))
    call = response.calling_device_connection.call_id
    assert response.calling_device_connection.device_id == "2001"
    yield pause()
    yield embedded_connector.control.user_action("2002", "answer")
    yield pause()
    yield session.client.request(m.ClearConnection(connection=conn(call, "2001")))
    yield until_idle(embedded_connector, session, 8)
    assert session.of("2001") == [
        ("ServiceInitiatedEvent", (call, "2001"), "initiated", "makeCall"),
        ("OriginatedEvent", (call, "2001"), "connected", "makeCall"),
        ("EstablishedEvent", (call, "2002"), "connected", "newCall"),
        ("ConnectionClearedEvent", (call, "2001"), "null", "normalClearing"),
    ]
    assert session.of("2002") == [
        ("DeliveredEvent", (call, "2002"), "alerting", "newCall"),
        ("EstablishedEvent", (call, "2002"), "connected", "newCall"),
        ("ConnectionClearedEvent", (call, "2002"), "null", "normalClearing"),
        ("CallClearedEvent", (call, None), None, "normalClearing"),
    ]


@pytest_twisted.inlineCallbacks
def test_hold_and_retrieve(embedded_connector, session):
    call = yield answered_call(embedded_connector)
    yield session.client.request(m.HoldCall(connection=conn(call, "2001")))
    yield pause()
    yield session.client.request(m.RetrieveCall(connection=conn(call, "2001")))
    yield pause()
    yield session.client.request(m.ClearCall(connection=conn(call, "2001")))
    yield until_idle(embedded_connector, session, 11)
    assert session.of("2001")[2:5] == [
        ("HeldEvent", (call, "2001"), "hold", "normal"),
        ("RetrievedEvent", (call, "2001"), "connected", "normal"),
        ("ConnectionClearedEvent", (call, "2001"), "null", "normalClearing"),
    ]
    assert session.of("2002")[2:4] == [
        ("HeldEvent", (call, "2001"), "connected", "normal"),
        ("RetrievedEvent", (call, "2001"), "connected", "normal"),
    ]


@pytest_twisted.inlineCallbacks
def test_consultation_and_transfer(embedded_connector, session):
    call = yield answered_call(embedded_connector)
    consult = yield session.client.request(m.ConsultationCall(existing_call=conn(call, "2002"), consulted_device="2003"))
    second = consult.initiated_call.call_id
    assert second != call and consult.initiated_call.device_id == "2002"
    yield pause()
    yield embedded_connector.control.user_action("2003", "answer")
    yield pause()
    yield session.client.request(m.TransferCall(held_call=conn(call, "2002"), active_call=consult.initiated_call))
    yield pause()
    yield embedded_connector.control.user_action("2003", "release")
    yield until_idle(embedded_connector, session, 17)
    # the transferring device: one Transferred (it asked for it), no ConnectionCleared
    assert session.of("2002")[2:] == [
        ("HeldEvent", (call, "2002"), "hold", "normal"),
        ("ServiceInitiatedEvent", (second, "2002"), "initiated", "consultation"),
        ("OriginatedEvent", (second, "2002"), "connected", "consultation"),
        ("EstablishedEvent", (second, "2003"), "connected", "newCall"),
        ("TransferredEvent", (call, "2002"), "null", "transfer"),
    ]
    transferred = [e for e in session.client.events.items if isinstance(e, m.TransferredEvent)]
    assert [(session.device_of[e.cross_ref_id], e.transferring_device, e.transferred_to_device, e.cause) for e in transferred] == [
        ("2002", "2002", "2003", "transfer"), ("2001", "2002", "2003", "transfer"), ("2003", "2002", "2003", "transfer")]
    mine = transferred[0]
    assert mine.secondary_old_call == conn(second, "2002")
    assert [(c.old_connection, c.new_connection) for c in mine.transferred_connections] == [
        (conn(call, "2001"), conn(second, "2001")), (conn(second, "2003"), conn(second, "2003"))]
    # 2001 now talks to 2003 in the consultation call, and is cleared there
    assert session.of("2001")[-2:] == [
        ("ConnectionClearedEvent", (second, "2001"), "null", "normalClearing"),
        ("CallClearedEvent", (second, None), None, "normalClearing"),
    ]


@pytest_twisted.inlineCallbacks
def test_single_step_transfer(embedded_connector, session):
    call = yield answered_call(embedded_connector)
    response = yield session.client.request(m.SingleStepTransferCall(active_call=conn(call, "2002"), transferred_to="2003"))
    assert response.transferred_call.call_id == call
    yield pause()
    yield embedded_connector.control.user_action("2003", "answer")
    yield pause()
    yield embedded_connector.control.user_action("2001", "release")
    yield until_idle(embedded_connector, session, 12)
    assert session.of("2002")[2:] == [("DivertedEvent", (call, "2002"), "null", "singleStepTransfer")]
    diverted = [e for e in session.client.events.items if isinstance(e, m.DivertedEvent)]
    assert [(session.device_of[d.cross_ref_id], d.diverting_device, d.new_destination) for d in diverted] == [
        ("2002", "2002", "2003")]
    assert session.of("2003") == [
        ("DeliveredEvent", (call, "2003"), "alerting", "singleStepTransfer"),
        ("EstablishedEvent", (call, "2003"), "connected", "singleStepTransfer"),
        ("ConnectionClearedEvent", (call, "2003"), "null", "normalClearing"),
        ("CallClearedEvent", (call, None), None, "normalClearing"),
    ]
    assert [row[0] for row in session.of("2001")] == [
        "OriginatedEvent", "EstablishedEvent", "TransferredEvent", "EstablishedEvent", "ConnectionClearedEvent"]


@pytest_twisted.inlineCallbacks
def test_three_way_conference(embedded_connector, session):
    call = yield answered_call(embedded_connector)
    consult = yield session.client.request(m.ConsultationCall(existing_call=conn(call, "2002"), consulted_device="2003"))
    yield pause()
    yield embedded_connector.control.user_action("2003", "answer")
    yield pause()
    response = yield session.client.request(m.ConferenceCall(held_call=conn(call, "2002"), active_call=consult.initiated_call))
    assert response.conference_call == conn(call, "2002")
    yield pause()
    yield embedded_connector.control.user_action("2002", "release")
    yield until_idle(embedded_connector, session, 20)
    conferenced = [e for e in session.client.events.items if isinstance(e, m.ConferencedEvent)]
    assert len(conferenced) == 1
    event = conferenced[0]
    assert (event.conferencing_device, event.added_party, event.cause) == ("2002", "2003", "conference")
    assert sorted(item.endpoint for item in event.conference_connections) == ["2001", "2002", "2003"]
    assert [row[0] for row in session.of("2002")][-3:] == ["ConferencedEvent", "ConnectionClearedEvent", "ConnectionClearedEvent"]


@pytest_twisted.inlineCallbacks
def test_deflect_an_alerting_call(embedded_connector, session):
    placed = yield embedded_connector.control.place_call("2001", "2002")
    call = placed["extTrackingId"]
    yield pause()
    yield session.client.request(m.DeflectCall(call_to_be_diverted=conn(call, "2002"), new_destination="2003"))
    yield pause()
    yield embedded_connector.control.user_action("2003", "answer")
    yield pause()
    yield embedded_connector.control.user_action("2003", "release")
    yield until_idle(embedded_connector, session, 10)
    assert session.of("2002") == [
        ("DeliveredEvent", (call, "2002"), "alerting", "newCall"),
        ("DivertedEvent", (call, "2002"), "null", "redirected"),
    ]
    assert session.of("2003")[0] == ("DeliveredEvent", (call, "2003"), "alerting", "redirected")
    delivered = [e for e in session.client.events.items if isinstance(e, m.DeliveredEvent) and e.alerting_device == "2003"][0]
    assert delivered.last_redirection_device == "2002"
    # the destination as the client gave it (BroadWorks' redirect says tel:+15550002003)
    diverted = [e for e in session.client.events.items if isinstance(e, m.DivertedEvent)]
    assert sorted((session.device_of[d.cross_ref_id], d.diverting_device, d.new_destination) for d in diverted) == [
        ("2001", "2002", "2003"), ("2002", "2002", "2003")]


@pytest_twisted.inlineCallbacks
def test_dtmf(embedded_connector, session):
    call = yield answered_call(embedded_connector)
    yield session.client.request(m.GenerateDigits(connection_to_send_digits=conn(call, "2001"), char_to_send="12#"))
    yield pause()
    yield embedded_connector.control.user_action("2002", "release")
    yield until_idle(embedded_connector, session, 8)
    digits = [e for e in session.client.events.items if isinstance(e, m.DigitsGeneratedEvent)]
    assert [(d.connection, d.digit_generated_list) for d in digits] == [(conn(call, "2001"), "12#")]
    with pytest.raises(CSTAErrorResponse):
        yield session.client.request(m.GenerateDigits(connection_to_send_digits=conn(call, "2001"), char_to_send="1"))


@pytest_twisted.inlineCallbacks
def test_busy_destination_fails(embedded_connector, session):
    yield embedded_connector.control.post("/users/2002/settings", {"busy": True})
    placed = yield embedded_connector.control.place_call("2001", "2002")
    call = placed["extTrackingId"]
    yield until_idle(embedded_connector, session, 4)
    assert session.of("2001") == [
        ("OriginatedEvent", (call, "2001"), "connected", "newCall"),
        ("FailedEvent", (call, "2002"), "fail", "busy"),
        ("ConnectionClearedEvent", (call, "2001"), "null", "busy"),
        ("CallClearedEvent", (call, None), None, "busy"),
    ]
    assert session.of("2002") == []


@pytest_twisted.inlineCallbacks
def test_unknown_destination_fails(embedded_connector, session):
    response = yield session.client.request(m.MakeCall(calling_device="2001", called_directory_number="2999"))
    call = response.calling_device_connection.call_id
    yield until_idle(embedded_connector, session, 5)
    assert [row[0] for row in session.of("2001")] == [
        "ServiceInitiatedEvent", "OriginatedEvent", "FailedEvent", "ConnectionClearedEvent", "CallClearedEvent"]
    assert session.of("2001")[2] == ("FailedEvent", (call, "2999"), "fail", "destNotObtainable")


@pytest_twisted.inlineCallbacks
def test_requests_on_missing_or_wrong_connections_change_nothing(embedded_connector, session):
    client = session.client
    missing = conn("99:1", "2001")
    for request in (m.HoldCall(connection=missing), m.AnswerCall(connection=missing), m.ClearConnection(connection=missing)):
        with pytest.raises(CSTAErrorResponse) as refused:
            yield client.request(request)
        assert refused.value.error == m.CSTAError(category="operation", value="invalidConnectionID")
    call = yield answered_call(embedded_connector)
    before = len(client.events.items)
    for request in (m.AnswerCall(connection=conn(call, "2001")), m.RetrieveCall(connection=conn(call, "2001"))):
        with pytest.raises(CSTAErrorResponse) as refused:
            yield client.request(request)
        assert refused.value.error.category == "stateIncompatibility"
    yield pause()
    assert len(client.events.items) == before
    calls = yield embedded_connector.control.calls_of("2001")
    assert [c["state"] for c in calls] == ["Active"]
    yield embedded_connector.control.user_action("2001", "release")


@pytest_twisted.inlineCallbacks
def test_two_clients_on_one_device_and_one_sided_monitoring(embedded_connector, session):
    other = yield connect(reactor, "127.0.0.1", embedded_connector.csta_port, "xml")
    mine = yield other.request(m.MonitorStart(device="2002"))
    call = yield answered_call(embedded_connector)
    yield embedded_connector.control.user_action("2001", "release")
    yield until_idle(embedded_connector, session, 7)
    theirs = [e for e in session.client.events.items if e.cross_ref_id == session.xrefs["2002"]]
    yield other.events.wait_for(lambda items: len(items) >= len(theirs))
    assert {e.cross_ref_id for e in other.events.items} == {mine.cross_ref_id}
    assert [dataclasses.replace(e, cross_ref_id="") for e in other.events.items] == [
        dataclasses.replace(e, cross_ref_id="") for e in theirs]
    # the other client monitors only 2002: nothing about 2001's connection reaches it
    assert all(first_connection(e) != (call, "2001") for e in other.events.items)
    other.transport.loseConnection()
