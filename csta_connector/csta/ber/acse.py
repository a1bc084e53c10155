"""ACSE association APDUs of the CSTA ASN.1 link (pure).

A BER client opens a CSTA association with an AARQ and the connector answers
with an AARE (``acse.asn``). These dataclasses are what the rest of the
connector sees; the conversion to and from the asn1tools values of
``acse.asn`` lives here too, so ``codec.py`` only has to run the compiled
schema. Nothing here imports asn1tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The application context of CSTA Phase III (ECMA-285 / ISO/IEC 18052):
#: ``1.3.12.0.218``, sent by Panasonic and HiPath 4000 clients.
CSTA_APPLICATION_CONTEXT = "1.3.12.0.218"

#: Direct reference of the CSTA ACSE user information
#: (module CSTA-application-context-information-csta3, arc 200).
CSTA_USER_INFORMATION_OID = "1.3.12.0.285.200"

#: AARE result values (X.227 Associate-result).
ACCEPTED = 0
REJECTED_PERMANENT = 1
REJECTED_TRANSIENT = 2

#: X.227 acse-service-user diagnostics.
DIAGNOSTIC_NULL = 0
DIAGNOSTIC_NO_REASON_GIVEN = 1
DIAGNOSTIC_CONTEXT_NOT_SUPPORTED = 2

#: protocol-version with version1 set, the only ACSE version there is (X.227):
#: the bits 07 80 of the AARQs and AAREs in the captures
VERSION1 = (b"\x80", 1)

#: ABRT abort-source values.
ABORT_BY_SERVICE_USER = 0
ABORT_BY_SERVICE_PROVIDER = 1


@dataclass(frozen=True, slots=True)
class AssociationRequest:
    """An AARQ.

    ``csta_versions`` are the bit numbers set in the client's
    ``cSTAVersion`` (e.g. ``(4,)`` = versionFive, ECMA-285 2nd edition), empty
    when the client sent no CSTA user information. ``authentication`` is the
    calling-authentication-value as asn1tools decoded it (a CHOICE tuple), for
    a server configured to check it. ``apdu`` keeps the decoded AARQ so the
    AARE can echo the client's protocol version and user information byte for
    byte.
    """

    application_context: str = CSTA_APPLICATION_CONTEXT
    csta_versions: tuple[int, ...] = ()
    authentication: Any = None
    apdu: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class AssociationResponse:
    """An AARE. ``result`` is :data:`ACCEPTED` or a rejection."""

    application_context: str
    result: int = ACCEPTED
    diagnostic: int = DIAGNOSTIC_NULL
    csta_versions: tuple[int, ...] = ()
    apdu: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def accepted(self) -> bool:
        return self.result == ACCEPTED


@dataclass(frozen=True, slots=True)
class ReleaseRequest:
    """An RLRQ (orderly close); answered with :class:`ReleaseResponse`."""

    reason: int | None = None


@dataclass(frozen=True, slots=True)
class ReleaseResponse:
    """An RLRE."""

    reason: int | None = None


@dataclass(frozen=True, slots=True)
class Abort:
    """An ABRT: the association ends at once."""

    source: int = ABORT_BY_SERVICE_USER


ASSOCIATION_APDUS = (
    AssociationRequest, AssociationResponse, ReleaseRequest, ReleaseResponse,
    Abort,
)


# --- CSTA user information -----------------------------------------------------


def bits_set(bit_string: tuple[bytes, int]) -> tuple[int, ...]:
    """Numbers of the bits set in an asn1tools BIT STRING value (bit 0 is
    the most significant bit of the first byte, as in ASN.1 named bits)."""
    data, length = bit_string
    return tuple(
        n for n in range(length) if data[n // 8] & (0x80 >> (n % 8))
    )


def bit_string(bits: tuple[int, ...] | list[int], length: int | None = None):
    """An asn1tools BIT STRING value with ``bits`` set, at least ``length``
    bits long and otherwise the smallest whole number of bytes."""
    needed = ((max(bits) // 8 + 1) * 8) if bits else 0
    length = max(length or 0, needed)
    data = bytearray((length + 7) // 8)
    for n in bits:
        data[n // 8] |= 0x80 >> (n % 8)
    return (bytes(data), length)


def csta_user_information(versions: tuple[int, ...]) -> dict:
    """The EXTERNAL of a CSTA user information announcing ``versions``.

    The single-ASN1-type value is filled in by the codec, which owns the
    schema; here it is the asn1tools value of ACSEUserInformationForCSTA.
    """
    return {
        "direct-reference": CSTA_USER_INFORMATION_OID,
        "csta": ("newDefinition", {"cSTAVersion": bit_string(versions, 16)}),
    }


# --- asn1tools values <-> dataclasses -----------------------------------------


def request_from_asn1(aarq: dict, csta_versions: tuple[int, ...]) -> AssociationRequest:
    return AssociationRequest(
        application_context=aarq["application-context-name"],
        csta_versions=csta_versions,
        authentication=aarq.get("calling-authentication-value"),
        apdu=aarq,
    )


def response_from_asn1(aare: dict, csta_versions: tuple[int, ...]) -> AssociationResponse:
    _, diagnostic = aare["result-source-diagnostic"]
    return AssociationResponse(
        application_context=aare["application-context-name"],
        result=aare["result"],
        diagnostic=diagnostic,
        csta_versions=csta_versions,
        apdu=aare,
    )


def aare_for(
    request: AssociationRequest,
    accepted: bool = True,
    diagnostic: int | None = None,
) -> dict:
    """The asn1tools value of the AARE answering ``request`` (X.227 7.1.4.2).

    * protocol-version: the version selected, version1, when the AARQ names
      versions (absent, it is version1 by default on both sides);
    * application-context-name: the client's, echoed (any CSTA context);
    * result: accepted (0), or rejected-permanent (1);
    * result-source-diagnostic: acse-service-user, ``null`` (0) when
      accepted, as X.227 has it. (The Panasonic PBX of the captures
      accepts with ``no-reason-given`` (1); a client reads the result, not
      the diagnostic.) Rejecting: ``application-context-name-not-supported`` (2);
    * user-information: the client's (its cSTAVersion), echoed when accepted,
      as the Panasonic PBX does.

    No responder-acse-requirements: the authentication functional unit is
    not taken up (its fields stay absent, as X.227 allows).
    """
    if diagnostic is None:
        diagnostic = DIAGNOSTIC_NULL if accepted else DIAGNOSTIC_CONTEXT_NOT_SUPPORTED
    aare: dict = {}
    if "protocol-version" in request.apdu:
        aare["protocol-version"] = VERSION1
    aare["application-context-name"] = request.application_context
    aare["result"] = ACCEPTED if accepted else REJECTED_PERMANENT
    aare["result-source-diagnostic"] = ("acse-service-user", diagnostic)
    if accepted and "user-information" in request.apdu:
        aare["user-information"] = request.apdu["user-information"]
    return aare


def to_asn1(apdu) -> tuple[str, dict]:
    """The (ACSE-apdu alternative, value) of an association dataclass.

    A request or response built by hand (no ``apdu``) gets the CSTA user
    information of its ``csta_versions``; the codec encodes that part.
    """
    if isinstance(apdu, AssociationRequest):
        value = dict(apdu.apdu) if apdu.apdu else {}
        value["application-context-name"] = apdu.application_context
        if not apdu.apdu and apdu.csta_versions:
            value["user-information"] = [csta_user_information(apdu.csta_versions)]
        if apdu.authentication is not None:
            value["calling-authentication-value"] = apdu.authentication
        return "aarq", value
    if isinstance(apdu, AssociationResponse):
        value = dict(apdu.apdu) if apdu.apdu else {}
        value["application-context-name"] = apdu.application_context
        value["result"] = apdu.result
        value["result-source-diagnostic"] = ("acse-service-user", apdu.diagnostic)
        if not apdu.apdu and apdu.csta_versions:
            value["user-information"] = [csta_user_information(apdu.csta_versions)]
        return "aare", value
    if isinstance(apdu, ReleaseRequest):
        return "rlrq", {} if apdu.reason is None else {"reason": apdu.reason}
    if isinstance(apdu, ReleaseResponse):
        return "rlre", {} if apdu.reason is None else {"reason": apdu.reason}
    if isinstance(apdu, Abort):
        return "abrt", {"abort-source": apdu.source}
    raise TypeError(f"not an ACSE APDU: {apdu!r}")
