"""Model changes -> CSTA events, per flow, on the simulator's real sequences.

Each test drives the simulator's CallEngine, feeds every user's Xsi events
to the model, translates every change and asserts the exact CSTA events per
device: (name, fields in wire order). The model is empty at the end.
"""

import dataclasses

import pytest

from csta_connector.csta import messages as m
from csta_connector.model.calls import CallModel
from csta_connector.services.translate import (
    digits_generated,
    snapshot_items,
    snapshot_items_from_calls,
    snapshot_response,
    translate,
)
from csta_connector.testing import Harness

A = "2001"
B = "2002"
C = "2003"
D = "2004"


@pytest.fixture
def h():
    harness = Harness()
    yield harness
    harness.stop()
    assert harness.model.counts().parties == 0, harness.model.parties_of
    assert harness.model.calls() == ()


def originated(cid, dev, called, cause="newCall"):
    return (dev, ("Originated", f"{cid}/{dev}", dev, called, None, "connected", cause))


def delivered(cid, dev, calling, called=None, last=None, cause="newCall"):
    return (dev, ("Delivered", f"{cid}/{dev}", dev, calling, called or dev, last,
                  "alerting", cause))


def established(cid, dev, answering, calling, called, last=None, cause="newCall"):
    return (dev, ("Established", f"{cid}/{answering}", answering, calling, called,
                  last, "connected", cause))


def cleared(cid, dev, cause="normalClearing", call_gone=False):
    out = [(dev, ("ConnectionCleared", f"{cid}/{dev}", dev, "null", cause))]
    if call_gone:
        out.append((dev, ("CallCleared", cid, cause)))
    return out


def connect(h, a=A, b=B):
    h.engine.dial(a, b)
    h.engine.answer(b)


# ------------------------------------------------------------- basic flows


def test_dial_answer_release_by_caller(h):
    connect(h)
    h.engine.release(A)
    assert h.take() == [
        originated("1:1", A, B),
        delivered("1:1", B, A),
        established("1:1", B, B, A, B),
        established("1:1", A, B, A, B),  # the caller sees the callee answer
        *cleared("1:1", A),
        *cleared("1:1", B, call_gone=True),  # the call's last connection
    ]


def test_release_by_callee(h):
    connect(h)
    h.take()
    h.engine.release(B)
    assert h.take() == [*cleared("1:1", B), *cleared("1:1", A, call_gone=True)]


def test_caller_abandons_alerting_call(h):
    h.engine.dial(A, B)
    h.take()
    h.engine.release(A)
    assert h.take() == [*cleared("1:1", A), *cleared("1:1", B, call_gone=True)]


def test_decline_fails_the_caller(h):
    """The callee rejects: the caller's call goes to a treatment (Failed,
    callNotAnswered for Temporarily Unavailable), then is cleared."""
    h.engine.dial(A, B)
    received = h.engine.calls_of(B)[0]
    h.take()
    h.engine.release(B, received.call_id, decline=True)
    assert h.take() == [
        *cleared("1:1", B),
        (A, ("Failed", "1:1/2002", B, A, B, None, "fail", "callNotAnswered")),
        *cleared("1:1", A, "callNotAnswered", call_gone=True),
    ]


def test_hold_and_retrieve(h):
    """Held/Retrieved: own connection at the holder (hold), the far
    connection at the other side (connected)."""
    connect(h)
    h.take()
    h.engine.hold(B)
    h.engine.retrieve(B)
    assert h.take() == [
        (B, ("Held", "1:1/2002", B, "hold", "normal")),
        (A, ("Held", "1:1/2002", B, "connected", "normal")),
        (B, ("Retrieved", "1:1/2002", B, "connected", "normal")),
        (A, ("Retrieved", "1:1/2002", B, "connected", "normal")),
    ]
    h.engine.release(A)


def test_both_sides_hold_then_one_retrieves(h):
    """Retrieving into Remote Held: the device's own connection is retrieved."""
    connect(h)
    h.engine.hold(A)
    h.engine.hold(B)
    h.take()
    h.engine.retrieve(A)
    assert h.take() == [(A, ("Retrieved", "1:1/2001", A, "connected", "normal"))]
    h.engine.release(A)


def test_click_to_dial(h):
    """CallOriginating -> ServiceInitiated (initiated, makeCall); the
    off-hook CallOriginated -> Originated (makeCall)."""
    h.engine.click_to_dial(A, B)
    h.engine.answer(B)
    h.engine.release(B)
    assert h.take() == [
        (A, ("ServiceInitiated", "1:1/2001", A, "initiated", "makeCall")),
        originated("1:1", A, B, "makeCall"),
        delivered("1:1", B, A),
        established("1:1", B, B, A, B),
        established("1:1", A, B, A, B),
        *cleared("1:1", B),
        *cleared("1:1", A, call_gone=True),
    ]


def test_click_to_dial_abandoned(h, ):
    h.stop()
    h2 = Harness(click_to_dial_auto_offhook=False)
    call = h2.engine.click_to_dial(A, B)
    h2.engine.release(A, call.call_id)
    assert h2.take() == [
        (A, ("ServiceInitiated", "1:1/2001", A, "initiated", "makeCall")),
        *cleared("1:1", A, call_gone=True),
    ]
    assert h2.model.counts().parties == 0
    h2.stop()


def test_answer_while_active_holds_the_first_call(h):
    connect(h)
    h.engine.dial(C, B)
    waiting = h.engine.calls_of(B)[1]
    h.take()
    h.engine.answer(B, waiting.call_id)
    assert h.take() == [
        (B, ("Held", "1:1/2002", B, "hold", "normal")),
        (A, ("Held", "1:1/2002", B, "connected", "normal")),
        established("2:1", B, B, C, B),
        established("2:1", C, B, C, B),
    ]
    h.engine.release(A)
    h.engine.release(C)


# -------------------------------------------------------- failed destinations


def test_busy_destination(h):
    h.engine.set_user_options(B, busy=True)
    h.engine.dial(A, B)
    assert h.take() == [
        originated("1:1", A, B),
        (A, ("Failed", "1:1/2002", B, A, B, None, "fail", "busy")),
        *cleared("1:1", A, "busy", call_gone=True),
    ]


@pytest.mark.parametrize("address", ["2999", "+15550009999"])
def test_unknown_destination(h, address):
    h.engine.dial(A, address)
    assert h.take() == [
        originated("1:1", A, address),
        (A, ("Failed", f"1:1/{address}", address, A, address, None, "fail",
             "destNotObtainable")),
        *cleared("1:1", A, "destNotObtainable", call_gone=True),
    ]


def test_treatment_until_the_caller_hangs_up(h):
    h.stop()
    h2 = Harness(treatment_time=None)
    h2.engine.dial(A, "2999")
    h2.take()
    assert h2.model.parties_of(A)[0].state == "fail"
    h2.engine.release(A)
    assert h2.take() == cleared("1:1", A, "destNotObtainable", call_gone=True)
    h2.stop()


# ------------------------------------------------------------ external parties


def test_call_to_an_external_number(h):
    h.engine.dial(A, "+4930123456")
    h.engine.network_answer("+4930123456")
    h.engine.network_release("+4930123456")
    ext = "+4930123456"
    assert h.take() == [
        originated("1:1", A, ext),
        established("1:1", A, ext, A, ext),
        *cleared("1:1", A, call_gone=True),
    ]


def test_call_from_an_external_number(h):
    h.engine.network_call("+4930123456", B)
    h.engine.answer(B)
    h.engine.release(B)
    ext = "+4930123456"
    assert h.take() == [
        delivered("1:1", B, ext),
        established("1:1", B, B, ext, B),
        *cleared("1:1", B, call_gone=True),
    ]


# ------------------------------------------------------------------ transfers


def test_blind_transfer(h):
    """A blind-transfers B to C: A Diverted (null, singleStepTransfer), its
    release adds nothing; B Transferred; C Delivered with A as last
    redirection; C answers: Established at C and at B."""
    connect(h)
    a = h.engine.calls_of(A)[0]
    h.take()
    h.engine.blind_transfer(A, a.call_id, C)
    assert h.take() == [
        (A, ("Diverted", "1:1/2001", A, "+15550002003", A, B, A, "null",
             "singleStepTransfer")),
        (B, ("Transferred", "1:1/2001", None, A, C, "connected", "singleStepTransfer")),
        delivered("1:1", C, B, last=A, cause="singleStepTransfer"),
    ]
    assert [p.device for p in h.model.call("1:1")] == [B, C]
    h.engine.answer(C)
    assert h.take() == [
        established("1:1", C, C, B, C, last=A, cause="singleStepTransfer"),
        established("1:1", B, C, C, B),
    ]
    h.engine.release(C)
    assert h.take() == [*cleared("1:1", C), *cleared("1:1", B, call_gone=True)]


def test_blind_transfer_connections(h):
    connect(h)
    a = h.engine.calls_of(A)[0]
    h.take()
    h.engine.blind_transfer(A, a.call_id, C)
    (transferred,) = [e for d, e in h.events if isinstance(e, m.TransferredEvent)]
    assert transferred.transferred_connections == (
        m.ConnectionListItem(
            new_connection=m.ConnectionID(call_id="1:1", device_id=B),
            old_connection=m.ConnectionID(call_id="1:1", device_id=B),
            endpoint=B,
        ),
        m.ConnectionListItem(
            new_connection=m.ConnectionID(call_id="1:1", device_id=C), endpoint=C
        ),
    )
    h.engine.release(B)


def test_deflect_alerting_call(h):
    """B deflects its ringing call to D: B Diverted (null, redirected); A
    Diverted of its far end (connected); D Delivered, last redirection B."""
    h.engine.dial(A, B)
    b = h.engine.calls_of(B)[0]
    h.take()
    h.engine.blind_transfer(B, b.call_id, D)
    assert h.take() == [
        (B, ("Diverted", "1:1/2002", B, "+15550002004", A, B, B, "null", "redirected")),
        (A, ("Diverted", "1:1/2002", B, D, A, B, B, "connected", "redirected")),
        delivered("1:1", D, A, last=B, cause="redirected"),
    ]
    h.engine.answer(D)
    assert h.take() == [
        established("1:1", D, D, A, D, last=B, cause="redirected"),
        established("1:1", A, D, A, D, last=B, cause="redirected"),
    ]
    h.engine.release(A)
    assert h.take() == [*cleared("1:1", A), *cleared("1:1", D, call_gone=True)]


def test_deflected_call_only_the_destination_monitored():
    """The redirection is remembered for the new destination even when the
    redirecting device's connection is gone from the model."""
    h = Harness(monitored={B, D})
    h.engine.dial(A, B)
    b = h.engine.calls_of(B)[0]
    h.engine.blind_transfer(B, b.call_id, D)
    assert h.take()[-1] == delivered("1:1", D, A, last=B, cause="redirected")
    h.engine.release(A)
    h.stop()


def test_consultative_transfer(h):
    """B calls A; A consults C (B held; consultation) and transfers: A's two
    connections are cleared (calls go on: no CallCleared); B Transferred
    into call 2:1 (transfer); C Transferred (its far end is now B)."""
    h.engine.dial(B, A)
    h.engine.answer(A)
    first = h.engine.calls_of(A)[0]
    h.take()
    h.engine.dial(A, C)
    h.engine.answer(C)
    consult = h.engine.calls_of(A)[1]
    assert h.take() == [
        (A, ("Held", "1:1/2001", A, "hold", "normal")),
        (B, ("Held", "1:1/2001", A, "connected", "normal")),
        originated("2:1", A, C, "consultation"),
        delivered("2:1", C, A),
        established("2:1", C, C, A, C),
        established("2:1", A, C, A, C),
    ]
    h.engine.consultative_transfer(A, first.call_id, consult.call_id)
    assert h.take() == [
        *cleared("1:1", A),
        *cleared("2:1", A),
        (B, ("Transferred", "1:1/2001", "2:1/2001", A, C, "connected", "transfer")),
        (C, ("Transferred", "2:1/2001", None, A, C, "connected", "transfer")),
    ]
    h.engine.release(C)
    assert h.take() == [*cleared("2:1", C), *cleared("2:1", B, call_gone=True)]


def test_consultative_transfer_to_alerting_consultation(h):
    connect(h)
    consult = h.engine.dial(A, C)
    a = h.engine.calls_of(A)[0]
    h.take()
    h.engine.consultative_transfer(A, a.call_id, consult.call_id)
    events = h.take()
    assert events[-2:] == [
        (B, ("Transferred", "1:1/2001", "2:1/2001", A, C, "connected", "transfer")),
        (C, ("Transferred", "2:1/2001", None, A, C, "alerting", "transfer")),
    ]
    h.engine.answer(C)
    assert h.take() == [
        established("2:1", C, C, B, C),  # C's far end is B now
        established("2:1", B, C, B, C),
    ]
    h.engine.release(B)


# ------------------------------------------------------------------ conference


def test_three_way_conference(h):
    connect(h)
    a = h.engine.calls_of(A)[0]
    c = h.engine.dial(A, C)
    h.engine.answer(C)
    h.take()
    h.engine.conference_start(A, [a.call_id, c.call_id])
    (conferenced,) = [e for d, e in h.events if isinstance(e, m.ConferencedEvent)]
    assert h.take() == [
        (A, ("Retrieved", "1:1/2001", A, "connected", "normal")),
        (B, ("Retrieved", "1:1/2001", A, "connected", "normal")),
        (A, ("Conferenced", "1:1/2001", "2:1/2001", A, C, "connected", "conference")),
    ]
    assert [(i.new_connection.call_id, i.endpoint) for i in conferenced.conference_connections] == [
        ("1:1", A), ("1:1", B), ("2:1", C),
    ]
    h.engine.release(A)
    assert h.take() == [
        *cleared("1:1", A),
        *cleared("1:1", B, call_gone=True),
        *cleared("2:1", A),
        *cleared("2:1", C, call_gone=True),
    ]


def test_conference_party_leaves(h):
    connect(h)
    a = h.engine.calls_of(A)[0]
    c = h.engine.dial(A, C)
    h.engine.answer(C)
    h.engine.conference_start(A, [a.call_id, c.call_id])
    h.take()
    h.engine.release(C)
    assert h.take() == [*cleared("2:1", C), *cleared("2:1", A, call_gone=True)]
    h.engine.release(B)


def test_reconnect_releases_the_consultation(h):
    connect(h)
    a = h.engine.calls_of(A)[0]
    h.engine.dial(A, C)
    h.take()
    h.engine.reconnect(A, a.call_id)
    assert h.take() == [
        *cleared("2:1", A),
        *cleared("2:1", C, call_gone=True),
        (A, ("Retrieved", "1:1/2001", A, "connected", "normal")),
        (B, ("Retrieved", "1:1/2001", A, "connected", "normal")),
    ]
    h.engine.release(A)


# ------------------------------------------------------- monitors, helpers


def test_cross_ref_id_is_stamped_and_replaceable(h):
    """translate() takes a cross ref id; the fan-out may stamp others."""
    h.engine.dial(A, B)
    device, change = h.take_changes()[0]
    (event,) = translate(change, cross_ref_id="17")
    assert event.cross_ref_id == "17"
    assert dataclasses.replace(event, cross_ref_id="18").cross_ref_id == "18"
    assert translate(change) == [dataclasses.replace(event, cross_ref_id="")]
    h.engine.release(A)


def test_every_translated_event_fills_the_mandatory_fields(h):
    """Across every flow above: a cause from the ECMA list, a known local
    connection state, and a connection with both ids."""
    connect(h)
    h.engine.hold(A)
    h.engine.retrieve(A)
    a = h.engine.calls_of(A)[0]
    h.engine.blind_transfer(A, a.call_id, C)
    h.engine.answer(C)
    h.engine.release(C)
    h.engine.set_user_options(D, busy=True)
    h.engine.dial(A, D)
    for _, event in h.events:
        assert event.cause in m.EVENT_CAUSES
        info = getattr(event, "local_connection_info", "null")
        assert info in m.LOCAL_CONNECTION_STATES
        for f in dataclasses.fields(event):
            value = getattr(event, f.name)
            if isinstance(value, m.ConnectionID) and f.name != "cleared_call":
                assert value.call_id and value.device_id, (event, f.name)


def test_snapshot_items_from_model_and_from_event(h):
    """SnapshotDevice items: one per call, (callID, device) and the state;
    built from the model or from the CallSubscriptionEvent's calls."""
    connect(h)
    h.engine.dial(C, A)  # call waiting at A
    expected = (
        m.SnapshotDeviceItem(
            connection=m.ConnectionID(call_id="1:1", device_id=A),
            local_connection_state="connected",
        ),
        m.SnapshotDeviceItem(
            connection=m.ConnectionID(call_id="2:1", device_id=A),
            local_connection_state="alerting",
        ),
    )
    assert snapshot_items(h.model, A) == expected
    event = h.snapshot_event(A)
    assert snapshot_items_from_calls(event.calls, A) == expected
    assert snapshot_response(event, A) == m.SnapshotDeviceResponse(items=expected)
    assert snapshot_items(h.model, "2999") == ()
    assert snapshot_items(CallModel(), A) == ()
    h.engine.release(A)
    h.engine.release(A)


def test_digits_generated_helper():
    event = digits_generated("1:1", A, "12#", cross_ref_id="5")
    assert event == m.DigitsGeneratedEvent(
        cross_ref_id="5",
        connection=m.ConnectionID(call_id="1:1", device_id=A),
        digit_generated_list="12#",
    )
