"""The simulator's refusals: one exception with the HTTP status and the simulator's own error code.

Every part of the simulator raises them (addressing, failover, the call engine);
the XSP server turns one into a CTI error response, the control API into an
HTTP error with a JSON body.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.IntEnum):
    """The ``errorCode`` of a refused action (the simulator's own table).

    ======  =====  ============================================================
    code    HTTP   meaning
    ======  =====  ============================================================
    4001    400    invalid argument (address, digits, mode, call list)
    4002    400    the call's state does not allow the action
    4041    404    unknown user
    4042    404    unknown call (not a call of that user on the active AS)
    4043    404    orphaned call: the active AS lost it in a failover
    4044    404    transfer destination does not exist
    4045    404    not a call center agent
    4046    404    no such call center or route point
    4091    409    transfer destination busy
    4092    409    the user already has a conference
    4093    409    no treatment of the call is collecting digits
    4094    409    the application controller has no channel to be ready on
    5011    501    a CTI request the simulator does not implement
    ======  =====  ============================================================
    """

    INVALID_ARGUMENT = 4001
    INVALID_STATE = 4002
    UNKNOWN_USER = 4041
    UNKNOWN_CALL = 4042
    CALL_ORPHANED = 4043
    DESTINATION_NOT_FOUND = 4044
    UNKNOWN_AGENT = 4045
    UNKNOWN_QUEUE = 4046
    DESTINATION_BUSY = 4091
    CONFERENCE_EXISTS = 4092
    NOT_COLLECTING = 4093
    NO_CHANNEL = 4094
    NOT_IMPLEMENTED = 5011


class SimulatorError(Exception):
    """Call control refused; the XSP server turns it into a CTI error response."""

    def __init__(self, status_code: int, error_code: int, summary: str):
        super().__init__(summary)
        self.status_code = status_code
        self.error_code = int(error_code)
        self.summary = summary

    def __repr__(self):
        return "SimulatorError(%d, %d, %r)" % (
            self.status_code,
            self.error_code,
            self.summary,
        )


def invalid(summary) -> SimulatorError:
    return SimulatorError(400, ErrorCode.INVALID_ARGUMENT, summary)


def bad_state(summary) -> SimulatorError:
    return SimulatorError(400, ErrorCode.INVALID_STATE, summary)
