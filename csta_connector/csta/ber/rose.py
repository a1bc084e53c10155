"""ROSE (X.880) operations of the CSTA ASN.1 link (pure).

Every CSTA service request, response, error and event travels in one of the
four ROSE APDUs of ``rose.asn``. These dataclasses carry the encoding-neutral
CSTA message (``csta_connector.csta.messages``) rather than BER, so the
server and the services never touch asn1tools values. Nothing here imports
asn1tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Opcode of cSTAEventReport: an Invoke that is never answered.
EVENT_REPORT_OPCODE = 21

#: ROSE error code of universalFailure, the only CSTA error.
UNIVERSAL_FAILURE = 1

#: Reject problem codes (X.880), by problem kind.
REJECT_PROBLEMS: dict[str, dict[int, str]] = {
    "general": {
        0: "unrecognizedPDU",
        1: "mistypedPDU",
        2: "badlyStructuredPDU",
    },
    "invoke": {
        0: "duplicateInvocation",
        1: "unrecognizedOperation",
        2: "mistypedArgument",
        3: "resourceLimitation",
        4: "releaseInProgress",
        5: "unrecognizedLinkedId",
        6: "linkedResponseUnexpected",
        7: "unexpectedLinkedOperation",
    },
    "returnResult": {
        0: "unrecognizedInvocation",
        1: "resultResponseUnexpected",
        2: "mistypedResult",
    },
    "returnError": {
        0: "unrecognizedInvocation",
        1: "errorResponseUnexpected",
        2: "unrecognizedError",
        3: "unexpectedError",
        4: "mistypedParameter",
    },
}


@dataclass(frozen=True, slots=True)
class Invoke:
    """A request or an event.

    ``message`` is the decoded CSTA message, or ``None`` when the opcode is
    not one this codec knows: the server then answers
    :meth:`Reject.unrecognized_operation`. ``argument`` keeps the raw BER of
    the argument in that case (empty otherwise).
    """

    invoke_id: int
    opcode: int
    message: Any
    argument: bytes = b""

    @property
    def is_event(self) -> bool:
        return self.opcode == EVENT_REPORT_OPCODE


@dataclass(frozen=True, slots=True)
class ReturnResult:
    """A positive response. ``opcode`` and ``message`` are ``None`` when the
    peer sent the bare acknowledgement ROSE allows (no result part);
    ``message`` is ``None`` with ``result`` holding the raw BER for an opcode
    this codec does not know."""

    invoke_id: int
    opcode: int | None
    message: Any
    result: bytes = b""


@dataclass(frozen=True, slots=True)
class ReturnError:
    """A negative response: ``error`` is a ``messages.CSTAError``
    (universalFailure)."""

    invoke_id: int
    error: Any


@dataclass(frozen=True, slots=True)
class Reject:
    """A ROSE reject. ``kind`` is general / invoke / returnResult /
    returnError, ``code`` the X.880 problem number in that kind.
    ``invoke_id`` is ``None`` when the rejected APDU's id was unreadable."""

    invoke_id: int | None
    kind: str
    code: int

    @property
    def problem(self) -> str:
        """The X.880 problem name, e.g. ``unrecognizedOperation``."""
        return REJECT_PROBLEMS.get(self.kind, {}).get(self.code, str(self.code))

    @classmethod
    def unrecognized_operation(cls, invoke_id: int) -> "Reject":
        return cls(invoke_id, "invoke", 1)

    @classmethod
    def mistyped_argument(cls, invoke_id: int) -> "Reject":
        return cls(invoke_id, "invoke", 2)

    @classmethod
    def badly_structured(cls, invoke_id: int | None = None) -> "Reject":
        """For an APDU that could not be decoded at all."""
        return cls(invoke_id, "general", 2)


OPERATION_APDUS = (Invoke, ReturnResult, ReturnError, Reject)


def invoke_id_value(invoke_id: tuple[str, Any]) -> int | None:
    """The integer of an asn1tools InvokeId CHOICE (None when absent)."""
    kind, value = invoke_id
    return value if kind == "present" else None


def invoke_id_choice(invoke_id: int | None) -> tuple[str, Any]:
    return ("absent", None) if invoke_id is None else ("present", invoke_id)
