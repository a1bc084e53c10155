# -*- test-case-name: tests.protocol.test_xsi_ack -*-
"""The acknowledgements of one Xsi event channel (reference/broadworks-xsi.md §2.4).

Every event on an Xsi event channel but ChannelTerminatedEvent is answered
by ``POST /com.broadsoft.xsi-events/v2.0/channel/eventresponse`` to the XSP
that holds the channel: one HTTP request per event, the most frequent
request of an Xsi link by far. Sent as any other request (an Agent request,
its Deferreds, its own timer, a turn among the pool's connections) it cost
more than the rest of the connector's work on the event together.

So :class:`Acknowledgements` sends them leanly, on one persistent HTTP/1.1
connection of their own to the pinned address: each POST is its bytes from a
template (:class:`~csta_connector.broadworks.xsi_http.EventResponsePosts`),
written at once after the ones still unanswered (HTTP/1.1 pipelining, up to
``window`` on the wire; acknowledging an event twice is harmless, so a POST
can be sent again), and the answers are read in order off the connection
(:class:`~csta_connector.broadworks.xsi_http.AnswerReader`). One timer
watches them all: no answer for ``timeout`` seconds while some are awaited
and the link is told (``failed``), as it is when the connection cannot be
made or kept (``max_attempts`` in a row without an answer). A connection
lost with POSTs unanswered is made again and they are sent again, first.
An answer other than 2xx is logged (37120): BroadWorks then does what the
schema says for the event (it is an application's acknowledgement that
failed, not the link).
"""

from __future__ import annotations

import collections

from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from csta_connector import lms
from csta_connector.broadworks import xsi_http


class _AckConnection(Protocol):
    """One connection carrying acknowledgements: answers read in order."""

    def __init__(self, owner: "Acknowledgements"):
        self.owner = owner
        self.reader = xsi_http.AnswerReader()

    def connectionMade(self):
        # small requests and answers must not wait for Nagle and delayed ACKs
        for transport in (self.transport, getattr(self.transport, "transport", None)):
            set_no_delay = getattr(transport, "setTcpNoDelay", None)
            if set_no_delay is not None:
                set_no_delay(True)
                break

    def dataReceived(self, data):
        try:
            answers = self.reader.feed(data)
        except xsi_http.HttpFramingError as e:
            self.owner.garbled(self, str(e))
            return
        if answers:
            self.owner.answered(self, answers)

    def connectionLost(self, reason=None):
        self.owner.lost(self, reason)


class _AckFactory(Factory):
    def __init__(self, owner):
        self.owner = owner

    def buildProtocol(self, addr):
        return _AckConnection(self.owner)


class Acknowledgements:
    """The EventResponse POSTs of one event channel (see the module docstring).

    ``endpoint``: an IStreamClientEndpoint to the XSP holding the channel;
    ``posts``: the request template; ``failed(what)``: called once, when the
    acknowledgements cannot get through (``what`` is what went unanswered);
    ``trace``: an opt-in wire tap, callable(direction, body bytes).
    """

    log = Logger()

    def __init__(self, clock, endpoint, posts: xsi_http.EventResponsePosts, timeout: float,
                 link_name: str, failed, trace=None, window: int = 128, max_attempts: int = 3):
        self.clock = clock
        self.endpoint = endpoint
        self.posts = posts
        self.timeout = timeout
        self.link_name = link_name
        self.failed = failed
        self.trace = trace
        self.window = window
        self.max_attempts = max_attempts
        #: (event id, request bytes): not written yet, then written and unanswered
        self._waiting: collections.deque = collections.deque()
        self._unanswered: collections.deque = collections.deque()
        self._connection: _AckConnection | None = None
        self._connecting = None
        self._timer = None
        self._attempts = 0  # connections failed or lost since the last answer
        self._closed = False

    @property
    def outstanding(self) -> int:
        """POSTs not answered yet (written or waiting)."""
        return len(self._waiting) + len(self._unanswered)

    def send(self, event_id: str, status_code: int = 200, reason: str = "OK") -> None:
        """Acknowledge one event (``status_code`` as the schema's EventResponse)."""
        if self._closed:
            return
        request, body = self.posts.post(event_id, status_code, reason)
        if self.trace is not None:
            self.trace("out", body)
        if self._connection is not None and not self._waiting and len(self._unanswered) < self.window:
            self._write(event_id, request)
            return
        self._waiting.append((event_id, request))
        if self._connection is None and self._connecting is None:
            self._connect()

    def close(self) -> None:
        """The channel is gone: nothing more is sent, the connection ends."""
        self._closed = True
        self._stop_timer()
        self._waiting.clear()
        self._unanswered.clear()
        connecting, self._connecting = self._connecting, None
        if connecting is not None:
            connecting.cancel()
        connection, self._connection = self._connection, None
        if connection is not None and connection.transport is not None:
            connection.transport.abortConnection()

    # -- the connection -------------------------------------------------------

    def _connect(self):
        self._connecting = self.endpoint.connect(_AckFactory(self))
        self._connecting.addCallbacks(self._connected, self._not_connected)

    def _connected(self, connection):
        self._connecting = None
        if self._closed:
            connection.transport.abortConnection()
            return
        self._connection = connection
        # what a lost connection left unanswered goes again, first
        again, self._unanswered = self._unanswered, collections.deque()
        self._waiting.extendleft(reversed(again))
        self._fill()

    def _not_connected(self, failure):
        self._connecting = None
        if self._closed:
            return None
        self._attempt_failed("cannot connect: %s" % failure.getErrorMessage())
        return None

    def lost(self, connection, reason):
        if connection is not self._connection:
            return
        self._connection = None
        if self._closed:
            return
        if self.outstanding:
            self._attempt_failed("connection lost")
        else:
            self._stop_timer()  # made again with the next POST

    def garbled(self, connection, why):
        lms.emit(
            self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.link_name,
            reason="EventResponse answers: %s; their connection is closed" % why,
        )
        connection.transport.abortConnection()

    def _attempt_failed(self, why):
        self._attempts += 1
        if self._attempts >= self.max_attempts:
            self._give_up("%d acknowledgement(s) (%s)" % (self.outstanding, why))
        else:
            self._connect()

    def _give_up(self, what):
        if self._closed:
            return
        self.close()
        self.failed(what)

    # -- requests and answers ----------------------------------------------

    def _write(self, event_id, request):
        self._unanswered.append((event_id, request))
        self._connection.transport.write(request)
        if self._timer is None:
            self._timer = self.clock.callLater(self.timeout, self._timed_out)

    def _fill(self):
        waiting, window = self._waiting, self.window
        while waiting and self._connection is not None and len(self._unanswered) < window:
            self._write(*waiting.popleft())

    def answered(self, connection, answers):
        if connection is not self._connection:
            return
        for answer in answers:
            if not self._unanswered:
                self.garbled(connection, "an answer to no request")
                return
            event_id, _ = self._unanswered.popleft()
            if not 200 <= answer.status_code < 300:
                lms.emit(
                    self.log, lms.BROADWORKS_REQUEST_FAILED, link=self.link_name,
                    request=xsi_http.EVENT_RESPONSE, request_id=event_id,
                    status=answer.status_code, reason=answer.reason,
                )
        self._attempts = 0
        self._stop_timer()
        if self._unanswered:
            self._timer = self.clock.callLater(self.timeout, self._timed_out)
        self._fill()

    def _timed_out(self):
        self._timer = None
        if self._unanswered:
            event_id, _ = self._unanswered[0]
            lms.emit(
                self.log, lms.BROADWORKS_REQUEST_TIMED_OUT, link=self.link_name,
                request=xsi_http.EVENT_RESPONSE, request_id=event_id, timeout=self.timeout,
            )
            self._give_up("%d acknowledgement(s)" % self.outstanding)

    def _stop_timer(self):
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
