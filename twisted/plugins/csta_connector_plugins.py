# Kept tiny and lazy: plugin discovery imports this on every twistd run.
from twisted.application.service import ServiceMaker

cstaConnector = ServiceMaker(
    "csta-connector",
    "csta_connector.tap",
    "CTI connector: BroadWorks CTI interface to CSTA XML and ASN.1/BER clients",
    "csta-connector",
)

broadworksSim = ServiceMaker(
    "broadworks-sim",
    "csta_connector.sim_tap",
    "BroadWorks simulator: XSP CTI interface, call engine, AS failover, control API",
    "broadworks-sim",
)
