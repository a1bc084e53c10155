# -*- test-case-name: tests.unit.test_devices -*-
"""Which CSTA device is what (SPEC §10.1): a user, an ACD device (a BroadWorks
Call Center) or a routeing device (a Route Point). Pure: no Twisted.

CSTA MonitorStart carries no device type and BroadWorks has no request that
says what an id is, so the types come from the configuration
(``[contact-centre] acd-queues`` / ``route-points``, ids or numeric ranges;
with the embedded simulator its own provisioning). Every other id is a user.
``agents`` names the users whose monitors also subscribe ``Call Center
Agent``; ``*`` is every user (one refused subscription each for those that
are no agent).
"""

from __future__ import annotations

import enum


class DeviceKind(enum.Enum):
    USER = "user"
    ACD = "acd"
    ROUTE_POINT = "routeing device"


class IdSet:
    """Device ids (``5001``, ``queue@example.com``) and numeric ranges
    (``5001-5010``); ``*`` is every id. A device matches by its full id or
    by its local part (``5001@example.com`` matches ``5001``)."""

    __slots__ = ("everything", "ids", "ranges")

    def __init__(self, items=()):
        self.everything = "*" in items
        self.ids = set()
        self.ranges = []
        for item in items:
            first, dash, last = item.partition("-")
            if dash and first.isdigit() and last.isdigit():
                self.ranges.append((int(first), int(last)))
            elif item != "*":
                self.ids.add(item)

    def __contains__(self, device: str) -> bool:
        if self.everything:
            return True
        if device in self.ids:
            return True
        local = device.partition("@")[0]
        if local in self.ids:
            return True
        if local.isdigit():
            number = int(local)
            return any(first <= number <= last for first, last in self.ranges)
        return False

    def __bool__(self) -> bool:
        return self.everything or bool(self.ids) or bool(self.ranges)


class DeviceTypes:
    """The device type of every id; the default knows users only."""

    def __init__(self, acd_queues=(), route_points=(), agents=()):
        self.acd_queues = IdSet(acd_queues)
        self.route_points = IdSet(route_points)
        self.agents = IdSet(agents)

    @classmethod
    def from_config(cls, config) -> "DeviceTypes":
        """``[contact-centre]``; with the embedded simulator, what it
        provisions stands in for what is not given."""
        section = config.contact_centre
        queues, points, agents = section.acd_queues, section.route_points, section.agents
        simulator = config.simulator
        if simulator.enabled:
            centers = simulator.provisioned_call_centers()
            queues = queues or tuple(center for center, _ in centers)
            points = points or simulator.provisioned_route_points()
            if agents == ("*",):
                agents = tuple(sorted({a for _, members in centers for a in members}))
        return cls(queues, points, agents)

    def kind_of(self, device: str) -> DeviceKind:
        if device in self.acd_queues:
            return DeviceKind.ACD
        if device in self.route_points:
            return DeviceKind.ROUTE_POINT
        return DeviceKind.USER

    def is_acd(self, device: str) -> bool:
        return device in self.acd_queues

    def may_be_agent(self, device: str) -> bool:
        """A user whose monitor also subscribes Call Center Agent."""
        return device in self.agents and self.kind_of(device) is DeviceKind.USER
