# -*- test-case-name: tests.integration.test_csta_server_loopback -*-
"""A CSTA client (XML or BER) built on the project's own codecs.

Used by csta-cli, the demo, the benchmarks and the integration tests: it
completes the session start (answers the server's SystemStatus; BER sends
the AARQ first), sends requests and returns Deferreds of their responses, and
collects the events.
"""

from __future__ import annotations

import itertools

from twisted.internet import defer
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from csta_connector.csta import framing, messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.ber.acse import AssociationRequest, AssociationResponse
from csta_connector.csta.ber.rose import Invoke, Reject, ReturnError, ReturnResult
from csta_connector.testing import Waitable


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
                 ber_framing=framing.LENGTH2, timeout=10.0, send_first=False):
        self.clock = clock
        self.encoding = encoding
        self.namespace = namespace
        self.ber_framing = ber_framing
        self.timeout = timeout
        self.send_first = send_first  # XML: speak before the server's SystemStatus
        self.events = Waitable(clock)
        self.system_statuses: list[str] = []
        self._pending: dict[int, tuple[defer.Deferred, object]] = {}
        self._ids = itertools.cycle(range(1, 9999))
        self._ready = Waitable(clock)
        self.connected = False
        self.lost_reason: str | None = None
        if encoding == "xml":
            self._decoder = framing.XmlFrameDecoder()
        else:
            self._decoder = framing.BerFrameDecoder(ber_framing)

    # -- connection ---------------------------------------------------------

    def connectionMade(self):
        self.connected = True
        # small request/response documents must not wait for Nagle + delayed ACKs
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        if self.encoding == "ber":
            self.transport.write(
                framing.encode_ber_frame(
                    ber.encode_apdu(AssociationRequest(csta_versions=(4,))), self.ber_framing
                )
            )

    def connectionLost(self, reason=None):
        self.connected = False
        self.lost_reason = describe_lost(reason)
        pending, self._pending = self._pending, {}
        for d, timer in pending.values():
            if timer.active():
                timer.cancel()
            d.errback(ClientConnectionLost(self.lost_reason))
        # a session that never started will not start now
        self._ready.fail(ClientConnectionLost(self.lost_reason))

    def when_ready(self, timeout=5.0):
        """Fires once the session started (the server's first SystemStatus);
        fails with :class:`ClientConnectionLost` if the connection closes first."""
        if not self._ready.items and self.lost_reason is not None:
            return defer.fail(ClientConnectionLost(self.lost_reason))
        return self._ready.wait_for(lambda items: bool(items), timeout, "session start")

    # -- requests -------------------------------------------------------------

    def request(self, message) -> defer.Deferred:
        if not self.connected:
            return defer.fail(ClientConnectionLost("not connected"))
        invoke_id = next(self._ids)
        d = defer.Deferred()
        timer = self.clock.callLater(self.timeout, self._timed_out, invoke_id)
        self._pending[invoke_id] = (d, timer)
        self.transport.write(self._encode_request(invoke_id, message))
        return d

    def send_raw(self, invoke_id: int, body: bytes) -> defer.Deferred:
        """Send an arbitrary XML body under ``invoke_id`` (tests of bad input)."""
        d = defer.Deferred()
        timer = self.clock.callLater(self.timeout, self._timed_out, invoke_id)
        self._pending[invoke_id] = (d, timer)
        self.transport.write(framing.encode_xml_frame(invoke_id, body))
        return d

    def _timed_out(self, invoke_id):
        entry = self._pending.pop(invoke_id, None)
        if entry is not None:
            entry[0].errback(defer.TimeoutError("no answer within %g s" % self.timeout))

    def _encode_request(self, invoke_id, message) -> bytes:
        if self.encoding == "xml":
            return framing.encode_xml_frame(invoke_id, xml_codec.encode(message, self.namespace))
        return framing.encode_ber_frame(
            ber.encode_apdu(ber.invoke(invoke_id, message)), self.ber_framing
        )

    def _answer(self, invoke_id, response):
        if self.encoding == "xml":
            data = framing.encode_xml_frame(invoke_id, xml_codec.encode(response, self.namespace))
        else:
            data = framing.encode_ber_frame(
                ber.encode_apdu(ber.return_result(invoke_id, response)), self.ber_framing
            )
        self.transport.write(data)

    def _settle(self, invoke_id, result=None, error=None):
        entry = self._pending.pop(invoke_id, None)
        if entry is None:
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
        for frame in self._decoder.feed(data):
            if self.encoding == "xml":
                self._xml_frame(*frame)
            else:
                self._ber_apdu(frame)

    def _xml_frame(self, invoke_id, body):
        message, _ = xml_codec.decode(body)
        kind = m.INFO[type(message)].kind
        if kind is m.MessageKind.EVENT:
            self.events.add(message)
        elif kind is m.MessageKind.ERROR:
            self._settle(invoke_id, error=message)
        elif isinstance(message, m.SystemStatus):
            self._system_status(message)
            self._answer(invoke_id, m.SystemStatusResponse())
        else:
            self._settle(invoke_id, result=message)

    def _ber_apdu(self, apdu):
        decoded = ber.decode_apdu(apdu)
        if isinstance(decoded, AssociationResponse):
            return
        if isinstance(decoded, Invoke):
            if decoded.is_event:
                self.events.add(decoded.message)
            elif isinstance(decoded.message, m.SystemStatus):
                self._system_status(decoded.message)
                self._answer(decoded.invoke_id, m.SystemStatusResponse())
        elif isinstance(decoded, ReturnResult):
            self._settle(decoded.invoke_id, result=decoded.message)
        elif isinstance(decoded, ReturnError):
            self._settle(decoded.invoke_id, error=decoded.error)
        elif isinstance(decoded, Reject):
            self._settle(decoded.invoke_id, error=decoded)

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
