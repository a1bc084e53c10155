# -*- test-case-name: tests.unit.test_sim_engine -*-
"""The platform's directory: users, their numbers, and where an address leads.

* A **user** is found by extension (``2002``), user id (``2002@example.com``),
  number (``+15550002002``, ``15550002002``), ``tel:`` or ``sip:`` URI.
* A **virtual subscriber** (a call center ``5001@example.com``, a route point
  ``6001@example.com``) is found the same ways; it has no phone: its calls
  are held by the call center or route point (``call_centers.py``,
  ``route_points.py``).
* **Unknown destination**: a short number (1-6 digits) or a number of the
  platform's own block (``+1555000…``) that is no user.
* **Network party**: any other number of 7 or more digits (``+4930123456``,
  ``tel:0301234567``).
* Anything else (letters, empty, another domain) is refused:
  ``SimulatorError`` 400.

:meth:`Directory.route` is the one place an address becomes a destination
(a :class:`Route`); the call engine then delivers a call by the route's
:class:`RouteKind`. A new kind of destination of the platform (a route point,
a call centre) is a new kind here and a new delivery in the engine.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from csta_connector.broadworks.xsi import RemoteParty
from csta_connector.simulator.errors import ErrorCode, SimulatorError, invalid
from csta_connector.simulator.sessions import ON_HOOK

OWN_BLOCK = "+1555000"  # the platform's numbers: +1555000 and the extension

_DIGITS = re.compile(r"^\+?[0-9]+$")


class User:
    """A user of the platform and what the active AS knows of its calls (mutable)."""

    __slots__ = (
        "user_id",
        "extension",
        "number",
        "party",
        "busy",
        "call_waiting",
        "halves",
        "orphans",
        "conference",
        "hook",
    )

    def __init__(self, user_id, extension, number):
        self.user_id = user_id
        self.extension = extension
        self.number = number
        self.party = RemoteParty(
            name="User %s" % extension,
            address="tel:" + number,
            user_id=user_id,
            user_dn="tel:%s;ext=%s" % (number, extension),
            call_type="Group",
        )
        self.busy = False
        self.call_waiting = True
        self.halves = []  # halves the active AS knows, oldest first
        self.orphans = []  # halves lost in an ungraceful failover
        self.conference = None  # list of the participating halves
        self.hook = ON_HOOK


class VirtualSubscriber:
    """A call center or route point: an id, an extension and a number, no phone.

    ``holder`` is the object that holds its calls (a ``CallCenter`` or a
    ``RoutePoint``)."""

    __slots__ = ("user_id", "extension", "number", "name", "party", "kind", "holder")

    def __init__(self, user_id, extension, number, name, kind):
        self.user_id = user_id
        self.extension = extension
        self.number = number
        self.name = name
        self.kind = kind
        self.holder = None
        self.party = RemoteParty(
            name=name,
            address="tel:" + number,
            user_id=user_id,
            user_dn="tel:%s;ext=%s" % (number, extension),
            call_type="Group",
        )


class RouteKind(enum.Enum):
    USER = "user"  # a user's phone alerts; the user gets events
    NETWORK = "network"  # an external party alerts with no events
    UNKNOWN = "unknown"  # the platform has no such number: User Not Found
    CALL_CENTER = "call center"  # the call is queued (call_centers.py)
    ROUTE_POINT = "route point"  # the call waits for the routing application (route_points.py)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a call to an address goes, and the remote party the caller sees."""

    kind: RouteKind
    party: RemoteParty
    user: User | None = None
    number: str | None = None
    subscriber: VirtualSubscriber | None = None


def local_part(address):
    """Strip scheme, URI parameters and domain: (local part, domain)."""
    text = str(address).strip()
    lowered = text.lower()
    for scheme in ("tel:", "sip:", "sips:"):
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            break
    text = text.split(";", 1)[0]
    local, _, domain = text.partition("@")
    return local.strip(), domain.strip().lower()


class Directory:
    """The users of one domain, found by id, extension, number or URI."""

    def __init__(self, domain="example.com", users=100, first_extension=2001):
        self.domain = domain
        self._users = {}
        self._by_extension = {}
        self._by_number = {}
        self._virtual = {}  # user id, extension and number -> VirtualSubscriber
        for extension in range(first_extension, first_extension + users):
            ext = str(extension)
            self.add(User("%s@%s" % (ext, domain), ext, OWN_BLOCK + ext))

    def add(self, user: User):
        self._users[user.user_id] = user
        self._by_extension[user.extension] = user
        self._by_number[user.number] = user

    def add_virtual(self, subscriber: VirtualSubscriber) -> bool:
        """Provision a call center or route point; False (nothing changed) when
        its extension or number is taken."""
        keys = (subscriber.user_id, subscriber.extension, subscriber.number)
        if any(k in self._virtual for k in keys) or self.user_by_address(subscriber.extension) is not None:
            return False
        for key in keys:
            self._virtual[key] = subscriber
        return True

    def virtual(self, address) -> VirtualSubscriber | None:
        """The call center or route point an address names, or None."""
        if address is None:
            return None
        found = self._virtual.get(address)
        if found is not None:
            return found
        local, domain = local_part(address)
        if domain and domain != self.domain.lower():
            return None
        return self._virtual.get(local) or self._virtual.get("+" + local.lstrip("+"))

    def __len__(self):
        return len(self._users)

    def __iter__(self):
        return iter(self._users.values())

    @property
    def user_ids(self) -> tuple[str, ...]:
        return tuple(self._users)

    def user(self, user_id) -> User:
        """The user ``user_id`` names (an id or any address of it), or ``SimulatorError`` 404."""
        user = self._users.get(user_id)
        if user is None:
            user = self.user_by_address(user_id)
        if user is None:
            raise SimulatorError(
                404, ErrorCode.UNKNOWN_USER, "unknown user %r" % (user_id,)
            )
        return user

    def resolve_user(self, address) -> str | None:
        """The user id an address names, or None: ``2002``, ``2002@example.com``,
        ``+15550002002``, ``tel:+15550002002``, ``sip:2002@example.com``."""
        user = self.user_by_address(address)
        return user.user_id if user is not None else None

    def user_by_address(self, address) -> User | None:
        if address is None:
            return None
        local, domain = local_part(address)
        if domain and domain != self.domain.lower():
            return None
        if local in self._by_extension:
            return self._by_extension[local]
        if local in self._by_number:
            return self._by_number[local]
        if "+" + local in self._by_number:
            return self._by_number["+" + local]
        return None

    def route(self, address) -> Route:
        """Where a call to ``address`` goes; ``SimulatorError`` 400 for no address at all."""
        user = self.user_by_address(address)
        if user is not None:
            return Route(RouteKind.USER, user.party, user=user)
        subscriber = self.virtual(address)
        if subscriber is not None:
            return Route(subscriber.kind, subscriber.party, subscriber=subscriber)
        local, domain = local_part(address or "")
        if not _DIGITS.match(local) or (domain and domain != self.domain.lower()):
            raise invalid("invalid address %r" % (address,))
        digits = local.lstrip("+")
        own_block = local.startswith(OWN_BLOCK) or (
            local.startswith(OWN_BLOCK[1:]) and len(digits) == 11
        )
        if len(digits) <= 6 or own_block:
            return Route(RouteKind.UNKNOWN, RemoteParty(address="tel:" + local))
        return Route(
            RouteKind.NETWORK,
            RemoteParty(address="tel:" + local, call_type="Network"),
            number=local,
        )
