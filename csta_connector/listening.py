# -*- test-case-name: tests.unit.test_listening -*-
"""Listening on a configured port, and what a port that cannot be listened on is.

A port the process cannot listen on is a configuration error: the start
stops with one line naming the file, the section, the option and the port
(``etc/x.ini: [csta] port = '1040': cannot listen on 127.0.0.1:1040:
Address already in use``), a non-zero exit, and nothing left running.

The TCP and TLS server endpoints listen at once: their Deferred has fired
when ``listen()`` returns, as ``twistd`` relies on for its own ports
(``StreamServerEndpointService._raiseSynchronously``). :func:`listen_now`
takes that result there and then, so a failure surfaces inside
``startService``, before the reactor runs, where the start can still stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.python.failure import Failure

from csta_connector.config import ConfigError


@dataclass(frozen=True)
class ListenAddress:
    """Where a configured listener listens, and the option that says so."""

    section: str
    option: str
    port: int
    bind: str


class ListenFailed(Exception):
    """A configured port could not be listened on."""

    def __init__(self, address: ListenAddress, reason: str):
        self.address = address
        self.reason = reason
        super().__init__(self.problem)

    @property
    def problem(self) -> str:
        a = self.address
        return "cannot listen on %s:%d: %s" % (a.bind or "*", a.port, self.reason)

    def config_error(self, source: str) -> ConfigError:
        """The one line for the operator, naming the file (or the embedded default)."""
        a = self.address
        return ConfigError(source, self.problem, section=a.section, option=a.option,
                           value=str(a.port))


def why(error: BaseException) -> str:
    """The operating system's reason (``Address already in use``), else the error's text."""
    socket_error = getattr(error, "socketError", None)
    strerror = getattr(socket_error, "strerror", None) or getattr(error, "strerror", None)
    return strerror or str(error) or type(error).__name__


def listen_now(endpoint, factory, address: ListenAddress):
    """Listen on ``endpoint`` with ``factory``; the ``IListeningPort``, or
    :class:`ListenFailed` raised here and now."""
    outcome = []
    d = endpoint.listen(factory)
    d.addBoth(outcome.append)
    if not outcome:
        d.cancel()  # its CancelledError is taken by outcome.append
        raise ListenFailed(address, "the endpoint did not listen at once")
    if isinstance(outcome[0], Failure):
        raise ListenFailed(address, why(outcome[0].value))
    return outcome[0]
