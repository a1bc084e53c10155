"""The call model: real simulator event sequences applied, queries, links."""

import pytest

from csta_connector.broadworks import xsi
from csta_connector.model import calls
from csta_connector.model.calls import (
    CallModel,
    Conferenced,
    ModelCounts,
    PartyChanged,
    PartyRemoved,
    PartyTransferred,
    address_device,
    local_state,
)
from csta_connector.services import callcontrol
from csta_connector.testing import Harness, consult_and_answer

@pytest.fixture
def h():
    harness = Harness()
    yield harness
    harness.stop()


# ------------------------------------------------------------------ states


def _call(state, personality="Terminator", answer_time=None, release_cause=None):
    return xsi.Call(
        call_id="callhalf-1:1",
        ext_tracking_id="1:1",
        personality=personality,
        state=state,
        answer_time=answer_time,
        release_cause=release_cause,
    )


@pytest.mark.parametrize(
    "call, expected",
    [
        (_call("Alerting"), "alerting"),
        (_call("Alerting", answer_time=5), "connected"),  # transferred: ringback
        (_call("Alerting", "Originator"), "connected"),
        (_call("Alerting", "Click-to-Dial"), "initiated"),
        (_call("Alerting", "Originator", release_cause="Busy"), "fail"),
        (_call("Active"), "connected"),
        (_call("Remote Held"), "connected"),
        (_call("Held"), "hold"),
        (_call("Released"), "null"),
        (_call("Detached"), "null"),
    ],
)
def test_local_state_of_xsi_states(call, expected):
    """Xsi state + personality -> ECMA LocalConnectionState."""
    assert local_state(call) == expected


def test_address_device():
    assert address_device("tel:+15550009999") == "+15550009999"
    assert address_device("tel:+15550002002;ext=2002") == "+15550002002"
    assert address_device("sip:bob@example.com") == "bob"
    assert address_device("2999") == "2999"
    assert address_device(None) is None
    assert address_device("") is None


# ------------------------------------------------------------- the model


def test_parties_calls_and_counts_during_a_call(h):
    """A dialled, answered call: one call, two parties, each device's own;
    the remote party is the other's extension."""
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    (a,) = h.model.parties_of("2001")
    (b,) = h.model.parties_of("2002")
    assert (a.call_id, a.device, a.state, a.personality, a.remote) == (
        "1:1", "2001", "connected", "Originator", "2002",
    )
    assert (b.call_id, b.device, b.state, b.personality, b.remote) == (
        "1:1", "2002", "connected", "Terminator", "2001",
    )
    assert a.party_id.startswith("callhalf-") and a.party_id != b.party_id
    assert h.model.party(a.party_id) is a
    assert set(h.model.call("1:1")) == {a, b}
    assert h.model.calls() == ("1:1",)
    assert h.model.counts() == ModelCounts(devices=2, calls=1, parties=2)
    assert (a.calling, a.called) == (b.calling, b.called) == ("2001", "2002")
    h.engine.release("2002")
    assert h.model.counts() == ModelCounts(0, 0, 0)
    assert h.model.parties_of("2001") == () and h.model.call("1:1") == ()


def test_change_objects_of_a_call(h):
    """apply() returns typed changes: added on origination/receipt, changed
    on answer, removed on release with call_gone only for the last one."""
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    h.engine.release("2001")
    kinds = [(d, type(c).__name__, c.event_type) for d, c in h.take_changes()]
    assert kinds == [
        ("2001", "PartyAdded", "CallOriginatedEvent"),
        ("2002", "PartyAdded", "CallReceivedEvent"),
        ("2002", "PartyChanged", "CallAnsweredEvent"),
        ("2001", "PartyChanged", "CallAnsweredEvent"),
        ("2001", "PartyRemoved", "CallReleasedEvent"),
        ("2002", "PartyRemoved", "CallReleasedEvent"),
    ]
    h.engine.dial("2001", "2002")
    h.engine.release("2001")
    removed = [c for _, c in h.take_changes() if isinstance(c, PartyRemoved)]
    assert [(c.party.device, c.call_gone, c.party.state) for c in removed] == [
        ("2001", False, "null"),
        ("2002", True, "null"),
    ]


def test_changes_are_immutable(h):
    h.engine.dial("2001", "2002")
    _, change = h.take_changes()[0]
    with pytest.raises(AttributeError):
        change.party = None
    with pytest.raises(AttributeError):
        change.party.state = "null"


def test_external_remote_party_is_its_number(h):
    """A network party (tel: URI, no userId) is known by its number."""
    h.engine.dial("2001", "+4930123456")
    assert h.model.parties_of("2001")[0].remote == "+4930123456"
    h.engine.network_release("+4930123456")
    h.engine.network_call("+4930123456", "2002")
    assert h.model.parties_of("2002")[0].remote == "+4930123456"


def test_device_from_target_id_or_explicit():
    """The event's device is the targetId's (not the owner userId's);
    an explicit device wins (the subscription manager maps by subscription)."""
    model = CallModel()
    call = xsi.Call("callhalf-1:1", "1:1", "Terminator", "Alerting")
    event = xsi.SubscriptionEvent(
        event_type="CallReceivedEvent", event_id="e", sequence_number=1,
        user_id="app@example.com", external_application_id="a",
        subscription_id="s", target_id="2002@example.com", call=call,
    )
    model.apply(event)
    assert [p.device for p in model.parties_of("2002")] == ["2002"]
    other = CallModel(device_of=lambda user: "dev-" + user)
    other.apply(event, device="2009")
    assert other.parties_of("2009")[0].device == "2009"


def test_snapshot_hook_and_unknown_events_change_nothing(h):
    h.engine.dial("2001", "2002")
    h.take_changes()
    before = h.model.parties_of("2001")
    for event in (
        h.snapshot_event("2001"),
        h.snapshot_event("2001", "CallSubscriptionResyncEvent"),
        xsi.SubscriptionEvent("HookStatusEvent", "e", 1, "a", "a", "s",
                              target_id="2001@example.com", hook_status="On-Hook"),
        xsi.SubscriptionEvent("AgentStateEvent", "e", 1, "a", "a", "s",
                              target_id="2001@example.com"),
    ):
        assert h.model.apply(event) == []
    assert h.model.parties_of("2001") == before


def test_release_of_an_unknown_call_half_is_ignored():
    """A half never reported to a client yields no change."""
    model = CallModel()
    call = xsi.Call("callhalf-9:1", "9:1", "Originator", "Released",
                    releasing_party="localRelease")
    event = xsi.SubscriptionEvent("CallReleasedEvent", "e", 1, "a", "a", "s",
                                  target_id="2001@example.com", call=call)
    assert model.apply(event) == []


def test_consultation_call_is_linked_to_the_held_call(h):
    """Dialling while talking holds the first call; the new call is a
    consultation of it."""
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    h.engine.dial("2001", "2003")
    first, consult = h.model.parties_of("2001")
    assert (first.state, first.consultation_of) == ("hold", None)
    assert (consult.call_id, consult.consultation_of) == ("2:1", "1:1")


def test_consultative_transfer_moves_the_party_to_the_new_call(h):
    """The held party's extTrackingId changes: it leaves call 1 (gone, no
    CallCleared) and joins call 2 in the transferring user's place."""
    h.engine.dial("2002", "2001")
    h.engine.answer("2001")
    first = h.engine.calls_of("2001")[0]
    h.engine.dial("2001", "2003")
    h.engine.answer("2003")
    consult = h.engine.calls_of("2001")[1]
    held_party = h.model.parties_of("2002")[0]
    h.take_changes()
    h.engine.consultative_transfer("2001", first.call_id, consult.call_id)
    changes = h.take_changes()
    transferred = [c for _, c in changes if isinstance(c, PartyTransferred)]
    assert [(c.party.device, c.old.call_id, c.party.call_id) for c in transferred] == [
        ("2002", "1:1", "2:1"),
        ("2003", "2:1", "2:1"),
    ]
    assert h.model.party(held_party.party_id).call_id == "2:1"
    assert h.model.calls() == ("2:1",)
    assert {p.device for p in h.model.call("2:1")} == {"2002", "2003"}
    assert not any(
        isinstance(c, PartyRemoved) and c.call_gone for _, c in changes
    )


@pytest.mark.parametrize("monitored", [{"2001"}, None], ids=["transferrer only", "everyone"])
def test_a_transfer_asked_for_is_one_transferred_for_the_transferring_device(monitored):
    h = Harness(monitored=monitored)
    try:
        held, active = consult_and_answer(h)
        h.take()
        h.expectations.expect_transfer(held.party_id, active.party_id)
        h.engine.consultative_transfer("2001", held.party_id, active.party_id)
        mine = [event for device, event in h.take() if device == "2001"]
        assert mine == [
            ("Transferred", "1:1/2001", "2:1/2001", "2001", "2003", "null", "transfer")
        ]
        assert h.model.parties_of("2001") == ()
        assert not h.expectations.transfers  # nothing left behind
    finally:
        h.stop()


def test_a_refused_transfer_leaves_releases_as_releases():
    h = Harness(monitored={"2001"})
    try:
        held, active = consult_and_answer(h)
        h.expectations.expect_transfer(held.party_id, active.party_id)
        h.expectations.forget_transfer(held.party_id, active.party_id)
        h.take()
        h.engine.release("2001")  # hangs up the active call
        assert [e[0] for _, e in h.take()] == ["ConnectionCleared", "CallCleared"]
        assert h.model.parties_of("2001") == (h.model.party(held.party_id),)
    finally:
        h.stop()


def test_expected_transfers_are_bounded_and_forgotten_with_their_parties(h):
    for i in range(callcontrol.MAX_EXPECTED):
        h.expectations.expect_transfer("held-%d" % i, "active-%d" % i)
    assert len(h.expectations.transfers) == callcontrol.MAX_EXPECTED
    held, active = consult_and_answer(h)
    h.expectations.expect_transfer(held.party_id, active.party_id)
    assert h.expectations.transfers[held.party_id] == (held.party_id, active.party_id)
    h.expectations.forget_parties(h.model.remove_device("2001"))  # as the core does
    assert held.party_id not in h.expectations.transfers and active.party_id not in h.expectations.transfers


@pytest.mark.parametrize("asked, expected", [("2003", "2003"), (None, "+15550002003")])
def test_a_redirect_asked_for_names_the_destination_as_the_client_gave_it(asked, expected):
    h = Harness(monitored={"2002"})
    try:
        h.engine.dial("2001", "2002")
        (party,) = h.model.parties_of("2002")
        if asked is not None:
            h.expectations.expect_redirect(party.party_id, asked)
        h.engine.blind_transfer("2002", party.party_id, "2003")  # a deflection: it rings
        diverted = [e for _, e in h.take() if e[0] == "Diverted"]
        assert [d[2:4] for d in diverted] == [("2002", expected)]  # diverting, new destination
        assert not h.expectations.destinations
    finally:
        h.stop()


def test_a_refused_redirect_is_forgotten(h):
    h.engine.dial("2001", "2002")
    (party,) = h.model.parties_of("2002")
    h.expectations.expect_redirect(party.party_id, "2003")
    h.expectations.forget_redirect(party.party_id, "2004")  # another request's: kept
    assert h.expectations.destinations == {party.party_id: "2003"}
    h.expectations.forget_redirect(party.party_id, "2003")
    assert not h.expectations.destinations


def test_conference_links_the_legs(h):
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    a = h.engine.calls_of("2001")[0]
    c = h.engine.dial("2001", "2003")
    h.engine.answer("2003")
    h.take_changes()
    h.engine.conference_start("2001", [a.call_id, c.call_id])
    (conferenced,) = [c for _, c in h.take_changes() if isinstance(c, Conferenced)]
    assert conferenced.device == "2001"
    assert [p.call_id for p in conferenced.parties] == ["1:1", "2:1"]
    assert {p.conference for p in h.model.parties_of("2001")} == {"1:1"}
    h.engine.release("2003")  # the conference ends, 2001-2002 remains
    assert [p.conference for p in h.model.parties_of("2001")] == [None]


def test_remove_device_drops_its_parties_silently(h):
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    h.engine.dial("2003", "2004")
    h.take_changes()
    dropped = h.model.remove_device("2001")
    assert [p.device for p in dropped] == ["2001"]
    assert h.model.parties_of("2001") == ()
    assert [p.device for p in h.model.call("1:1")] == ["2002"]
    h.model.remove_device("2003")
    assert h.model.call("2:1") != () and h.model.counts().parties == 2
    h.model.remove_device("2004")
    assert "2:1" not in h.model.calls()
    assert h.model.remove_device("2999") == ()


def test_only_monitored_devices_are_in_the_model():
    """A model fed only 2001's events knows only 2001's connection; its
    release is the call's last known one."""
    h = Harness(monitored={"2001"})
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    assert h.model.counts() == ModelCounts(1, 1, 1)
    h.engine.release("2002")
    assert h.take()[-2:] == [
        ("2001", ("ConnectionCleared", "1:1/2001", "2001", "null", "normalClearing")),
        ("2001", ("CallCleared", "1:1", "normalClearing")),
    ]
    h.stop()


def test_answer_changes_keep_old_and_new(h):
    h.engine.dial("2001", "2002")
    h.take_changes()
    h.engine.answer("2002")
    device, change = h.take_changes()[0]
    assert isinstance(change, PartyChanged)
    assert (change.old.state, change.party.state) == ("alerting", "connected")
    assert change.call.state == "Active"


def test_every_call_event_type_xsi_knows_has_a_handler():
    """The handler table comes from xsi's lists: a call event type xsi
    parses is never silently ignored by the model, and no handler waits for
    a type xsi does not parse."""
    handled = set(calls._HANDLERS)
    assert xsi.CALL_EVENT_TYPES | xsi.CALLS_EVENT_TYPES <= handled
    assert handled <= xsi.CALL_EVENT_TYPES | xsi.CALLS_EVENT_TYPES | xsi.CONFERENCE_EVENT_TYPES


def test_the_model_keeps_no_intentions():
    """apply(event) -> changes: what call control expects lives in its
    Expectations, not in the model."""
    model = calls.CallModel()
    assert not [name for name in calls.CallModel.__slots__ if "transfer" in name or "destination" in name]
    assert not hasattr(model, "expect_transfer") and not hasattr(model, "expect_redirect")
