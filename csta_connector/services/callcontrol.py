# -*- test-case-name: tests.unit.test_callcontrol -*-
"""CSTA call-control services -> BroadWorks CTI requests (SPEC §5.2).

A CSTA connection (callID, deviceID) names one party; the call model knows
the BroadWorks call half (``callhalf-…``) behind it. Each service answers
after BroadWorks answered; a BroadWorks refusal becomes the closest
CSTAErrorCode. A connection the model does not know is refused here without
bothering BroadWorks, and changes nothing.

What call control asks for that changes how later events read (a transfer,
a redirect) is kept in its :class:`Expectations`, which the core hands to
``CallModel.apply``: the model itself holds only the calls.

A request on a call the model holds that BroadWorks refuses because it does
not know the call is a sign of an AS failover: ``call_unknown(party,
request)`` is told (the core's proactive resync, ``services/resync.py``).
"""

from __future__ import annotations

from twisted.internet import defer

from csta_connector.broadworks.errors import (
    BroadWorksError,
    BroadWorksRequestError,
    BroadWorksTimeout,
    LinkLost,
    NoLinkAvailable,
)
from csta_connector.csta import messages as m
from csta_connector.csta.server import CSTARequestError
from csta_connector.services.resync import call_unknown_to_broadworks
from csta_connector.services.subscriptions import SnapshotTimeout


def broadworks_error_to_csta(failure, about="connection"):
    """Map a BroadWorks failure to a CSTARequestError (re-raised)."""
    error = failure.value
    if isinstance(error, CSTARequestError):
        raise error
    if isinstance(error, BroadWorksRequestError):
        status = error.status_code
        if status == 404:
            value = {"device": "invalidDeviceID", "destination": "invalidDestination"}.get(
                about, "invalidConnectionID"
            )
            raise CSTARequestError("operation", value, str(error))
        if status == 409:
            raise CSTARequestError("systemResourceAvailability", "resourceBusy", str(error))
        if status == 403:
            raise CSTARequestError("operation", "privilegeViolationSpecifiedDevice", str(error))
        if 400 <= status < 500:
            raise CSTARequestError("stateIncompatibility", "invalidConnectionState", str(error))
        raise CSTARequestError("systemResourceAvailability", "generic", str(error))
    if isinstance(error, (NoLinkAvailable, LinkLost)):
        raise CSTARequestError("systemResourceAvailability", "resourceOutOfService", str(error))
    if isinstance(error, BroadWorksTimeout):
        raise CSTARequestError("performanceManagement", "performanceLimitExceeded", str(error))
    if isinstance(error, BroadWorksError):
        # e.g. the subscription went away while a snapshot waited for it
        raise CSTARequestError("systemResourceAvailability", "generic", str(error))
    return failure


def snapshot_error_to_csta(failure, device):
    """Map the failure of a SnapshotDevice's snapshot to a CSTARequestError."""
    if failure.check(SnapshotTimeout):
        raise CSTARequestError("performanceManagement", "performanceLimitExceeded", failure.getErrorMessage())
    if failure.check(BroadWorksRequestError) and failure.value.status_code == 404:
        raise CSTARequestError("operation", "invalidDeviceID", "unknown device %s" % device)
    return broadworks_error_to_csta(failure, "device")


#: destinations asked for calls held in queues or at route points whose
#: events have not come
MAX_HELD_DESTINATIONS = 2048


class HeldCallDestinations(dict):
    """The queue entry id of a call held by a queue or a route point -> the
    destination a client asked to send it to, until the event of its going
    reads it (the event may overtake BroadWorks' answer, and names the
    destination as BroadWorks writes it); bounded, the oldest forgotten."""

    def ask(self, entry_id, destination):
        self[entry_id] = destination
        if len(self) > MAX_HELD_DESTINATIONS:
            del self[next(iter(self))]

    def forget(self, entry_id, destination):
        """BroadWorks refused: nothing will read it."""
        if self.get(entry_id) == destination:
            del self[entry_id]

    def redirect(self, request, held, transfer):
        """DeflectCall / SingleStepTransferCall of the held call ``held``:
        ``transfer(destination)`` sends the BroadWorks request; a Deferred of
        the CSTA response."""
        if type(request) is m.DeflectCall:
            destination = request.new_destination
            response = m.DeflectCallResponse()
        else:
            destination = request.transferred_to
            response = m.SingleStepTransferCallResponse(
                transferred_call=m.ConnectionID(call_id=held.call_id, device_id=destination)
            )
        self.ask(held.entry_id, destination)

        def refused(failure):
            self.forget(held.entry_id, destination)
            return broadworks_error_to_csta(failure, "destination")

        return transfer(destination).addCallbacks(lambda _: response, refused)


#: How many transfers (two entries each) and redirections asked for, whose
#: events have not come, are remembered.
MAX_EXPECTED = 2048


class Expectations:
    """The call-control requests whose events have not come yet, as the call
    model needs to read those events (LRU-capped: an answer that never comes
    costs a bounded entry).

    Call control writes (``expect_*`` before the request, ``forget_*`` when
    BroadWorks refuses); the model reads while it applies an event
    (:meth:`transfer_of`, :meth:`destination_of`) and tells when a party is
    gone (:meth:`party_gone`).
    """

    __slots__ = ("transfers", "destinations")

    def __init__(self):
        #: party id -> (held party id, active party id) of a transfer asked for
        self.transfers: dict[str, tuple[str, str]] = {}
        #: party id -> the destination a client gave when it asked to redirect it
        self.destinations: dict[str, str] = {}

    def expect_transfer(self, held_id: str, active_id: str) -> None:
        """The connector asks BroadWorks to transfer the held party to the
        active one (both call halves of one device): their releases, which
        may come before BroadWorks' answer, will mean a transfer."""
        transfers = self.transfers
        transfers[held_id] = transfers[active_id] = (held_id, active_id)
        while len(transfers) > MAX_EXPECTED:
            del transfers[next(iter(transfers))]

    def forget_transfer(self, held_id: str, active_id: str) -> None:
        """The transfer was refused: the releases will mean releases again."""
        for party_id in (held_id, active_id):
            if self.transfers.get(party_id) == (held_id, active_id):
                del self.transfers[party_id]

    def expect_redirect(self, party_id: str, destination: str) -> None:
        """The connector asks BroadWorks to send this party's call to
        ``destination`` (DeflectCall, SingleStepTransferCall): its Diverted
        names the destination as the client gave it, not the number
        BroadWorks puts in the redirect (``tel:+15550002003`` for ``2003``)."""
        destinations = self.destinations
        destinations.pop(party_id, None)
        destinations[party_id] = destination
        if len(destinations) > MAX_EXPECTED:
            del destinations[next(iter(destinations))]

    def forget_redirect(self, party_id: str, destination: str) -> None:
        if self.destinations.get(party_id) == destination:
            del self.destinations[party_id]

    # -- what the model asks while it applies an event --------------------------

    def transfer_of(self, party_id: str) -> tuple[str, str] | None:
        """(held, active) of the transfer asked for that ``party_id`` is in."""
        return self.transfers.get(party_id)

    def destination_of(self, party_id: str) -> str | None:
        """The destination asked for ``party_id``'s redirect, taken: it is
        redirected once."""
        return self.destinations.pop(party_id, None) if self.destinations else None

    def party_gone(self, party_id: str) -> None:
        if self.transfers:
            self.transfers.pop(party_id, None)
        if self.destinations:
            self.destinations.pop(party_id, None)

    def forget_parties(self, parties) -> None:
        """Parties the model dropped outside an event (a device no longer
        monitored, a stuck party cleared by synchronization)."""
        for party in parties:
            self.party_gone(party.party_id)


def _forget_if_refused(d, forget, *args):
    """What the model was told to expect is forgotten if BroadWorks refuses."""

    def refused(failure):
        forget(*args)
        return failure

    return d.addErrback(refused)


class CallControl:
    def __init__(self, client, model, user_of, device_key, expectations=None, call_unknown=None):
        """``user_of(device) -> BroadWorks user id``; ``device_key(device) ->
        the model's device id`` (a full user id names the same device);
        ``expectations``: where to keep what is asked for (its own by default);
        ``call_unknown(party, request_name)``: told when BroadWorks refuses a
        request on a party of the model because it does not know the call."""
        self.client = client
        self.model = model
        self.user_of = user_of
        self.device_key = device_key
        #: what was asked for and not yet seen in events; the core gives it
        #: to the model with every event
        self.expectations = expectations if expectations is not None else Expectations()
        self.call_unknown = call_unknown

    def _party(self, connection: m.ConnectionID | None, what="connection"):
        if connection is None or not connection.device_id:
            raise CSTARequestError("operation", "invalidConnectionID", "%s incomplete" % what)
        device = self.device_key(connection.device_id)
        if not connection.call_id:
            return device, self._only_party(device, what)
        for party in self.model.parties_of(device):
            if party.call_id == connection.call_id:
                return device, party
        raise CSTARequestError(
            "operation",
            "invalidConnectionID",
            "no connection (%s, %s)" % (connection.call_id, connection.device_id),
        )

    def _only_party(self, device, what):
        """A connection of a deviceID alone (ECMA-269 lets a ConnectionID
        leave the call out): the device's one call, when it has exactly one."""
        parties = list(self.model.parties_of(device))
        if len(parties) == 1:
            return parties[0]
        if not parties:
            detail = "%s names device %s alone, which has no call" % (what, device)
        else:
            detail = "%s names device %s alone, which has %d calls (%s): give the callID" % (
                what, device, len(parties), ", ".join(p.call_id for p in parties))
        raise CSTARequestError("operation", "invalidConnectionID", detail)

    def _send(self, d, result, about="connection", party=None):
        """``d``'s answer -> ``result``, a refusal -> a CSTA error; ``party``:
        the model's party the request was about."""
        if party is not None and self.call_unknown is not None:
            d.addErrback(self._refused, party, about)
        d.addErrback(broadworks_error_to_csta, about)
        return d.addCallback(lambda _: result)

    def _refused(self, failure, party, about):
        if self.call_unknown is not None and call_unknown_to_broadworks(failure, about):
            self.call_unknown(party, failure.value.request_name)
        return failure

    # -- services -------------------------------------------------------------

    def MakeCall(self, request: m.MakeCall):
        device = self.device_key(request.calling_device)
        d = self.client.dial(self.user_of(request.calling_device), request.called_directory_number)
        d.addErrback(broadworks_error_to_csta, "device")
        return d.addCallback(
            lambda start: m.MakeCallResponse(
                calling_device_connection=m.ConnectionID(call_id=start.ext_tracking_id, device_id=device)
            )
        )

    def AnswerCall(self, request: m.AnswerCall):
        device, party = self._party(request.connection)
        if party.state != "alerting":
            raise CSTARequestError("stateIncompatibility", "invalidConnectionState", "not alerting")
        return self._send(
            self.client.answer(self.user_of(device), party.party_id), m.AnswerCallResponse(), party=party
        )

    def ClearConnection(self, request: m.ClearConnection):
        device, party = self._party(request.connection)
        return self._send(
            self.client.release(self.user_of(device), party.party_id), m.ClearConnectionResponse(),
            party=party,
        )

    def ClearCall(self, request: m.ClearCall):
        connection = request.connection
        parties = self.model.call(connection.call_id) if connection and connection.call_id else ()
        if not parties:
            raise CSTARequestError("operation", "invalidCallID", "no call %s" % (connection,))
        # releasing one party of a two-party call ends the call, so the other
        # releases may find their half gone already: the call is cleared when
        # at least one release succeeded
        ds = [
            self.client.release(self.user_of(p.device), p.party_id).addCallbacks(
                lambda _: None, lambda f: (f,)  # kept as a value, not raised
            )
            for p in parties
        ]

        def cleared(results):
            failures = [r[0] for r in results if r is not None]
            if len(failures) == len(results):
                # no half known at all (one gone with another's release is no sign)
                for party, failure in zip(parties, failures):
                    self._refused(failure, party, "connection")
                return failures[0]
            return None

        d = defer.gatherResults(ds).addCallback(cleared)
        return self._send(d, m.ClearCallResponse())

    def HoldCall(self, request: m.HoldCall):
        device, party = self._party(request.connection)
        return self._send(
            self.client.hold(self.user_of(device), party.party_id), m.HoldCallResponse(), party=party
        )

    def RetrieveCall(self, request: m.RetrieveCall):
        device, party = self._party(request.connection)
        if party.state != "hold":
            raise CSTARequestError("stateIncompatibility", "invalidConnectionState", "not held")
        return self._send(
            self.client.retrieve(self.user_of(device), party.party_id), m.RetrieveCallResponse(),
            party=party,
        )

    @defer.inlineCallbacks
    def ConsultationCall(self, request: m.ConsultationCall):
        device, party = self._party(request.existing_call, "existingCall")
        user = self.user_of(device)
        if party.state == "connected":
            yield self._send(self.client.hold(user, party.party_id), None, party=party)
        start = yield self.client.dial(user, request.consulted_device).addErrback(
            broadworks_error_to_csta, "destination"
        )
        return m.ConsultationCallResponse(
            initiated_call=m.ConnectionID(call_id=start.ext_tracking_id, device_id=device)
        )

    def AlternateCall(self, request: m.AlternateCall):
        device, held = self._party(request.held_call, "heldCall")
        self._party(request.active_call, "activeCall")
        # Talk on the held call puts the active one on hold first
        return self._send(
            self.client.retrieve(self.user_of(device), held.party_id), m.AlternateCallResponse(),
            party=held,
        )

    def ReconnectCall(self, request: m.ReconnectCall):
        device, held = self._party(request.held_call, "heldCall")
        self._party(request.active_call, "activeCall")
        return self._send(
            self.client.reconnect(self.user_of(device), held.party_id), m.ReconnectCallResponse(),
            party=held,
        )

    def TransferCall(self, request: m.TransferCall):
        device, held = self._party(request.held_call, "heldCall")
        _, active = self._party(request.active_call, "activeCall")
        # the releases that follow may overtake BroadWorks' answer
        self.expectations.expect_transfer(held.party_id, active.party_id)
        d = self.client.consultative_transfer(self.user_of(device), held.party_id, active.party_id)
        _forget_if_refused(d, self.expectations.forget_transfer, held.party_id, active.party_id)
        return self._send(
            d,
            m.TransferCallResponse(
                transferred_call=m.ConnectionID(call_id=active.call_id, device_id=active.remote),
                connections=(),
            ),
            party=held,
        )

    def ConferenceCall(self, request: m.ConferenceCall):
        device, held = self._party(request.held_call, "heldCall")
        _, active = self._party(request.active_call, "activeCall")
        d = self.client.conference_start(self.user_of(device), [held.party_id, active.party_id])
        return self._send(
            d,
            m.ConferenceCallResponse(
                conference_call=m.ConnectionID(call_id=held.call_id, device_id=device), connections=()
            ),
            party=held,
        )

    def _redirect(self, send, device, party, destination):
        """``send`` (a BlindTransfer) of ``party`` to ``destination``; it is
        expected first (the event may overtake the answer) and forgotten on
        refusal."""
        self.expectations.expect_redirect(party.party_id, destination)
        d = send(self.user_of(device), party.party_id, destination)
        return _forget_if_refused(d, self.expectations.forget_redirect, party.party_id, destination)

    def SingleStepTransferCall(self, request: m.SingleStepTransferCall):
        device, party = self._party(request.active_call, "activeCall")
        d = self._redirect(self.client.blind_transfer, device, party, request.transferred_to)
        return self._send(
            d,
            m.SingleStepTransferCallResponse(
                transferred_call=m.ConnectionID(call_id=party.call_id, device_id=request.transferred_to)
            ),
            about="destination",
            party=party,
        )

    def DeflectCall(self, request: m.DeflectCall):
        device, party = self._party(request.call_to_be_diverted, "callToBeDiverted")
        if party.state != "alerting":
            raise CSTARequestError("stateIncompatibility", "invalidConnectionState", "not alerting")
        d = self._redirect(self.client.redirect, device, party, request.new_destination)
        return self._send(d, m.DeflectCallResponse(), about="destination", party=party)

    def GenerateDigits(self, request: m.GenerateDigits):
        device, party = self._party(request.connection_to_send_digits)
        d = self.client.transmit_dtmf(self.user_of(device), party.party_id, request.char_to_send)
        return self._send(d, m.GenerateDigitsResponse(), party=party)
