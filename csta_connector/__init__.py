"""csta-connector: a CTI connector between BroadWorks and CSTA clients."""

__version__ = "0.1.0"
