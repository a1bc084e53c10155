# -*- test-case-name: tests.unit.test_fanout -*-
"""Monitors and the delivery of CSTA events to them (SPEC §5.3, §5.4).

A monitor is (session, device) with a monitorCrossRefID unique within its
session; it holds the session's wire (:class:`~csta_connector.interfaces.IWire`),
which encodes for that client. Each event of a device goes to every monitor
of that device, once per monitor, stamped with that monitor's
cross-reference id, in the order the events came from BroadWorks, and is
counted (by CSTA event type) in the :class:`EventCounts` of the event path.
"""

from __future__ import annotations

import dataclasses
import itertools

from csta_connector.csta.server import RUNNING
from csta_connector.services.counts import EventCounts

#: monitorCrossRefIDs are fixed width so that a placeholder of the same width
#: can be replaced in encoded bytes without touching any length field.
CROSS_REF_WIDTH = 6
PLACEHOLDER = "X" * CROSS_REF_WIDTH
PLACEHOLDER_BYTES = PLACEHOLDER.encode("ascii")


@dataclasses.dataclass(eq=False)
class Monitor:
    session: object  # the CSTAServerProtocol: its state, and write(bytes)
    device: str
    user_id: str
    cross_ref_id: str
    wire: object = None  # the session's IWire
    cross_ref_bytes: bytes = dataclasses.field(init=False, repr=False)

    def __post_init__(self):
        self.cross_ref_bytes = self.cross_ref_id.encode("ascii")


class MonitorRegistry:
    def __init__(self, counts: EventCounts | None = None, on_sent=None):
        #: where each CSTA event written to a client is counted (``counts.sent``)
        self.counts = counts if counts is not None else EventCounts()
        #: optional callable(monitor, events) after events went to a monitor
        #: (the core logs them when the log wants Interaction lines)
        self.on_sent = on_sent
        self._by_device: dict[str, list[Monitor]] = {}
        self._by_session: dict[object, dict[str, Monitor]] = {}
        self._counters: dict[object, itertools.count] = {}

    def add(self, session, device: str, user_id: str) -> Monitor:
        counter = self._counters.get(session)
        if counter is None:
            counter = self._counters[session] = itertools.count(1)
        in_use = self._by_session.get(session, {})
        while True:
            # fixed width; after a million monitors in one session the numbers
            # wrap, skipping ids still in use
            cross_ref_id = "%0*d" % (CROSS_REF_WIDTH, next(counter) % 10**CROSS_REF_WIDTH)
            if cross_ref_id not in in_use:
                break
        monitor = Monitor(session, device, user_id, cross_ref_id, session.wire)
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
        whose session is running and not in ``exclude``; returns how many
        were sent.

        Each event is encoded once per wire key (encoding, namespace or
        framing) with a placeholder cross-reference id of the same length as
        the real ones; each monitor gets a copy with its own id put in. The
        id is the first field of every CSTA event in both encodings, so
        replacing the first occurrence is exact.
        """
        monitors = self._by_device.get(device)
        if not monitors or not events:
            return 0
        encoded_by_key = {}
        sent_by_type = self.counts.sent
        sent = 0
        for monitor in monitors:
            session = monitor.session
            if session.state is not RUNNING or session in exclude:
                continue
            wire = monitor.wire
            key = wire.event_key
            encoded = encoded_by_key.get(key)
            if encoded is None:
                encoded = encoded_by_key[key] = [
                    (type(event).__name__, wire.encode_event(_template(event)))
                    for event in events
                ]
            xref = monitor.cross_ref_bytes
            write = session.write
            from_encoded = wire.event_from_encoded
            for name, template in encoded:
                write(from_encoded(template.replace(PLACEHOLDER_BYTES, xref, 1)))
                sent_by_type[name] += 1
            sent += len(encoded)
            if self.on_sent is not None:
                self.on_sent(monitor, events)
        return sent


def _template(event):
    # the services translate with the placeholder already (no copy on the hot path)
    if event.cross_ref_id == PLACEHOLDER:
        return event
    return dataclasses.replace(event, cross_ref_id=PLACEHOLDER)
