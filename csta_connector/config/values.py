# -*- test-case-name: tests.unit.test_config -*-
"""The configuration objects: one frozen dataclass per section (SPEC §7).  Pure: no Twisted.

Their fields are the attributes of the options in :mod:`.options` (``kpl-interval``
-> ``kpl_interval``); :mod:`.loading` builds them. The link and listener
settings are derived from them beside their own classes
(``LinkSettings.from_config``, ``ListenerSettings.from_config``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectorSection:
    application_name: str
    channel_set_name: str
    app_controller: str | None
    broadworks_version: str
    channel_expire_tout: int
    default_domain: str | None
    kpl_interval: int
    kpl_tolerance: int
    link_recovery_tout: float
    link_recovery_max_tout: float
    request_timeout: float
    snapshot_timeout: float
    subscription_expire_tout: int
    subscription_renew_interval: int
    subscription_renew_jitter: int
    resync_concurrency: int
    max_document_size: int
    # the proactive resync (options._CONNECTOR_PROACTIVE_RESYNC)
    proactive_resync: bool
    proactive_resync_rate: int
    proactive_resync_holdoff: float


@dataclass(frozen=True)
class LinkSection:
    name: str  # the NAME of [link-NAME]
    hostname: str | None  # protocol cti (mandatory there)
    port: int
    priority: int
    weight: int
    username: str | None
    password: str | None
    tls: bool
    tls_ca: str | None
    kpl_interval: int  # [Connector] value unless the link overrides it
    kpl_tolerance: int
    protocol: str = "cti"  # cti | xsi
    url: str | None = None  # protocol xsi (mandatory there): http(s)://host[:port][/prefix]


@dataclass(frozen=True)
class CstaSection:
    port: int
    bind: str
    encoding: str
    detect_timeout: float
    ber_framing: str
    xml_namespace: str
    tls: bool
    tls_certificate: str | None
    tls_key: str | None
    frame_timeout: float
    max_output_buffer: int
    snapshot_requester_events: bool


@dataclass(frozen=True)
class ContactCentreSection:
    acd_queues: tuple[str, ...]
    route_points: tuple[str, ...]
    agents: tuple[str, ...]
    agent_login_state: str
    # routeing (options._CONTACT_CENTRE_ROUTEING)
    route_select: str
    route_retries: int
    route_reply_timeout: int | None
    admit_calls: bool


#: the simulator's users are 2001, 2002, ... (simulator/addressing.py Directory)
FIRST_USER_EXTENSION = 2001


@dataclass(frozen=True)
class SimulatorSection:
    enabled: bool
    users: int
    domain: str
    bind: str
    cti_port: int
    xsp_ports: tuple[int, ...]
    control_port: int
    resync_delay: float
    resync_event: str
    failover_drops_channels: bool
    # the Xsi front-end (options._SIMULATOR_XSI)
    xsi_port: int | None  # None: no Xsi front-end; 0: any free port
    xsi_credentials: tuple[tuple[str, str], ...]  # (user, password); empty: any accepted
    xsi_event_timeout: float  # 0: a stream without heartbeats never ends
    # the contact centre (options._SIMULATOR_CONTACT_CENTRE)
    call_centers: tuple[tuple[str, tuple[str, ...]], ...]
    route_points: tuple[str, ...]
    initial_agent_state: str
    queue_policy: str
    queue_length: int
    wrap_up_seconds: float
    agent_state_after_call: str
    offer_seconds: float
    overflow_seconds: float
    overflow_destination: str | None
    route_point_timeout: float
    no_request_seconds: float | None
    failed_destination: str | None
    route_point_admission: bool
    treatment_seconds: float
    queue_resync_unsolicited: bool

    def is_user_extension(self, extension: str) -> bool:
        return extension.isdigit() and 0 <= int(extension) - FIRST_USER_EXTENSION < self.users

    def provisioned_call_centers(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The call centers the simulator provisions: not those whose
        extension a user already has (``users = 10000`` covers 5001)."""
        return tuple(center for center in self.call_centers if not self.is_user_extension(center[0]))

    def provisioned_route_points(self) -> tuple[str, ...]:
        return tuple(point for point in self.route_points if not self.is_user_extension(point))


@dataclass(frozen=True)
class LogSection:
    verbose: str
    all: tuple[str, ...]
    standard: tuple[str, ...]
    interaction: tuple[str, ...]
    trace: tuple[str, ...]
    debug: tuple[str, ...]
    format: str


@dataclass(frozen=True)
class MetricsSection:
    port: int
    bind: str


@dataclass(frozen=True)
class ConnectorConfig:
    connector: ConnectorSection
    links: tuple[LinkSection, ...]
    csta: CstaSection
    contact_centre: ContactCentreSection
    simulator: SimulatorSection
    log: LogSection
    metrics: MetricsSection | None
    #: The file read, or "<embedded default>".
    source: str


@dataclass(frozen=True)
class SimulatorConfig:
    simulator: SimulatorSection
    log: LogSection
    source: str
