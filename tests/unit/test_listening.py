"""A configured port that cannot be listened on, as one line naming it."""

import socket

import pytest
from twisted.internet import defer
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactor

from csta_connector.listening import ListenAddress, ListenFailed, listen_now

ADDRESS = ListenAddress("metrics", "port", 9102, "127.0.0.1")


def test_the_line_names_file_section_option_and_port():
    failed = ListenFailed(ADDRESS, "Address already in use")
    assert str(failed) == "cannot listen on 127.0.0.1:9102: Address already in use"
    assert str(failed.config_error("etc/x.ini")) == (
        "etc/x.ini: [metrics] port = '9102': cannot listen on 127.0.0.1:9102: Address already in use")
    assert str(ListenFailed(ListenAddress("csta", "port", 1040, ""), "x")) == (
        "cannot listen on *:1040: x")


def test_listen_now_gives_the_port_or_the_reason_at_once():
    from twisted.internet import reactor

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        address = ListenAddress("csta", "port", port, "127.0.0.1")
        with pytest.raises(ListenFailed) as error:
            listen_now(TCP4ServerEndpoint(reactor, port, interface="127.0.0.1"), Factory(), address)
    assert error.value.reason == "Address already in use"
    memory = MemoryReactor()
    listening = listen_now(TCP4ServerEndpoint(memory, 0), Factory(), address)
    assert memory.tcpServers and listening is not None


def test_an_endpoint_that_does_not_listen_at_once_is_refused_and_cancelled():
    pending = defer.Deferred()

    class Slow:
        def listen(self, factory):
            return pending

    with pytest.raises(ListenFailed) as error:
        listen_now(Slow(), Factory(), ADDRESS)
    assert error.value.reason == "the endpoint did not listen at once"
    assert pending.called  # cancelled: nothing waits on it
