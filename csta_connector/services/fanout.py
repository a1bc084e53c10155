# -*- test-case-name: tests.unit.test_fanout -*-
"""Monitors and the delivery of CSTA events to them (SPEC §5.3, §5.4).

A monitor is (session, device) with a monitorCrossRefID unique within its
session. Each event of a device goes to every monitor of that device, once
per monitor, stamped with that monitor's cross-reference id, in the order
the events came from BroadWorks.
"""

from __future__ import annotations

import dataclasses
import itertools


@dataclasses.dataclass(eq=False)
class Monitor:
    session: object
    device: str
    user_id: str
    cross_ref_id: str


class MonitorRegistry:
    def __init__(self):
        self._by_device: dict[str, list[Monitor]] = {}
        self._by_session: dict[object, dict[str, Monitor]] = {}
        self._counters: dict[object, itertools.count] = {}

    def add(self, session, device: str, user_id: str) -> Monitor:
        counter = self._counters.get(session)
        if counter is None:
            counter = self._counters[session] = itertools.count(1)
        monitor = Monitor(session, device, user_id, "%04d" % next(counter))
        self._by_device.setdefault(device, []).append(monitor)
        self._by_session.setdefault(session, {})[monitor.cross_ref_id] = monitor
        return monitor

    def remove(self, session, cross_ref_id: str) -> Monitor | None:
        monitor = self._by_session.get(session, {}).pop(cross_ref_id, None)
        if monitor is not None:
            monitors = self._by_device.get(monitor.device, [])
            if monitor in monitors:
                monitors.remove(monitor)
            if not monitors:
                self._by_device.pop(monitor.device, None)
        return monitor

    def remove_session(self, session) -> list[Monitor]:
        monitors = list(self._by_session.pop(session, {}).values())
        self._counters.pop(session, None)
        for monitor in monitors:
            remaining = self._by_device.get(monitor.device, [])
            if monitor in remaining:
                remaining.remove(monitor)
            if not remaining:
                self._by_device.pop(monitor.device, None)
        return monitors

    def of_device(self, device: str) -> list[Monitor]:
        return self._by_device.get(device, [])

    def of_session(self, session) -> list[Monitor]:
        return list(self._by_session.get(session, {}).values())

    def is_monitored(self, device: str) -> bool:
        return bool(self._by_device.get(device))

    @property
    def count(self) -> int:
        return sum(len(m) for m in self._by_device.values())

    def deliver(self, device: str, events, exclude=()) -> int:
        """Send ``events`` (cross_ref_id unset) to each monitor of ``device``
        whose session is not in ``exclude``; returns how many were sent."""
        sent = 0
        monitors = self._by_device.get(device)
        if not monitors or not events:
            return 0
        replace = dataclasses.replace
        for monitor in monitors:
            if monitor.session in exclude:
                continue
            send = monitor.session.send_event
            xref = monitor.cross_ref_id
            for event in events:
                send(replace(event, cross_ref_id=xref))
                sent += 1
        return sent
