# -*- test-case-name: tests.integration.test_csta_server_loopback -*-
"""A CSTA client (XML or BER) on the same wires as the server.

Used by csta-cli, the demo, the benchmarks and the integration tests: it
completes the session start (answers the server's SystemStatus; BER sends
the AARQ first), sends requests and returns Deferreds of their responses, and
collects the events. Encoding and decoding are the connection's
:mod:`~csta_connector.csta.wire` in the client role.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from csta_connector import lms
from csta_connector.csta import framing, messages as m, wire as w, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.waiting import Observations


#: one-way requests sent whose refusal is still recognized (older ones are forgotten)
MAX_ONE_WAY = 1024


class CSTAErrorResponse(Exception):
    """The server answered a request with a CSTA error (or a ROSE reject)."""

    def __init__(self, error):
        self.error = error
        if isinstance(error, m.CSTAError):
            text = "%s/%s" % (error.category, error.value)
        else:
            text = "rejected: %s" % (getattr(error, "problem", error),)
        super().__init__(text)


class ClientConnectionLost(Exception):
    """The connection closed; ``str()`` says why when the reason is known
    (``TLS handshake failed: certificate verify failed``)."""


def describe_lost(reason) -> str:
    """Why a connection was lost, in a few words, from connectionLost's Failure."""
    value = getattr(reason, "value", reason)
    try:
        from OpenSSL import SSL
    except ImportError:  # no twisted[tls]: no TLS errors either
        SSL = None
    if SSL is not None and isinstance(value, SSL.Error):
        # [('SSL routines', '', 'certificate verify failed')]
        details = value.args[0] if value.args and isinstance(value.args[0], list) else []
        words = "; ".join(str(detail[-1]) for detail in details if detail) or str(value)
        return "TLS handshake failed: %s" % words
    from twisted.internet import error

    if value is None or isinstance(value, (error.ConnectionDone, error.ConnectionLost)):
        return "connection lost"
    return "connection lost: %s" % (str(value).strip().rstrip(".") or type(value).__name__)


class CSTAClientProtocol(Protocol):
    log = Logger()

    def __init__(self, clock, encoding="xml", namespace=xml_codec.DEFAULT_NAMESPACE,
                 ber_framing=framing.LENGTH2, timeout=10.0):
        self.clock = clock
        self.encoding = encoding
        self.namespace = namespace
        self.ber_framing = ber_framing
        self.timeout = timeout
        #: the CSTA events received, in order (wait on them with events.wait_for)
        self.events = Observations(clock)
        #: the server's one-way requests (the routeing dialogue: RouteRequest,
        #: ReRouteRequest, RouteUsedRequest, RouteEndRequest, RouteRegisterAbort),
        #: in order; they are never answered
        self.requests = Observations(clock)
        #: (request, CSTAError) of this client's one-way requests the server
        #: refused (:meth:`send`)
        self.refusals = Observations(clock)
        self._one_way: dict[int, object] = {}
        self.system_statuses: list[str] = []
        self._pending: dict[int, tuple[defer.Deferred, object]] = {}
        self._ready = Observations(clock)
        self.connected = False
        self.lost_reason: str | None = None
        if encoding == "xml":
            self.wire = w.XmlWire(namespace, role=w.Role.CLIENT)
        else:
            self.wire = w.BerWire(ber_framing, role=w.Role.CLIENT)

    # -- connection ---------------------------------------------------------

    def connectionMade(self):
        self.connected = True
        # small request/response documents must not wait for Nagle + delayed ACKs
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        if self.encoding == "ber":
            self.transport.write(self.wire.request_association())

    def connectionLost(self, reason=None):
        self.connected = False
        self.lost_reason = describe_lost(reason)
        pending, self._pending = self._pending, {}
        for d, timer in pending.values():
            if timer.active():
                timer.cancel()
            d.errback(ClientConnectionLost(self.lost_reason))
        lost = ClientConnectionLost(self.lost_reason)
        # a session that never started will not start now, nor will more events come
        self._ready.fail(lost)
        self.events.fail(lost)
        self.requests.fail(lost)
        self.refusals.fail(lost)

    def when_ready(self, timeout=5.0) -> defer.Deferred:
        """Fires once the session started (the server's first SystemStatus);
        fails with :class:`ClientConnectionLost` if the connection closes
        first, with ``WaitTimeout`` after ``timeout`` s; cancelling it stops
        the wait."""
        return self._ready.wait_for(bool, timeout, "session start")

    # -- requests -------------------------------------------------------------

    def request(self, message) -> defer.Deferred:
        """A Deferred of the response; it fails with :class:`CSTAErrorResponse`,
        ``defer.TimeoutError`` after ``timeout`` s, or :class:`ClientConnectionLost`.
        Cancelling it forgets the request (a late answer is dropped)."""
        if not self.connected:
            return defer.fail(ClientConnectionLost("not connected"))
        invoke_id = self.wire.next_invoke_id()
        d = self._expect(invoke_id)
        self.transport.write(self.wire.request(invoke_id, message))
        return d

    def send(self, message) -> None:
        """Send a one-way request (RouteSelectRequest, RouteEndRequest,
        RouteReject): the server answers only if it refuses it, and that
        refusal is added to :attr:`refusals`."""
        if not self.connected:
            raise ClientConnectionLost("not connected")
        invoke_id = self.wire.next_invoke_id()
        one_way = self._one_way
        one_way[invoke_id] = message
        if len(one_way) > MAX_ONE_WAY:
            del one_way[next(iter(one_way))]
        self.transport.write(self.wire.request(invoke_id, message))

    def send_raw(self, invoke_id: int, body: bytes) -> defer.Deferred:
        """Send an arbitrary XML body under ``invoke_id`` (tests of bad input)."""
        d = self._expect(invoke_id)
        self.transport.write(framing.encode_xml_frame(invoke_id, body))
        return d

    def _expect(self, invoke_id) -> defer.Deferred:
        d = defer.Deferred(lambda d: self._forget(invoke_id, d))
        timer = self.clock.callLater(self.timeout, self._timed_out, invoke_id)
        self._pending[invoke_id] = (d, timer)
        return d

    def _forget(self, invoke_id, d):
        entry = self._pending.get(invoke_id)
        if entry is not None and entry[0] is d:
            del self._pending[invoke_id]
            if entry[1].active():
                entry[1].cancel()

    def _timed_out(self, invoke_id):
        entry = self._pending.pop(invoke_id, None)
        if entry is not None:
            entry[0].errback(defer.TimeoutError("no answer within %g s" % self.timeout))

    def _settle(self, invoke_id, result=None, error=None):
        entry = self._pending.pop(invoke_id, None)
        if entry is None:
            one_way = self._one_way.pop(invoke_id, None)
            if one_way is not None and error is not None:
                self.refusals.add((one_way, error))
            return
        d, timer = entry
        if timer.active():
            timer.cancel()
        if error is not None:
            d.errback(CSTAErrorResponse(error))
        else:
            d.callback(result)

    # -- incoming -------------------------------------------------------------

    def dataReceived(self, data):
        try:
            items = self.wire.feed(data)
        except framing.FramingError as e:
            lms.emit(self.log, lms.CSTA_SERVER_UNREADABLE, server=self._peer(),
                     reason="unframeable stream (%s), connection closed" % e)
            self.transport.abortConnection()
            return
        for item in items:
            self._incoming(item)

    def _incoming(self, item: w.Incoming):
        kind = item.kind
        if kind is w.Kind.EVENT:
            self.events.add(item.message)
        elif kind is w.Kind.RESULT:
            self._settle(item.invoke_id, result=item.message)
        elif kind in (w.Kind.ERROR, w.Kind.REJECT):
            self._settle(item.invoke_id, error=item.message)
        elif kind is w.Kind.REQUEST:
            if isinstance(item.message, m.SystemStatus):
                self._system_status(item.message)
                self.transport.write(self.wire.result(item.invoke_id, m.SystemStatusResponse()))
            elif not m.INFO[type(item.message)].responds:
                self.requests.add(item.message)
            else:
                self.transport.write(self.wire.unknown(item.invoke_id))
        elif kind in (w.Kind.UNKNOWN, w.Kind.MALFORMED):
            lms.emit(self.log, lms.CSTA_SERVER_UNREADABLE, server=self._peer(),
                     reason="a message this client cannot read (invoke %s): %s"
                     % (item.invoke_id, item.detail))

    def _peer(self) -> str:
        peer = self.transport.getPeer() if self.transport is not None else None
        return "%s:%s" % (getattr(peer, "host", "?"), getattr(peer, "port", "?"))

    def _system_status(self, message):
        self.system_statuses.append(message.status)
        self._ready.add(message.status)

    # -- conveniences ---------------------------------------------------------

    def events_of(self, cross_ref_id):
        return [e for e in self.events.items if e.cross_ref_id == cross_ref_id]


class CSTAClientFactory(Factory):
    def __init__(self, clock, **options):
        self.clock = clock
        self.options = options
        if options.get("encoding") == "ber":
            # before connecting: the server's encoding detection is already
            # counting when the connection is made, so the AARQ must not wait
            # for the ASN.1 compiler
            ber.warm_up()

    def buildProtocol(self, addr):
        return CSTAClientProtocol(self.clock, **self.options)


@defer.inlineCallbacks
def connect(reactor, host, port, encoding="xml", tls_options=None, **options):
    """Connect and complete the session start; fires with the protocol.
    ``tls_options``: client TLS options (``ssl.optionsForClientTLS``) for a
    listener with ``tls = true``."""
    from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS

    endpoint = TCP4ClientEndpoint(reactor, host, port, timeout=5)
    if tls_options is not None:
        endpoint = wrapClientTLS(tls_options, endpoint)
    protocol = yield endpoint.connect(
        CSTAClientFactory(reactor, encoding=encoding, **options)
    )
    yield protocol.when_ready()
    return protocol
