"""AS failover synchronization (SPEC §6) on the simulator's real events."""

import pytest

from csta_connector.model.calls import CallModel, PartyAdded, PartyChanged, PartyRemoved
from csta_connector.model.sync import synchronize
from csta_connector.services.translate import translate_all
from csta_connector.testing import Harness, brief

STF = "switchingFunctionTerminated"


@pytest.fixture
def h():
    harness = Harness()
    yield harness
    harness.stop()


def failover_scene(h):
    """2001->2002 answered, 2003->2004 answered, 2005->2006 alerting,
    2007->2008 answered then held by 2008."""
    for a, b in (("2001", "2002"), ("2003", "2004"), ("2005", "2006"), ("2007", "2008")):
        h.engine.dial(a, b)
        if b != "2006":
            h.engine.answer(b)
    h.engine.hold("2008")
    h.take()


def sync_events(result):
    return [brief(e) for e in translate_all(result.changes)]


def test_ungraceful_failover_resync_clears_only_that_users_party(h):
    """The peer AS resyncs 2002, 2004, 2008 with no calls: each sync clears
    that user's party only; the callers' parties stay (their own sync clears
    them), so no CallCleared yet."""
    failover_scene(h)
    before = h.model.counts()
    h.engine.failover("ungraceful")
    h.clock.advance(1)
    assert [(e.target_id, e.event_type, e.calls) for e in h.snapshots] == [
        ("2002@example.com", "CallSubscriptionEvent", ()),
        ("2004@example.com", "CallSubscriptionEvent", ()),
        ("2008@example.com", "CallSubscriptionEvent", ()),
    ]
    resync_2002 = h.snapshots[0]
    others = {d: h.model.parties_of(d) for d in ("2001", "2003", "2004", "2005", "2006", "2007", "2008")}
    stuck = h.model.parties_of("2002")[0]
    result = synchronize(h.model, "2002", resync_2002)
    assert result.device == "2002"
    assert [(p.party_id, gone) for p, gone in result.cleared] == [(stuck.party_id, False)]
    assert result.added == () and result.corrected == ()
    assert sync_events(result) == [
        ("ConnectionCleared", "1:1/2002", "2002", "null", STF),
    ]
    assert h.model.parties_of("2002") == ()
    assert {d: h.model.parties_of(d) for d in others} == others
    assert h.model.counts().parties == before.parties - 1
    # the held call: 2008's hold party is cleared, 2007's stays
    result = synchronize(h.model, "2008", h.snapshots[2])
    assert sync_events(result) == [("ConnectionCleared", "4:1/2008", "2008", "null", STF)]
    assert [p.device for p in h.model.call("4:1")] == ["2007"]


def test_clearing_the_last_known_connection_clears_the_call(h):
    """Once 2002 is cleared, clearing 2001 (its snapshot after the failover
    lists nothing) also clears the call."""
    failover_scene(h)
    h.engine.failover("ungraceful")
    h.clock.advance(1)
    synchronize(h.model, "2002", h.snapshots[0])
    result = synchronize(h.model, "2001", h.snapshot_event("2001"))
    assert result.cleared[0][1] is True
    assert sync_events(result) == [
        ("ConnectionCleared", "1:1/2001", "2001", "null", STF),
        ("CallCleared", "1:1", STF),
    ]
    assert "1:1" not in h.model.calls()


def test_only_the_resynced_user_monitored_gets_call_cleared():
    """With only 2002 monitored, its party is the call's last known one."""
    h = Harness(monitored={"2002"})
    failover_scene(h)
    h.engine.failover("ungraceful")
    h.clock.advance(1)
    (resync,) = h.snapshots
    result = synchronize(h.model, "2002", resync)
    assert sync_events(result) == [
        ("ConnectionCleared", "1:1/2002", "2002", "null", STF),
        ("CallCleared", "1:1", STF),
    ]
    assert h.model.counts().parties == 0
    h.stop()


def test_resync_event_variant_and_new_calls_survive(h):
    """CallSubscriptionResyncEvent is handled the same way; a call made on
    the peer AS after the failover is listed and kept."""
    h.stop()
    h = Harness(resync_event="CallSubscriptionResyncEvent")
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    h.engine.failover("ungraceful")
    h.engine.dial("2009", "2002")  # new id space: 1:2
    h.engine.answer("2002")
    h.take()
    h.clock.advance(1)
    (resync,) = h.snapshots
    assert resync.event_type == "CallSubscriptionResyncEvent"
    result = synchronize(h.model, "2002", resync)
    assert [p.call_id for p, _ in result.cleared] == ["1:1"]
    assert result.added == () and result.corrected == ()
    assert [p.call_id for p in h.model.parties_of("2002")] == ["1:2"]
    h.stop()


def test_listed_but_unknown_call_is_added_with_its_state():
    """A fresh model (a restarted connector) learns every call from the
    snapshot, with the event a client needs for each state."""
    h = Harness(monitored=set())  # the model hears nothing
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    h.engine.dial("2003", "2001")  # waiting at 2001
    h.engine.click_to_dial("2005", "2001")  # third call to 2001, alerting
    h.engine.hold("2001")
    model = h.model
    result = synchronize(model, "2001", h.snapshot_event("2001"))
    assert result.cleared == () and result.corrected == ()
    assert [(p.call_id, p.state) for p in result.added] == [
        ("1:1", "hold"),
        ("2:1", "alerting"),
        ("3:1", "alerting"),
    ]
    assert all(isinstance(c, PartyAdded) for c in result.changes)
    assert sync_events(result) == [
        ("Held", "1:1/2001", "2001", "hold", "normal"),
        ("Delivered", "2:1/2001", "2001", "2003", "2001", None, "alerting", "newCall"),
        ("Delivered", "3:1/2001", "2001", "2005", "2001", None, "alerting", "newCall"),
    ]
    result = synchronize(model, "2002", h.snapshot_event("2002"))
    assert sync_events(result) == [
        ("Established", "1:1/2002", "2002", "2001", "2002", None, "connected", "newCall"),
    ]
    result = synchronize(model, "2003", h.snapshot_event("2003"))
    assert sync_events(result) == [
        ("Originated", "2:1/2003", "2003", "2001", None, "connected", "newCall"),
    ]
    assert model.counts().parties == 5
    h.stop()


def test_wrong_state_is_corrected(h):
    """Events lost (not fed): the model's states are corrected, with the
    event for the transition."""
    h.engine.dial("2001", "2002")
    h.take()
    h.monitored = set()  # lose the next events
    h.engine.answer("2002")
    h.engine.hold("2002")
    h.monitored = None
    old = h.model.parties_of("2002")[0]
    result = synchronize(h.model, "2002", h.snapshot_event("2002"))
    assert [(o.state, n.state) for o, n in result.corrected] == [("alerting", "hold")]
    assert result.cleared == () and result.added == ()
    assert isinstance(result.changes[0], PartyChanged) and result.changes[0].old == old
    assert sync_events(result) == [("Held", "1:1/2002", "2002", "hold", "normal")]
    assert h.model.parties_of("2002")[0].state == "hold"
    result = synchronize(h.model, "2001", h.snapshot_event("2001"))
    # 2001: still "connected" (remote held is connected): nothing to correct
    assert result.in_sync
    h.monitored = set()
    h.engine.retrieve("2002")
    h.monitored = None
    result = synchronize(h.model, "2002", h.snapshot_event("2002"))
    assert sync_events(result) == [("Retrieved", "1:1/2002", "2002", "connected", "normal")]
    h.engine.release("2001")


def test_alerting_corrected_to_connected_is_established(h):
    h.engine.dial("2001", "2002")
    h.monitored = set()
    h.engine.answer("2002")
    h.monitored = None
    result = synchronize(h.model, "2002", h.snapshot_event("2002"))
    assert sync_events(result) == [
        ("Established", "1:1/2002", "2002", "2001", "2002", None, "connected", "newCall"),
    ]
    h.engine.release("2001")


def test_identical_snapshot_changes_nothing(h):
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    h.engine.dial("2003", "2002")
    h.engine.hold("2001")
    before = h.model.parties_of("2002")
    for device in ("2001", "2002", "2003"):
        result = synchronize(h.model, device, h.snapshot_event(device))
        assert result.in_sync and result.changes == ()
    assert h.model.parties_of("2002") == before
    h.engine.release("2002")
    h.engine.release("2002")


def test_only_that_devices_parties_are_touched(h):
    """A snapshot of 2002 listing nothing clears 2002's parties of every call;
    no other device's party changes, even in the same calls."""
    h.engine.dial("2001", "2002")
    h.engine.answer("2002")
    h.engine.dial("2003", "2002")
    h.engine.dial("2004", "2005")
    snapshot = h.snapshot_event("2002")
    empty = type(snapshot)(
        event_type=snapshot.event_type,
        event_id="x",
        sequence_number=99,
        user_id=snapshot.user_id,
        external_application_id=snapshot.external_application_id,
        subscription_id=snapshot.subscription_id,
        target_id=snapshot.target_id,
        hook_status="On-Hook",
    )
    keep = {d: h.model.parties_of(d) for d in ("2001", "2003", "2004", "2005")}
    result = synchronize(h.model, "2002", empty)
    assert sorted(p.call_id for p, gone in result.cleared) == ["1:1", "2:1"]
    assert all(not gone for _, gone in result.cleared)
    assert all(isinstance(c, PartyRemoved) for c in result.changes)
    assert {d: h.model.parties_of(d) for d in keep} == keep
    # a snapshot naming another device's call half does not steal it
    other = h.snapshot_event("2001")
    result = synchronize(h.model, "2009", other)
    assert result.added == () and h.model.parties_of("2009") == ()
    assert h.model.parties_of("2001") == keep["2001"]


def test_sync_of_an_unknown_device_with_no_calls():
    model = CallModel()
    h = Harness(monitored=set())
    result = synchronize(model, "2001", h.snapshot_event("2001"))
    assert result.in_sync and result.changes == ()
    h.stop()


# -- a CallSubscriptionEvent older than a live event (issue 12: no false clears)


def test_a_snapshot_older_than_a_new_call_keeps_the_party_that_call_created(h):
    """2001's snapshot is taken (after the failover: no call), then 2001 makes
    a call on the peer AS whose events overtake the snapshot: the snapshot
    clears the stuck party, never the new one."""
    failover_scene(h)
    h.engine.failover("ungraceful")
    (stuck,) = h.model.parties_of("2001")
    older = h.snapshot_event("2001")
    assert older.calls == ()
    h.engine.dial("2001", "2010")
    new = [p for p in h.model.parties_of("2001") if p.party_id != stuck.party_id]
    assert [p.call_id for p in new] == ["1:2"]
    result = synchronize(h.model, "2001", older)
    assert [p.party_id for p, _ in result.cleared] == [stuck.party_id]
    assert result.kept == tuple(new)
    assert h.model.parties_of("2001") == tuple(new)
    # a snapshot newer than the call lists it: nothing kept, nothing to do
    assert synchronize(h.model, "2001", h.snapshot_event("2001")).in_sync


def test_a_snapshot_older_than_a_release_does_not_bring_the_call_back(h):
    h.engine.dial("2001", "2002")
    older = h.snapshot_event("2002")
    assert [c.state for c in older.calls] == ["Alerting"]
    h.engine.release("2001")
    assert h.model.parties_of("2002") == ()
    result = synchronize(h.model, "2002", older)
    assert result.in_sync and result.changes == ()
    assert h.model.parties_of("2002") == ()


def test_a_snapshot_older_than_an_answer_does_not_undo_it(h):
    h.engine.dial("2001", "2002")
    older = h.snapshot_event("2002")
    h.engine.answer("2002")
    (answered,) = h.model.parties_of("2002")
    result = synchronize(h.model, "2002", older)
    assert result.in_sync
    assert h.model.parties_of("2002") == (answered,) and answered.state == "connected"


def test_only_events_of_the_same_subscription_are_compared(h):
    """A new subscription numbers its events from 1 again: its snapshot is
    not older than the events of the one before."""
    h.engine.dial("2001", "2002")
    h.engine.failover("ungraceful")
    (stuck,) = h.model.parties_of("2002")
    initial = h.snapshot_event("2002")._replace(subscription_id="sub-2002-again", sequence_number=1)
    result = synchronize(h.model, "2002", initial)
    assert [p.party_id for p, _ in result.cleared] == [stuck.party_id]


def test_sequence_numbers_compare_across_the_wrap():
    from csta_connector.model.calls import MAX_SEQUENCE, sequence_newer

    assert sequence_newer(5, 4) and not sequence_newer(4, 5) and not sequence_newer(4, 4)
    assert sequence_newer(1, MAX_SEQUENCE) and sequence_newer(3, MAX_SEQUENCE - 2)
    assert not sequence_newer(MAX_SEQUENCE, 1)
