"""The call model: real simulator event sequences applied, queries, links."""

from dataclasses import fields

import pytest
from twisted.internet.task import Clock

from csta_connector.broadworks import xsi
from csta_connector.csta import messages as m
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
from csta_connector.services.translate import translate
from csta_connector.simulator.engine import CallEngine

T0 = 1_700_000_000


def wrap(notification, seq, owner="app@example.com"):
    """A simulator Notification in its subscription envelope, as the link
    delivers it (the owner is the application, the target the user)."""
    return xsi.SubscriptionEvent(
        event_type=notification.event_type,
        event_id="e%d" % seq,
        sequence_number=seq,
        user_id=owner,
        external_application_id="csta-connector",
        subscription_id="sub-" + notification.user_id,
        target_id=notification.user_id,
        call=notification.call,
        calls=notification.calls,
        conference=notification.conference,
        hook_status=notification.hook_status,
    )


def _fmt(value):
    if isinstance(value, m.ConnectionID):
        if value.device_id is None:
            return value.call_id
        return "%s/%s" % (value.call_id, value.device_id)
    return value


def brief(event):
    """(name, every scalar field but the cross ref id, in wire order);
    connections as 'callID/deviceID'."""
    return (type(event).__name__[: -len("Event")],) + tuple(
        _fmt(getattr(event, f.name))
        for f in fields(event)
        if f.name != "cross_ref_id" and not isinstance(getattr(event, f.name), tuple)
    )


class Harness:
    """The simulator's engine on a Clock feeding a CallModel; every change
    translated. Snapshot events are kept aside for sync tests."""

    def __init__(self, monitored=None, **engine_options):
        self.clock = Clock()
        self.clock.advance(T0)
        self.engine = CallEngine(self.clock, users=20, **engine_options)
        self.model = CallModel()
        self.monitored = monitored  # None: every user
        self.changes = []  # (device, change)
        self.events = []  # (device, CSTA event)
        self.snapshots = []  # wrapped CallSubscription(Resync)Events
        self._seq = 0
        self.engine.add_listener(self._on_notification)

    def _on_notification(self, notification):
        self._seq += 1
        event = wrap(notification, self._seq)
        device = notification.user_id.partition("@")[0]
        if self.monitored is not None and device not in self.monitored:
            return
        if event.is_snapshot:
            self.snapshots.append(event)
            return
        for change in self.model.apply(event):
            self.changes.append((device, change))
            for csta in translate(change):
                self.events.append((device, csta))

    def take(self):
        """(device, brief event) since the last take."""
        out = [(device, brief(e)) for device, e in self.events]
        del self.events[:]
        return out

    def take_changes(self):
        out = list(self.changes)
        del self.changes[:]
        return out

    def snapshot_event(self, user, event_type="CallSubscriptionEvent"):
        """A CallSubscriptionEvent of the engine's current view of ``user``."""
        calls, conference, hook = self.engine.snapshot(user)
        self._seq += 1
        return xsi.SubscriptionEvent(
            event_type=event_type,
            event_id="e%d" % self._seq,
            sequence_number=self._seq,
            user_id="app@example.com",
            external_application_id="csta-connector",
            subscription_id="sub-" + user,
            target_id=user + "@example.com",
            calls=calls,
            conference=conference,
            hook_status=hook,
        )

    def stop(self):
        self.engine.stop()


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


def _consult_and_answer(h):
    """2002 calls 2001, 2001 consults 2003: 2001's (held, active) parties."""
    h.engine.dial("2002", "2001")
    h.engine.answer("2001")
    h.engine.dial("2001", "2003")
    h.engine.answer("2003")
    held, active = h.model.parties_of("2001")
    return held, active


@pytest.mark.parametrize("monitored", [{"2001"}, None], ids=["transferrer only", "everyone"])
def test_a_transfer_asked_for_is_one_transferred_for_the_transferring_device(monitored):
    h = Harness(monitored=monitored)
    try:
        held, active = _consult_and_answer(h)
        h.take()
        h.model.expect_transfer(held.party_id, active.party_id)
        h.engine.consultative_transfer("2001", held.party_id, active.party_id)
        mine = [event for device, event in h.take() if device == "2001"]
        assert mine == [
            ("Transferred", "1:1/2001", "2:1/2001", "2001", "2003", "null", "transfer")
        ]
        assert h.model.parties_of("2001") == ()
        assert not h.model._transfers  # nothing left behind
    finally:
        h.stop()


def test_a_refused_transfer_leaves_releases_as_releases():
    h = Harness(monitored={"2001"})
    try:
        held, active = _consult_and_answer(h)
        h.model.expect_transfer(held.party_id, active.party_id)
        h.model.forget_transfer(held.party_id, active.party_id)
        h.take()
        h.engine.release("2001")  # hangs up the active call
        assert [e[0] for _, e in h.take()] == ["ConnectionCleared", "CallCleared"]
        assert h.model.parties_of("2001") == (h.model.party(held.party_id),)
    finally:
        h.stop()


def test_expected_transfers_are_bounded_and_forgotten_with_their_parties(h):
    from csta_connector.model import calls

    for i in range(calls._MAX_TRANSFERS):
        h.model.expect_transfer("held-%d" % i, "active-%d" % i)
    assert len(h.model._transfers) == calls._MAX_TRANSFERS
    held, active = _consult_and_answer(h)
    h.model.expect_transfer(held.party_id, active.party_id)
    assert h.model._transfers[held.party_id] == (held.party_id, active.party_id)
    h.model.remove_device("2001")
    assert held.party_id not in h.model._transfers and active.party_id not in h.model._transfers


@pytest.mark.parametrize("asked, expected", [("2003", "2003"), (None, "+15550002003")])
def test_a_redirect_asked_for_names_the_destination_as_the_client_gave_it(asked, expected):
    h = Harness(monitored={"2002"})
    try:
        h.engine.dial("2001", "2002")
        (party,) = h.model.parties_of("2002")
        if asked is not None:
            h.model.expect_redirect(party.party_id, asked)
        h.engine.blind_transfer("2002", party.party_id, "2003")  # a deflection: it rings
        diverted = [e for _, e in h.take() if e[0] == "Diverted"]
        assert [d[2:4] for d in diverted] == [("2002", expected)]  # diverting, new destination
        assert not h.model._destinations
    finally:
        h.stop()


def test_a_refused_redirect_is_forgotten(h):
    h.engine.dial("2001", "2002")
    (party,) = h.model.parties_of("2002")
    h.model.expect_redirect(party.party_id, "2003")
    h.model.forget_redirect(party.party_id, "2004")  # another request's: kept
    assert h.model._destinations == {party.party_id: "2003"}
    h.model.forget_redirect(party.party_id, "2003")
    assert not h.model._destinations


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
