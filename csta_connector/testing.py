"""Fakes and helpers shared by the tests, the benchmarks and the demo.

Kept in the package (as ldaptor.testutil, txacme.testing) so downstream code
can reuse them; nothing here runs in production paths.
"""

from __future__ import annotations

from zope.interface import implementer

from csta_connector.interfaces import IEventSink
from csta_connector.waiting import Observations, WaitTimeout  # noqa: F401 (re-exported)

# The waiting primitive is a product module now (csta_connector.waiting);
# these names stay for the code that still imports them from here.
Waitable = Observations


@implementer(IEventSink)
class RecordingEventSink(Waitable):
    """An IEventSink that keeps every event, gap and link-state change."""

    def __init__(self, clock):
        super().__init__(clock)
        self.gaps = []
        self.link_states = []

    def broadworks_event(self, event):
        self.add(event)

    def broadworks_sequence_gap(self, gap):
        self.gaps.append(gap)

    def broadworks_link_state(self, up_links, total_links):
        self.link_states.append((up_links, total_links))

    def broadworks_link_recovered(self, link_name):
        self.link_states.append(("recovered", link_name))

    def of(self, user_id, event_type=None):
        return [
            e for e in self.items
            if e.target_id == user_id and (event_type is None or e.event_type == event_type)
        ]

    def types_of(self, user_id):
        return [e.event_type for e in self.items if e.target_id == user_id]


def free_port_config(users=20, resync_delay=0.2, encoding="auto", **connector):
    """The embedded default (simulator + connector) on free loopback ports,
    tuned for seconds-long runs: links recover after 0.2 s, a silent client
    is XML after 0.3 s, the peer AS resynchronizes after ``resync_delay``.
    Shared by the integration tests, the benchmarks and the demo."""
    import dataclasses

    from csta_connector.config import default_config

    config = default_config()
    return dataclasses.replace(
        config,
        connector=dataclasses.replace(config.connector, link_recovery_tout=0.2, **connector),
        csta=dataclasses.replace(
            config.csta, port=0, bind="127.0.0.1", encoding=encoding, detect_timeout=0.3
        ),
        simulator=dataclasses.replace(
            config.simulator, cti_port=0, control_port=0, users=users, resync_delay=resync_delay
        ),
    )
