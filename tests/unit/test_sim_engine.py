"""The simulator's call engine: event sequences per flow, failures, AS failover."""

from pathlib import Path

import pytest
from twisted.internet.task import Clock

from csta_connector.simulator.addressing import Directory, RouteKind
from csta_connector.simulator.engine import (
    CallEngine,
    ErrorCode,
    Notification,
    SimulatorError,
)

T0 = 1_700_000_000  # seconds; events carry epoch milliseconds


class Recorder:
    def __init__(self, engine):
        self.events = []
        engine.add_listener(self.events.append)

    def take(self):
        events = list(self.events)
        del self.events[:]
        return events


@pytest.fixture
def clock():
    c = Clock()
    c.advance(T0)
    return c


@pytest.fixture
def engine(clock):
    e = CallEngine(clock, users=20)
    yield e
    left = clock.getDelayedCalls()
    e.stop()
    assert left == [], "the test left delayed calls on its clock"


@pytest.fixture
def rec(engine):
    return Recorder(engine)


def seq(events):
    """(user extension, event type, state) triples; hook events show the status."""
    out = []
    for n in events:
        ext = n.user_id.split("@")[0]
        if n.call is not None:
            out.append((ext, n.event_type, n.call.state))
        elif n.hook_status and n.event_type == "HookStatusEvent":
            out.append((ext, n.event_type, n.hook_status))
        elif n.conference is not None:
            out.append((ext, n.event_type, n.conference.state))
        else:
            out.append((ext, n.event_type, None))
    return out


def calls_for(events, user):
    return [n.call for n in events if n.user_id == user and n.call is not None]


def connected(engine, rec, a="2001", b="2002"):
    """a dials b, b answers; returns (a's half, b's half)."""
    engine.dial(a, b)
    engine.answer(b)
    callee = engine.calls_of(b)[0]
    rec.take()
    return engine.calls_of(a)[0], callee


# ---------------------------------------------------------------- addressing


def test_resolve_user_accepts_every_address_form(engine):
    """Extension, user id, E.164 with or without +, tel: and sip: URIs name a user."""
    for address in (
        "2002",
        "2002@example.com",
        "+15550002002",
        "15550002002",
        "tel:+15550002002",
        "sip:2002@example.com",
        "sip:+15550002002@example.com;user=phone",
    ):
        assert engine.resolve_user(address) == "2002@example.com", address
    for address in ("2000", "2999", "2002@other.com", "+4930123456", "", "bob"):
        assert engine.resolve_user(address) is None, address


def test_users_numbers_and_status(engine):
    """Users 2001.. with numbers +1555000<ext>; status reports the primary AS."""
    assert engine.user_ids[0] == "2001@example.com"
    assert len(engine.user_ids) == 20
    assert engine.status() == {
        "active_as": "primary",
        "users": 20,
        "calls": 0,
        "orphaned_calls": 0,
        "queued_calls": 0,
        "route_point_calls": 0,
        "agents_available": 0,
        "app_controller": "ready",
    }
    assert engine.user_info("2003")["number"] == "+15550002003"


def test_directory_routes_each_address_to_one_kind_of_destination():
    """A user's address, a number of the platform nobody has, an outside number."""
    directory = Directory("example.com", users=3)
    user = directory.route("sip:2002@example.com")
    assert (user.kind, user.user.user_id) == (RouteKind.USER, "2002@example.com")
    assert user.party.call_type == "Group"
    for address in ("2999", "+15550009999", "15550009999", "123456"):
        assert directory.route(address).kind is RouteKind.UNKNOWN, address
    outside = directory.route("tel:+4930123456")
    assert (outside.kind, outside.number) == (RouteKind.NETWORK, "+4930123456")
    assert outside.party.call_type == "Network"
    for address in ("bob", "", "2002@other.com"):
        with pytest.raises(SimulatorError) as e:
            directory.route(address)
        assert e.value.error_code == ErrorCode.INVALID_ARGUMENT, address


# ----------------------------------------------------------- basic call flow


def test_dial_emits_offhook_originated_and_received(engine, rec):
    """Phone dial: caller Off-Hook + CallOriginated (Originator, Alerting);
    callee CallReceived (Terminator, Alerting, allowAnswer)."""
    call = engine.dial("2001", "2002")
    events = rec.take()
    assert seq(events) == [
        ("2001", "HookStatusEvent", "Off-Hook"),
        ("2001", "CallOriginatedEvent", "Alerting"),
        ("2002", "CallReceivedEvent", "Alerting"),
    ]
    originated, received = events[1].call, events[2].call
    assert originated == call
    assert originated.personality == "Originator"
    assert received.personality == "Terminator"
    assert received.allow_answer and not originated.allow_answer
    assert originated.ext_tracking_id == received.ext_tracking_id == "1:1"
    assert originated.call_id != received.call_id
    assert originated.call_id.startswith("callhalf-")
    assert originated.start_time == T0 * 1000
    assert originated.remote_party.address == "tel:+15550002002"
    assert originated.remote_party.user_id == "2002@example.com"
    assert originated.remote_party.call_type == "Group"
    assert received.remote_party.address == "tel:+15550002001"
    assert engine.status()["calls"] == 1


def test_answer_then_release_by_caller(engine, rec, clock):
    """Answer: callee Off-Hook + CallAnswered, caller CallAnswered; release by
    the caller: localRelease for it, remoteRelease for the callee, both On-Hook."""
    engine.dial("2001", "2002")
    rec.take()
    clock.advance(5)
    answered = engine.answer("2002")
    events = rec.take()
    assert seq(events) == [
        ("2002", "HookStatusEvent", "Off-Hook"),
        ("2002", "CallAnsweredEvent", "Active"),
        ("2001", "CallAnsweredEvent", "Active"),
    ]
    assert answered.answer_time == (T0 + 5) * 1000
    assert events[2].call.answer_time == (T0 + 5) * 1000
    assert not events[1].call.allow_answer
    clock.advance(60)
    engine.release("2001")
    events = rec.take()
    assert seq(events) == [
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
        ("2002", "CallReleasedEvent", "Released"),
        ("2002", "HookStatusEvent", "On-Hook"),
    ]
    assert events[0].call.releasing_party == "localRelease"
    assert events[2].call.releasing_party == "remoteRelease"
    assert events[0].call.release_time == (T0 + 65) * 1000
    assert events[2].call.remote_party.address == "tel:+15550002001"
    assert engine.calls_of("2001") == engine.calls_of("2002") == ()
    assert engine.status()["calls"] == 0


def test_release_by_callee(engine, rec):
    """The answering side hangs up: it is localRelease, the caller remoteRelease."""
    connected(engine, rec)
    engine.release("2002")
    events = rec.take()
    assert [(n.user_id[:4], n.call.releasing_party) for n in events if n.call] == [
        ("2002", "localRelease"),
        ("2001", "remoteRelease"),
    ]


def test_caller_abandons_alerting_call(engine, rec):
    """The caller gives up before an answer: the callee, never off-hook,
    gets no hook event."""
    engine.dial("2001", "2002")
    rec.take()
    engine.release("2001")
    assert seq(rec.take()) == [
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
        ("2002", "CallReleasedEvent", "Released"),
    ]


def test_decline_gives_caller_temporarily_unavailable(engine, rec):
    """release(decline=True) of an alerting call: the caller's call fails."""
    engine.dial("2001", "2002")
    received = engine.calls_of("2002")[0]
    rec.take()
    engine.release("2002", received.call_id, decline=True)
    events = rec.take()
    assert seq(events) == [
        ("2002", "CallReleasedEvent", "Released"),
        ("2001", "CallReleasingEvent", "Alerting"),
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
    ]
    assert events[2].call.release_cause == "Temporarily Unavailable"


def test_hold_and_retrieve(engine, rec, clock):
    """Hold: Held + heldTime + allowRetrieve for the user, Remote Held for the
    far end; retrieve: both CallRetrieved, Active."""
    a, b = connected(engine, rec)
    clock.advance(3)
    held = engine.hold("2002")
    events = rec.take()
    assert seq(events) == [
        ("2002", "CallHeldEvent", "Held"),
        ("2001", "CallHeldEvent", "Remote Held"),
    ]
    assert held.allow_retrieve and held.held_time == (T0 + 3) * 1000
    assert not events[1].call.allow_retrieve
    retrieved = engine.retrieve("2002", b.call_id)
    assert seq(rec.take()) == [
        ("2002", "CallRetrievedEvent", "Active"),
        ("2001", "CallRetrievedEvent", "Active"),
    ]
    assert retrieved.held_time is None and not retrieved.allow_retrieve


def test_remote_hold_not_reported_when_already_held_locally(engine, rec):
    """Both sides hold: the second hold only reports Held to its own user."""
    connected(engine, rec)
    engine.hold("2001")
    rec.take()
    engine.hold("2002")
    assert seq(rec.take()) == [("2002", "CallHeldEvent", "Held")]
    engine.retrieve("2001")
    # 2001 is still held by the far end: retrieved into Remote Held
    assert seq(rec.take()) == [("2001", "CallRetrievedEvent", "Remote Held")]


def test_talk_answers_or_retrieves(engine, rec):
    """TalkRequest answers an alerting call and retrieves a held one."""
    engine.dial("2001", "2002")
    b = engine.calls_of("2002")[0]
    assert engine.talk("2002", b.call_id).state == "Active"
    engine.hold("2002", b.call_id)
    assert engine.talk("2002", b.call_id).state == "Active"
    with pytest.raises(SimulatorError) as e:
        engine.talk("2002", b.call_id)
    assert e.value.status_code == 400
    assert e.value.error_code == ErrorCode.INVALID_STATE


def test_answer_while_active_holds_the_active_call(engine, rec):
    """A phone has one active call: answering a waiting call holds the first."""
    a, b = connected(engine, rec)
    engine.dial("2003", "2002")
    waiting = engine.calls_of("2002")[1]
    rec.take()
    engine.answer("2002", waiting.call_id)
    assert seq(rec.take()) == [
        ("2002", "CallHeldEvent", "Held"),
        ("2001", "CallHeldEvent", "Remote Held"),
        ("2002", "CallAnsweredEvent", "Active"),
        ("2003", "CallAnsweredEvent", "Active"),
    ]


def test_click_to_dial(engine, rec):
    """DialRequest: CallOriginating (Click-to-Dial) then Off-Hook and
    CallOriginated (Originator) on the same callId, then the destination alerts."""
    call = engine.click_to_dial("2001", "2002")
    events = rec.take()
    assert seq(events) == [
        ("2001", "CallOriginatingEvent", "Alerting"),
        ("2001", "HookStatusEvent", "Off-Hook"),
        ("2001", "CallOriginatedEvent", "Alerting"),
        ("2002", "CallReceivedEvent", "Alerting"),
    ]
    assert call.personality == "Click-to-Dial"
    assert call.remote_party.address == "tel:+15550002002"
    assert events[2].call.personality == "Originator"
    assert events[2].call.call_id == call.call_id
    assert events[3].call.ext_tracking_id == call.ext_tracking_id
    engine.answer("2002")
    assert seq(rec.take())[-1] == ("2001", "CallAnsweredEvent", "Active")


def test_click_to_dial_waits_for_the_user_when_not_automatic(clock):
    """With auto off-hook off, the user answers its own phone to place the
    call; releasing it instead ends the click-to-dial."""
    engine = CallEngine(clock, users=5, click_to_dial_auto_offhook=False)
    rec = Recorder(engine)
    call = engine.click_to_dial("2001", "2002")
    assert seq(rec.take()) == [("2001", "CallOriginatingEvent", "Alerting")]
    engine.answer("2001", call.call_id)
    assert seq(rec.take()) == [
        ("2001", "HookStatusEvent", "Off-Hook"),
        ("2001", "CallOriginatedEvent", "Alerting"),
        ("2002", "CallReceivedEvent", "Alerting"),
    ]
    call = engine.click_to_dial("2003", "2004")
    rec.take()
    engine.release("2003", call.call_id)
    events = rec.take()
    assert seq(events) == [("2003", "CallReleasedEvent", "Released")]
    assert events[0].call.releasing_party == "localRelease"


# ------------------------------------------------------- failed destinations


def test_busy_user_flag(engine, rec):
    """A user flagged busy rejects calls: the caller gets CallReleasing and
    CallReleased with releaseCause Busy; the callee sees nothing."""
    engine.set_user_options("2002", busy=True)
    engine.dial("2001", "2002")
    events = rec.take()
    assert seq(events) == [
        ("2001", "HookStatusEvent", "Off-Hook"),
        ("2001", "CallOriginatedEvent", "Alerting"),
        ("2001", "CallReleasingEvent", "Alerting"),
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
    ]
    assert events[2].call.release_cause == "Busy"
    assert events[3].call.release_cause == "Busy"
    assert events[3].call.remote_party.address == "tel:+15550002002"
    assert engine.status()["calls"] == 0


def test_busy_when_call_waiting_off_and_in_a_call(engine, rec):
    """Call waiting off: a user with a call is busy; with it on, the call waits."""
    connected(engine, rec)
    engine.dial("2003", "2002")
    assert seq(rec.take())[-1] == ("2002", "CallReceivedEvent", "Alerting")
    engine.release("2003")
    rec.take()
    engine.set_user_options("2002", call_waiting=False)
    engine.dial("2003", "2002")
    events = rec.take()
    assert [n.call.release_cause for n in events if n.event_type == "CallReleasedEvent"] == [
        "Busy"
    ]


def test_unknown_destination(engine, rec):
    """An extension-like number, or one of the platform's own block, that is no
    user: releaseCause User Not Found, remoteParty = the dialled digits."""
    for address in ("2999", "+15550009999"):
        engine.dial("2001", address)
        events = rec.take()
        assert [e for _, e, _ in seq(events)] == [
            "HookStatusEvent",
            "CallOriginatedEvent",
            "CallReleasingEvent",
            "CallReleasedEvent",
            "HookStatusEvent",
        ]
        assert events[2].call.release_cause == "User Not Found"
        assert events[2].call.remote_party.address == "tel:" + address


def test_treatment_until_timeout(clock):
    """With a treatment time, the failed call stays until it ends (or the
    caller hangs up)."""
    engine = CallEngine(clock, users=5, treatment_time=4.0)
    rec = Recorder(engine)
    engine.dial("2001", "2999")
    assert seq(rec.take())[-1] == ("2001", "CallReleasingEvent", "Alerting")
    assert engine.calls_of("2001")[0].release_cause == "User Not Found"
    clock.advance(4)
    assert seq(rec.take()) == [
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
    ]
    engine.dial("2001", "2999")
    engine.release("2001")
    assert clock.getDelayedCalls() == []


def test_invalid_addresses_are_refused(engine, rec):
    """Letters, empty addresses, other domains and self-calls: 400, no events."""
    for address in ("bob", "", "sip:bob@other.com", "2001"):
        with pytest.raises(SimulatorError) as e:
            engine.dial("2001", address)
        assert e.value.status_code == 400
        assert e.value.error_code == ErrorCode.INVALID_ARGUMENT
    with pytest.raises(SimulatorError) as e:
        engine.dial("1999", "2002")
    assert (e.value.status_code, e.value.error_code) == (404, ErrorCode.UNKNOWN_USER)
    assert rec.take() == []


# ------------------------------------------------------------ network party


def test_network_destination_alerts_and_answers(engine, rec):
    """A long number outside the platform is a network party: no events for
    it; it answers and hangs up through the network_* methods."""
    call = engine.dial("2001", "+4930123456")
    assert call.remote_party.call_type == "Network"
    assert call.remote_party.address == "tel:+4930123456"
    rec.take()
    (network,) = engine.network_calls()
    assert network.ext_tracking_id == call.ext_tracking_id
    engine.network_answer("+4930123456")
    assert seq(rec.take()) == [("2001", "CallAnsweredEvent", "Active")]
    engine.network_release("tel:+4930123456", call.ext_tracking_id)
    events = rec.take()
    assert seq(events) == [
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
    ]
    assert events[0].call.releasing_party == "remoteRelease"
    with pytest.raises(SimulatorError):
        engine.network_answer("+4930123456")


def test_network_party_calls_in(engine, rec):
    """An external caller: the user gets CallReceived from a Network party."""
    network = engine.network_call("+4930123456", "2002")
    events = rec.take()
    assert seq(events) == [("2002", "CallReceivedEvent", "Alerting")]
    assert events[0].call.remote_party.call_type == "Network"
    assert events[0].call.ext_tracking_id == network.ext_tracking_id
    engine.answer("2002")
    assert seq(rec.take()) == [
        ("2002", "HookStatusEvent", "Off-Hook"),
        ("2002", "CallAnsweredEvent", "Active"),
    ]
    with pytest.raises(SimulatorError):
        engine.network_call("2001", "2002")


# ----------------------------------------------------------------- transfers


def test_blind_transfer(engine, rec):
    """2001 talks to 2002 and blind-transfers it to 2003: 2001 CallRedirected
    (Detached, reason transfer) + CallReleased; 2002 CallTransferred back to
    Alerting; 2003 CallReceived; 2003 answers and 2002 is answered again."""
    a, b = connected(engine, rec)
    engine.blind_transfer("2001", a.call_id, "2003")
    events = rec.take()
    assert seq(events) == [
        ("2001", "CallRedirectedEvent", None),
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
        ("2002", "CallTransferredEvent", "Alerting"),
        ("2003", "CallReceivedEvent", "Alerting"),
    ]
    (detached,) = events[0].calls
    assert detached.state == "Detached" and detached.call_id == a.call_id
    assert detached.redirect.reason == "transfer"
    assert detached.redirect.address == "tel:+15550002003"
    assert detached.detached_time == T0 * 1000
    transferred, received = events[3].call, events[4].call
    assert transferred.remote_party.user_id == "2003@example.com"
    assert transferred.ext_tracking_id == received.ext_tracking_id == b.ext_tracking_id
    assert received.remote_party.user_id == "2002@example.com"
    engine.answer("2003")
    assert seq(rec.take()) == [
        ("2003", "HookStatusEvent", "Off-Hook"),
        ("2003", "CallAnsweredEvent", "Active"),
        ("2002", "CallAnsweredEvent", "Active"),
    ]


def test_deflect_alerting_call(engine, rec):
    """blind_transfer of an alerting call is a deflection: the caller sees
    CallForwarded to the new destination."""
    engine.dial("2001", "2002")
    b = engine.calls_of("2002")[0]
    rec.take()
    engine.blind_transfer("2002", b.call_id, "2004")
    events = rec.take()
    assert seq(events) == [
        ("2002", "CallRedirectedEvent", None),
        ("2002", "CallReleasedEvent", "Released"),
        ("2001", "CallForwardedEvent", "Alerting"),
        ("2004", "CallReceivedEvent", "Alerting"),
    ]
    assert events[0].calls[0].redirect.reason == "deflection"
    assert events[2].call.remote_party.user_id == "2004@example.com"


def test_blind_transfer_refusals(engine, rec):
    """Busy or unknown destinations, and transfers to a party of the call, are refused."""
    a, b = connected(engine, rec)
    engine.set_user_options("2003", busy=True)
    with pytest.raises(SimulatorError) as e:
        engine.blind_transfer("2001", a.call_id, "2003")
    assert (e.value.status_code, e.value.error_code) == (409, ErrorCode.DESTINATION_BUSY)
    with pytest.raises(SimulatorError) as e:
        engine.blind_transfer("2001", a.call_id, "2999")
    assert e.value.error_code == ErrorCode.DESTINATION_NOT_FOUND
    with pytest.raises(SimulatorError) as e:
        engine.blind_transfer("2001", a.call_id, "2002")
    assert e.value.status_code == 400
    assert rec.take() == []


def test_consultative_transfer(engine, rec):
    """2002 calls 2001; 2001 consults 2003 (2002 auto-held) and transfers:
    2001's halves are released; 2002 joins the consultation call
    (CallTransferred: new extTrackingId and personality, Active); 2003 sees
    its new remote party (CallUpdated)."""
    engine.dial("2002", "2001")
    engine.answer("2001")
    first = engine.calls_of("2001")[0]
    engine.dial("2001", "2003")
    engine.answer("2003")
    consult = engine.calls_of("2001")[1]
    rec.take()
    engine.consultative_transfer("2001", first.call_id, consult.call_id)
    events = rec.take()
    assert seq(events) == [
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
        ("2002", "CallTransferredEvent", "Active"),
        ("2003", "CallUpdatedEvent", "Active"),
    ]
    assert {events[0].call.call_id, events[1].call.call_id} == {
        first.call_id,
        consult.call_id,
    }
    transferred, updated = events[3].call, events[4].call
    assert transferred.ext_tracking_id == consult.ext_tracking_id == updated.ext_tracking_id
    assert transferred.personality == "Originator"  # 2001's role in the consultation
    assert transferred.remote_party.user_id == "2003@example.com"
    assert updated.remote_party.user_id == "2002@example.com"
    assert engine.status()["calls"] == 1
    engine.release("2003")
    assert [n.user_id for n in rec.take() if n.call] == [
        "2003@example.com",
        "2002@example.com",
    ]


def test_consultative_transfer_to_alerting_consultation(engine, rec):
    """Transfer before the consulted party answers: the held party now hears
    ringing (CallTransferred, Alerting); the answer connects them."""
    a, b = connected(engine, rec)
    consult = engine.dial("2001", "2003")
    rec.take()
    engine.consultative_transfer("2001", a.call_id, consult.call_id)
    events = rec.take()
    assert seq(events)[-2:] == [
        ("2002", "CallTransferredEvent", "Alerting"),
        ("2003", "CallUpdatedEvent", "Alerting"),
    ]
    engine.answer("2003")
    assert seq(rec.take())[-1] == ("2002", "CallAnsweredEvent", "Active")


# ----------------------------------------------------- conference, DTMF, ...


def test_three_way_conference(engine, rec):
    """Conference of a held and an active call: the held one is retrieved,
    then ConferenceStarted lists both callIds; hanging up ends it all."""
    a, b = connected(engine, rec)
    c = engine.dial("2001", "2003")
    engine.answer("2003")
    rec.take()
    conference = engine.conference_start("2001", [a.call_id, c.call_id])
    events = rec.take()
    assert seq(events) == [
        ("2001", "CallRetrievedEvent", "Active"),
        ("2002", "CallRetrievedEvent", "Active"),
        ("2001", "ConferenceStartedEvent", "Active"),
    ]
    assert conference.participants == (a.call_id, c.call_id)
    assert events[2].conference == conference
    calls, snap_conference, hook = engine.snapshot("2001")
    assert snap_conference == conference and hook == "Off-Hook" and len(calls) == 2
    with pytest.raises(SimulatorError) as e:
        engine.conference_start("2001", [a.call_id, c.call_id])
    assert e.value.status_code == 409
    engine.release("2001")
    assert seq(rec.take()) == [
        ("2001", "ConferenceReleasedEvent", "Released"),
        ("2001", "CallReleasedEvent", "Released"),
        ("2002", "CallReleasedEvent", "Released"),
        ("2002", "HookStatusEvent", "On-Hook"),
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "HookStatusEvent", "On-Hook"),
        ("2003", "CallReleasedEvent", "Released"),
        ("2003", "HookStatusEvent", "On-Hook"),
    ]


def test_conference_released_when_a_party_leaves(engine, rec):
    """A three-way conference ends (ConferenceReleased) when one leg goes."""
    a, b = connected(engine, rec)
    c = engine.dial("2001", "2003")
    engine.answer("2003")
    engine.conference_start("2001", [a.call_id, c.call_id])
    rec.take()
    engine.release("2003")
    assert seq(rec.take()) == [
        ("2003", "CallReleasedEvent", "Released"),
        ("2003", "HookStatusEvent", "On-Hook"),
        ("2001", "CallReleasedEvent", "Released"),
        ("2001", "ConferenceReleasedEvent", "Released"),
    ]
    assert engine.snapshot("2001")[1] is None


def test_conference_refusals(engine, rec):
    """One call, duplicates, or an alerting call cannot make a conference."""
    a, b = connected(engine, rec)
    alerting = engine.dial("2001", "2003")
    for ids in ([a.call_id], [a.call_id, a.call_id], [a.call_id, alerting.call_id]):
        with pytest.raises(SimulatorError) as e:
            engine.conference_start("2001", ids)
        assert e.value.status_code == 400


def test_dtmf_validates_without_events(engine, rec):
    """DTMF has no event; it needs an active call and valid digits."""
    a, b = connected(engine, rec)
    engine.transmit_dtmf("2001", a.call_id, "12#*,A")
    assert rec.take() == []
    with pytest.raises(SimulatorError):
        engine.transmit_dtmf("2001", a.call_id, "12x")
    engine.hold("2001")
    rec.take()
    with pytest.raises(SimulatorError) as e:
        engine.transmit_dtmf("2001", a.call_id, "1")
    assert e.value.error_code == ErrorCode.INVALID_STATE


def test_reconnect_releases_the_others(engine, rec):
    """Reconnect: the other calls are released, the held one retrieved."""
    a, b = connected(engine, rec)
    engine.dial("2001", "2003")  # holds the first call
    rec.take()
    engine.reconnect("2001", a.call_id)
    assert seq(rec.take()) == [
        ("2001", "CallReleasedEvent", "Released"),
        ("2003", "CallReleasedEvent", "Released"),
        ("2001", "CallRetrievedEvent", "Active"),
        ("2002", "CallRetrievedEvent", "Active"),
    ]


def test_call_control_errors(engine, rec):
    """Unknown calls are 404; a call of another user is unknown too; a user
    without a suitable call gets 400."""
    a, b = connected(engine, rec)
    with pytest.raises(SimulatorError) as e:
        engine.hold("2001", "callhalf-999:1")
    assert (e.value.status_code, e.value.error_code) == (404, ErrorCode.UNKNOWN_CALL)
    with pytest.raises(SimulatorError) as e:
        engine.hold("2003", a.call_id)
    assert e.value.status_code == 404
    with pytest.raises(SimulatorError) as e:
        engine.answer("2001")
    assert e.value.status_code == 400
    with pytest.raises(SimulatorError) as e:
        engine.retrieve("2001")
    assert e.value.status_code == 400


def test_listener_failure_does_not_stop_delivery(engine):
    """A listener that raises is logged; the others still get every event."""
    seen = []

    def broken(n):
        raise RuntimeError("boom")

    engine.add_listener(broken)
    engine.add_listener(seen.append)
    engine.dial("2001", "2002")
    assert len(seen) == 3
    engine.remove_listener(broken)


def test_listener_reentry_keeps_order(engine):
    """A listener acting on the engine sees its events after the current ones."""
    seen = []

    def answer_on_ring(n):
        seen.append((n.user_id[:4], n.event_type))
        if n.event_type == "CallReceivedEvent":
            engine.answer(n.user_id, n.call.call_id)

    engine.add_listener(answer_on_ring)
    engine.dial("2001", "2002")
    assert seen == [
        ("2001", "HookStatusEvent"),
        ("2001", "CallOriginatedEvent"),
        ("2002", "CallReceivedEvent"),
        ("2002", "HookStatusEvent"),
        ("2002", "CallAnsweredEvent"),
        ("2001", "CallAnsweredEvent"),
    ]


# ------------------------------------------------------------------ failover


def _failover_scene(engine):
    """2001->2002 answered, 2003->2004 answered, 2005->2006 alerting,
    2007->2008 answered then held by 2008."""
    calls = {}
    for a, b in (("2001", "2002"), ("2003", "2004"), ("2005", "2006"), ("2007", "2008")):
        calls[a] = engine.dial(a, b)
        if b != "2006":
            engine.answer(b)
    engine.hold("2008")
    return calls


def test_ungraceful_failover_orphans_calls_and_resyncs_receivers(engine, rec, clock):
    """Orphans vanish from snapshots; after resync_delay the peer AS sends an
    unsolicited CallSubscriptionEvent to 2002, 2004 and 2008 only."""
    _failover_scene(engine)
    rec.take()
    engine.failover("ungraceful")
    assert rec.take() == []
    assert engine.status() == {
        "active_as": "secondary",
        "users": 20,
        "calls": 0,
        "orphaned_calls": 4,
        "queued_calls": 0,
        "route_point_calls": 0,
        "agents_available": 0,
        "app_controller": "ready",
    }
    for n in range(2001, 2009):
        assert engine.snapshot(str(n)) == ((), None, "On-Hook")
        assert engine.calls_of(str(n)) == ()
    clock.advance(0.5)
    assert rec.take() == []
    clock.advance(0.5)
    events = rec.take()
    assert events == [
        Notification(user, "CallSubscriptionEvent", hook_status="On-Hook")
        for user in ("2002@example.com", "2004@example.com", "2008@example.com")
    ]
    assert clock.getDelayedCalls() == []


def test_call_control_on_orphans_fails_and_hang_up_is_silent(engine, rec):
    """CTI call control on an orphan raises (404 CALL_ORPHANED); the phone
    hang-up removes it with no event."""
    calls = _failover_scene(engine)
    engine.failover("ungraceful")
    rec.take()
    orphan = calls["2001"]
    for action in (engine.hold, engine.release, engine.retrieve, engine.answer):
        with pytest.raises(SimulatorError) as e:
            action("2001", orphan.call_id)
        assert (e.value.status_code, e.value.error_code) == (404, ErrorCode.CALL_ORPHANED)
    with pytest.raises(SimulatorError) as e:
        engine.blind_transfer("2001", orphan.call_id, "2010")
    assert e.value.error_code == ErrorCode.CALL_ORPHANED
    with pytest.raises(SimulatorError) as e:
        engine.answer("2006")  # its alerting call is orphaned
    assert e.value.error_code == ErrorCode.CALL_ORPHANED
    engine.hang_up("2002")  # no callId: the phone's current (orphaned) call
    engine.hang_up("2005", calls["2005"].call_id)
    assert rec.take() == []
    assert engine.status()["orphaned_calls"] == 2
    engine.stop()


def test_new_calls_after_ungraceful_failover_use_a_fresh_id_space(engine, rec, clock):
    """New calls run on the peer AS with fresh ids and normal events; the
    resync then lists only them."""
    calls = _failover_scene(engine)
    old_ids = {c.ext_tracking_id for c in calls.values()}
    engine.failover("ungraceful")
    rec.take()
    new = engine.dial("2009", "2002")
    events = rec.take()
    assert seq(events) == [
        ("2009", "HookStatusEvent", "Off-Hook"),
        ("2009", "CallOriginatedEvent", "Alerting"),
        ("2002", "CallReceivedEvent", "Alerting"),
    ]
    assert new.ext_tracking_id == "1:2" and new.ext_tracking_id not in old_ids
    assert new.call_id.endswith(":2")
    engine.answer("2002")
    rec.take()
    clock.advance(1)
    resync = [n for n in rec.take() if n.user_id == "2002@example.com"]
    assert len(resync) == 1
    assert resync[0].event_type == "CallSubscriptionEvent"
    assert [c.ext_tracking_id for c in resync[0].calls] == ["1:2"]
    assert resync[0].hook_status == "Off-Hook"
    assert engine.status()["calls"] == 1


def test_resync_event_type_is_configurable(clock):
    """resync_event='CallSubscriptionResyncEvent' names the unsolicited event."""
    engine = CallEngine(clock, users=5, resync_delay=2, resync_event="CallSubscriptionResyncEvent")
    rec = Recorder(engine)
    engine.dial("2001", "2002")
    engine.answer("2002")
    engine.failover("ungraceful")
    rec.take()
    clock.advance(2)
    assert seq(rec.take()) == [("2002", "CallSubscriptionResyncEvent", None)]
    with pytest.raises(ValueError):
        CallEngine(clock, resync_event="Nope")


def test_stop_cancels_pending_resyncs(engine, clock):
    """stop() leaves no delayed call behind."""
    engine.dial("2001", "2002")
    engine.answer("2002")
    engine.failover("ungraceful")
    assert len(clock.getDelayedCalls()) == 1
    engine.stop()
    assert clock.getDelayedCalls() == []


def test_graceful_failover_loses_nothing(engine, rec):
    """Graceful: the active AS flips, calls and their ids stay, control works,
    no resync."""
    calls = _failover_scene(engine)
    before = {n: engine.snapshot(str(n)) for n in range(2001, 2009)}
    rec.take()
    engine.failover("graceful")
    assert rec.take() == []
    assert engine.status() == {
        "active_as": "secondary",
        "users": 20,
        "calls": 4,
        "orphaned_calls": 0,
        "queued_calls": 0,
        "route_point_calls": 0,
        "agents_available": 0,
        "app_controller": "ready",
    }
    assert {n: engine.snapshot(str(n)) for n in range(2001, 2009)} == before
    engine.release("2001", calls["2001"].call_id)
    assert [e for _, e, _ in seq(rec.take())][0] == "CallReleasedEvent"
    assert engine.dial("2011", "2012").ext_tracking_id == "5:1"
    engine.failover("graceful")
    assert engine.status()["active_as"] == "primary"


def test_failover_mode_is_checked(engine):
    with pytest.raises(SimulatorError) as e:
        engine.failover("sideways")
    assert e.value.status_code == 400
    assert engine.status()["active_as"] == "primary"


def test_network_party_of_an_orphan_hangs_up_silently(engine, rec):
    """An orphaned call with an external party ends silently when it hangs up."""
    engine.dial("2001", "+4930123456")
    engine.network_answer("+4930123456")
    engine.failover("ungraceful")
    rec.take()
    assert engine.network_calls() == ()
    engine.network_release("+4930123456")
    assert rec.take() == []
    assert engine.status()["orphaned_calls"] == 0


# ------------------------------------------------------------ schema check

# shared/ sits beside the checkout (shared/README.md)
_BW_VALIDATE = Path(__file__).resolve().parents[3] / "shared" / "tools" / "bw-validate"


def _validator():
    import importlib.machinery
    import importlib.util

    if not _BW_VALIDATE.exists():
        pytest.skip("shared/tools/bw-validate not beside the checkout")
    loader = importlib.machinery.SourceFileLoader("bw_validate", str(_BW_VALIDATE))
    spec = importlib.util.spec_from_loader("bw_validate", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.validate_bytes


def test_every_notification_builds_a_schema_valid_event(engine, rec, clock):
    """Each kind of notification the engine emits, wrapped in the Xsi envelope,
    validates against the official schemas."""
    from lxml import etree

    from csta_connector.broadworks.xsi import SubscriptionEvent, event_element

    validate = _validator()
    events = []
    engine.add_listener(events.append)
    a, b = connected(engine, rec)
    engine.hold("2002")
    c = engine.dial("2001", "2003")  # holds a
    engine.answer("2003")
    engine.conference_start("2001", [a.call_id, c.call_id])
    engine.release("2001")
    a, b = connected(engine, rec)
    engine.blind_transfer("2001", a.call_id, "2004")
    engine.dial("2005", "2006")
    engine.blind_transfer("2006", engine.calls_of("2006")[0].call_id, "2007")
    engine.dial("2008", "2999")
    engine.click_to_dial("2009", "+4930123456")
    engine.set_user_options("2011", busy=True)
    engine.dial("2010", "2011")
    x, y = connected(engine, rec, "2012", "2013")
    z = engine.dial("2013", "2014")
    engine.consultative_transfer("2013", y.call_id, z.call_id)
    engine.failover("ungraceful")
    engine.dial("2015", "2016")
    engine.answer("2016")
    clock.advance(1)
    kinds = {n.event_type for n in events}
    assert {
        "CallRedirectedEvent",
        "CallForwardedEvent",
        "CallReleasingEvent",
        "CallOriginatingEvent",
        "ConferenceStartedEvent",
        "ConferenceReleasedEvent",
        "CallTransferredEvent",
        "CallUpdatedEvent",
        "CallSubscriptionEvent",
        "HookStatusEvent",
    } <= kinds
    for i, n in enumerate(events):
        event = SubscriptionEvent(
            event_type=n.event_type,
            event_id="e%d" % i,
            sequence_number=i + 1,
            user_id=n.user_id,
            external_application_id="app",
            subscription_id="sub",
            channel_id="chan",
            target_id=n.user_id,
            call=n.call,
            calls=n.calls,
            conference=n.conference,
            hook_status=n.hook_status,
        )
        document = etree.tostring(event_element(event), xml_declaration=True, encoding="UTF-8")
        assert validate(document) == [], (n, document)
