"""Acknowledgements of an Xsi event channel on a Clock and StringTransports:
pipelined, answered in order, sent again after a lost connection, and the
link told when they cannot get through."""

from twisted.internet import defer
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from csta_connector.broadworks import xsi_http, xsp
from csta_connector.broadworks.xsi_ack import Acknowledgements

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@implementer(IStreamClientEndpoint)
class Endpoint:
    """Each connect() a StringTransport connection, or a refusal when told."""

    def __init__(self):
        self.connections = []
        self.refuse = False
        self.pending = None  # a connect left hanging, when set to a list

    def connect(self, factory):
        if self.refuse:
            return defer.fail(ConnectionRefusedError())
        if self.pending is not None:
            d = defer.Deferred()
            self.pending.append(d)
            return d
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.connections.append(protocol)
        return defer.succeed(protocol)


class Acks:
    def __init__(self, window=128, timeout=5.0):
        self.clock = Clock()
        self.endpoint = Endpoint()
        self.failures = []
        self.traced = []
        self.acks = Acknowledgements(
            self.clock, self.endpoint, xsi_http.EventResponsePosts("xsp1:80", "", xsp.credentials_for("a", "b")),
            timeout, "xsi-1", self.failures.append, lambda d, body: self.traced.append((d, body)), window=window)

    @property
    def connection(self):
        return self.endpoint.connections[-1]

    def written(self, connection=None):
        """The event ids of the POSTs written on ``connection`` (the last one) since the last look."""
        transport = (connection or self.connection).transport
        data = transport.value()
        transport.clear()
        return [xsi_http.read_event_response(body)[0] for body in _bodies(data)]

    def answer(self, *answers, connection=None):
        (connection or self.connection).dataReceived(b"".join(answers))

    def lose(self, connection=None):
        connection = connection or self.connection
        connection.transport.loseConnection()
        connection.connectionLost(Failure(ConnectionDone()))


def _bodies(data):
    bodies = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        bodies.append(rest[:length])
        data = rest[length:]
    return bodies


def test_acknowledgements_are_pipelined_on_one_connection_and_answered_in_order():
    a = Acks()
    for n in range(3):
        a.acks.send("ev-%d" % n)
    assert len(a.endpoint.connections) == 1
    assert a.written() == ["ev-0", "ev-1", "ev-2"]  # all on the wire before any answer
    assert a.acks.outstanding == 3 and len(a.clock.getDelayedCalls()) == 1  # one timer for all
    a.answer(OK, OK[:10])
    assert a.acks.outstanding == 2
    a.answer(OK[10:], OK)
    assert a.acks.outstanding == 0 and a.clock.getDelayedCalls() == []
    assert [d for d, _ in a.traced] == ["out"] * 3
    a.acks.send("ev-3")
    assert a.written() == ["ev-3"] and len(a.endpoint.connections) == 1  # the same connection again
    a.answer(OK)
    a.acks.close()
    assert a.clock.getDelayedCalls() == [] and a.failures == []


def test_beyond_the_window_acknowledgements_wait_their_turn_in_order():
    a = Acks(window=2)
    for n in range(5):
        a.acks.send("ev-%d" % n)
    assert a.written() == ["ev-0", "ev-1"]
    a.answer(OK)
    assert a.written() == ["ev-2"]
    a.answer(OK, OK)
    assert a.written() == ["ev-3", "ev-4"]
    a.answer(OK, OK)
    assert a.acks.outstanding == 0
    a.acks.close()


def test_an_acknowledgement_refused_is_logged_and_the_others_go_on(lms_lines):
    a = Acks()
    a.acks.send("ev-1")
    a.acks.send("ev-2")
    a.answer(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nno!", OK)
    assert [(l["lms_id"], l["request_id"], l["status"]) for l in lms_lines] == [(37120, "ev-1", 400)]
    assert a.acks.outstanding == 0 and a.failures == []
    a.acks.close()


def test_a_lost_connection_is_made_again_and_what_it_left_unanswered_goes_first():
    a = Acks()
    for n in range(3):
        a.acks.send("ev-%d" % n)
    first = a.connection
    assert a.written() == ["ev-0", "ev-1", "ev-2"]
    a.answer(OK)  # ev-0
    a.lose()
    second = a.connection
    assert second is not first
    a.acks.send("ev-3")
    assert a.written() == ["ev-1", "ev-2", "ev-3"]
    a.answer(OK, OK, OK)
    assert a.acks.outstanding == 0 and a.failures == []
    a.acks.close()
    assert a.clock.getDelayedCalls() == []


def test_a_server_closing_after_an_answer_costs_nothing():
    a = Acks()
    a.acks.send("ev-1")
    a.acks.send("ev-2")
    a.written()
    a.answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    a.lose()
    assert a.written() == ["ev-2"]
    a.answer(OK)
    a.lose()  # nothing outstanding: the next POST makes the next connection
    assert len(a.endpoint.connections) == 2 and a.clock.getDelayedCalls() == []
    a.acks.send("ev-3")
    assert len(a.endpoint.connections) == 3 and a.written() == ["ev-3"]
    a.acks.close()


def test_no_answer_within_the_timeout_tells_the_link(lms_lines):
    a = Acks(timeout=5)
    a.acks.send("ev-1")
    a.clock.advance(3)
    a.acks.send("ev-2")
    assert a.written() == ["ev-1", "ev-2"]
    a.clock.advance(2)  # 5 s since the oldest went out
    assert a.failures == ["2 acknowledgement(s)"]
    assert [(l["lms_id"], l["request_id"]) for l in lms_lines] == [(37121, "ev-1")]
    assert a.connection.transport.disconnecting
    a.acks.send("ev-3")  # closed: nothing more goes
    assert a.written() == [] and a.clock.getDelayedCalls() == []


def test_each_answer_gives_the_rest_a_new_timeout():
    a = Acks(timeout=5)
    a.acks.send("ev-1")
    a.acks.send("ev-2")
    a.clock.advance(4)
    a.answer(OK)
    a.clock.advance(4)
    assert a.failures == []
    a.clock.advance(1)
    assert a.failures == ["1 acknowledgement(s)"]


def test_when_no_connection_can_be_made_the_link_is_told():
    a = Acks()
    a.endpoint.refuse = True
    a.acks.send("ev-1")
    assert a.failures == ["1 acknowledgement(s) (cannot connect: Connection was refused by other side.)"]
    assert a.clock.getDelayedCalls() == []


def test_connections_lost_again_and_again_without_an_answer_tell_the_link():
    a = Acks()
    a.acks.send("ev-1")
    for _ in range(3):
        a.lose()
    assert a.failures == ["1 acknowledgement(s) (connection lost)"]
    assert len(a.endpoint.connections) == 3


def test_garbage_for_answers_closes_their_connection_and_they_go_again(lms_lines):
    a = Acks()
    a.acks.send("ev-1")
    a.written()
    first = a.connection
    a.answer(b"SSH-2.0-OpenSSH_9.0\r\n\r\n")
    assert first.transport.disconnecting and [l["lms_id"] for l in lms_lines] == [37122]
    a.lose(first)
    assert a.written() == ["ev-1"]
    a.answer(OK)
    assert a.acks.outstanding == 0
    a.acks.close()


def test_closing_while_connecting_sends_nothing():
    a = Acks()
    a.endpoint.pending = []
    a.acks.send("ev-1")
    (connecting,) = a.endpoint.pending
    a.acks.close()
    assert connecting.called  # cancelled
    assert a.failures == [] and a.clock.getDelayedCalls() == []
