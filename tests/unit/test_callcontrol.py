"""Call control against a scripted BroadWorks client: what it expects
around a TransferCall and a DeflectCall, and how the model reads the events
with it (the rest runs end to end in tests/integration)."""

import pytest
from twisted.internet import defer

from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.csta import messages as m
from csta_connector.csta.server import CSTARequestError
from csta_connector.services.callcontrol import CallControl
from csta_connector.testing import Harness, consult_and_answer


class TransferringClient:
    """Answers consultative_transfer with a Deferred the test fires."""

    def __init__(self):
        self.transfers = []

    def consultative_transfer(self, user, held, active):
        d = defer.Deferred()
        self.transfers.append(((user, held, active), d))
        return d


@pytest.fixture
def transfer():
    h = Harness(monitored={"2001"})
    held, active = consult_and_answer(h)
    client = TransferringClient()
    control = CallControl(client, h.model, lambda device: device + "@example.com", lambda device: device,
                          h.expectations)
    request = m.TransferCall(
        held_call=m.ConnectionID(call_id=held.call_id, device_id="2001"),
        active_call=m.ConnectionID(call_id=active.call_id, device_id="2001"),
    )
    results = []
    control.TransferCall(request).addBoth(results.append)
    yield h, held, active, client, results
    h.stop()


def test_the_transfer_is_expected_until_broadworks_refuses_it(transfer):
    h, held, active, client, results = transfer
    ((user, held_id, active_id), d), = client.transfers
    assert (user, held_id, active_id) == ("2001@example.com", held.party_id, active.party_id)
    assert h.expectations.transfers[held.party_id] == (held.party_id, active.party_id)
    d.errback(BroadWorksRequestError("ConsultativeTransfer", 409, "Conflict"))
    assert results[0].check(CSTARequestError)
    assert results[0].value.error.value == "resourceBusy"
    assert not h.expectations.transfers


def test_a_transfer_whose_releases_overtake_the_answer_is_one_transferred(transfer):
    h, held, active, client, results = transfer
    (_, d), = client.transfers
    h.take()
    h.engine.consultative_transfer("2001", held.party_id, active.party_id)  # the releases come first
    d.callback(None)
    assert results[0].transferred_call == m.ConnectionID(call_id=active.call_id, device_id="2003")
    assert [e[0] for device, e in h.take() if device == "2001"] == ["Transferred"]
    assert not h.expectations.transfers


def test_a_refused_deflection_leaves_no_destination_behind():
    h = Harness(monitored={"2002"})
    try:
        h.engine.dial("2001", "2002")
        (party,) = h.model.parties_of("2002")
        answers = []
        client = TransferringClient()
        client.redirect = lambda user, call_id, address: answers.append((user, call_id, address)) or defer.fail(
            BroadWorksRequestError("BlindTransfer", 404, "Not Found"))
        control = CallControl(client, h.model, lambda device: device + "@example.com", lambda device: device,
                              h.expectations)
        results = []
        control.DeflectCall(m.DeflectCall(
            call_to_be_diverted=m.ConnectionID(call_id=party.call_id, device_id="2002"), new_destination="7777",
        )).addBoth(results.append)
        assert answers == [("2002@example.com", party.party_id, "7777")]
        assert results[0].value.error.value == "invalidDestination"
        assert not h.expectations.destinations
    finally:
        h.stop()


class ReleasingClient:
    def __init__(self):
        self.released = []

    def release(self, user, call_id):
        self.released.append((user, call_id))
        return defer.succeed(None)


def clear_by_device(h, device="2001"):
    client = ReleasingClient()
    control = CallControl(client, h.model, lambda d: d + "@example.com", lambda d: d, h.expectations)
    results = []
    request = m.ClearConnection(connection=m.ConnectionID(call_id=None, device_id=device))
    # as the server calls a service: a refusal may be raised at once
    defer.maybeDeferred(control.ClearConnection, request).addBoth(results.append)
    return client, results


def test_a_connection_of_a_device_id_alone_names_its_one_call():
    h = Harness(monitored={"2001"})
    try:
        h.engine.dial("2001", "2002")
        (party,) = h.model.parties_of("2001")
        client, results = clear_by_device(h)
        assert client.released == [("2001@example.com", party.party_id)]
        assert isinstance(results[0], m.ClearConnectionResponse)
    finally:
        h.stop()


def test_a_connection_of_a_device_id_alone_is_refused_when_it_is_ambiguous_or_names_nothing():
    h = Harness(monitored={"2001"})
    try:
        client, results = clear_by_device(h)
        assert client.released == []
        assert results[0].value.error == m.CSTAError(category="operation", value="invalidConnectionID")
        assert str(results[0].value) == "connection names device 2001 alone, which has no call"
        h.engine.dial("2001", "2002")
        h.engine.dial("2001", "2003")
        calls = [p.call_id for p in h.model.parties_of("2001")]
        client, results = clear_by_device(h)
        assert client.released == []
        assert results[0].value.error.value == "invalidConnectionID"
        assert str(results[0].value) == (
            "connection names device 2001 alone, which has 2 calls (%s, %s): give the callID" % tuple(calls))
    finally:
        h.stop()
