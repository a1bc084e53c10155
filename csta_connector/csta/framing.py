# -*- test-case-name: tests.unit.test_csta_framing -*-
"""Byte framing of CSTA on TCP, and encoding detection (pure: no Twisted).

CSTA XML (ECMA-323 annex "CSTA XML without SOAP"; G.2 in ed3, J.2 in later
editions) puts an 8-byte header before each XML document::

    00 00 | uint16 big-endian total length, header included | 4 ASCII digits

The digits are the invoke id: a response echoes its request's id, events use
``9999`` (requests use 0000-9998).

CSTA ASN.1 (ECMA-285, BER) has no standard TCP framing; the two forms seen in
public code (``reference/csta.md`` §1.2) are supported:

* ``length2``: a uint16 big-endian length of the APDU (header excluded), then
  the APDU (Panasonic KX-TDA/NS and most Phase III peers);
* ``hipath``: the byte ``0x26``, then a uint16 big-endian whose top bit is
  always set (``0x8000 | length``, length excluding the 3 header bytes), then
  the APDU (Siemens HiPath 4000 CSTA III).

Decoders are incremental: :meth:`feed` takes whatever the transport delivered
(one byte or many frames) and returns the complete frames found so far.
"""

from __future__ import annotations

XML = "xml"
BER = "ber"
LENGTH2 = "length2"
HIPATH = "hipath"
BER_FRAMINGS = (LENGTH2, HIPATH)

XML_HEADER_LENGTH = 8
#: The invoke id of unsolicited events on the XML link.
EVENT_INVOKE_ID = 9999
#: The largest XML frame the uint16 length can describe (header included).
MAX_XML_FRAME = 0xFFFF
#: Largest APDU each BER framing can describe.
MAX_BER_APDU = {LENGTH2: 0xFFFF, HIPATH: 0x7FFF}

HIPATH_MARKER = 0x26
_HIPATH_LENGTH_FLAG = 0x8000
# First byte of an ACSE AARQ ([APPLICATION 0], constructed): a BER client's
# first APDU.
AARQ_TAG = 0x60


class FramingError(Exception):
    """The byte stream cannot be framed; the connection must be closed."""


# --- XML ------------------------------------------------------------------------


def encode_xml_frame(invoke_id: int, body: bytes) -> bytes:
    """Prefix ``body`` with the 8-byte ECMA-323 header."""
    if not 0 <= invoke_id <= 9999:
        raise FramingError(f"invoke id {invoke_id} outside 0..9999")
    total = len(body) + XML_HEADER_LENGTH
    if total > MAX_XML_FRAME:
        raise FramingError(f"XML frame of {total} bytes exceeds {MAX_XML_FRAME}")
    return b"\x00\x00%c%c%04d" % (total >> 8, total & 0xFF, invoke_id) + body


def _parse_xml_header(header: bytes | bytearray, max_length: int) -> tuple[int, int]:
    """(total length, invoke id) of an 8-byte header, or FramingError."""
    if header[0] or header[1]:
        raise FramingError(
            f"XML frame version bytes {bytes(header[:2]).hex()} are not 0000"
        )
    total = (header[2] << 8) | header[3]
    if total < XML_HEADER_LENGTH:
        raise FramingError(f"XML frame length {total} is shorter than its header")
    if total > max_length:
        raise FramingError(f"XML frame length {total} exceeds {max_length}")
    digits = bytes(header[4:8])
    if not (digits.isdigit() and digits.isascii()):
        raise FramingError(f"XML frame invoke id {digits!r} is not 4 ASCII digits")
    return total, int(digits)


class _IncrementalDecoder:
    """Shared buffering: subclasses parse one frame at ``self._buffer[pos:]``."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._broken: FramingError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list:
        """Add received bytes; return the frames completed by them.

        Raises :class:`FramingError` on garbage, and again on every later call
        (the stream cannot be resynchronised).
        """
        if self._broken is not None:
            raise self._broken
        buffer = self._buffer
        buffer += data
        frames = []
        pos = 0
        try:
            while True:
                result = self._take(buffer, pos)
                if result is None:
                    break
                frame, pos = result
                frames.append(frame)
        except FramingError as e:
            self._broken = e
            raise
        finally:
            if pos:
                del buffer[:pos]
        return frames

    def _take(self, buffer: bytearray, pos: int):
        raise NotImplementedError


class XmlFrameDecoder(_IncrementalDecoder):
    """Incremental ECMA-323 frame decoder: ``feed()`` -> ``[(invoke_id, body)]``."""

    def __init__(self, max_length: int = MAX_XML_FRAME) -> None:
        super().__init__()
        self.max_length = max_length

    def _take(self, buffer, pos):
        if len(buffer) - pos < XML_HEADER_LENGTH:
            return None
        total, invoke_id = _parse_xml_header(
            buffer[pos : pos + XML_HEADER_LENGTH], self.max_length
        )
        if len(buffer) - pos < total:
            return None
        body = bytes(buffer[pos + XML_HEADER_LENGTH : pos + total])
        return (invoke_id, body), pos + total


# --- BER ------------------------------------------------------------------------


def _check_mode(mode: str) -> None:
    if mode not in BER_FRAMINGS:
        raise ValueError(f"unknown BER framing {mode!r}; use one of {BER_FRAMINGS}")


def encode_ber_frame(apdu: bytes, mode: str = LENGTH2) -> bytes:
    """Prefix one BER APDU with the ``length2`` or ``hipath`` header."""
    _check_mode(mode)
    length = len(apdu)
    if length == 0:
        raise FramingError("empty APDU")
    if length > MAX_BER_APDU[mode]:
        raise FramingError(f"APDU of {length} bytes too long for {mode} framing")
    if mode == LENGTH2:
        return b"%c%c" % (length >> 8, length & 0xFF) + apdu
    word = _HIPATH_LENGTH_FLAG | length
    return b"%c%c%c" % (HIPATH_MARKER, word >> 8, word & 0xFF) + apdu


class BerFrameDecoder(_IncrementalDecoder):
    """Incremental BER frame decoder: ``feed()`` -> ``[apdu_bytes]``."""

    def __init__(self, mode: str = LENGTH2, max_length: int | None = None) -> None:
        super().__init__()
        _check_mode(mode)
        self.mode = mode
        limit = MAX_BER_APDU[mode]
        self.max_length = limit if max_length is None else min(max_length, limit)

    def _take(self, buffer, pos):
        available = len(buffer) - pos
        if self.mode == LENGTH2:
            if available < 2:
                return None
            length = (buffer[pos] << 8) | buffer[pos + 1]
            header = 2
        else:
            if available < 1:
                return None
            if buffer[pos] != HIPATH_MARKER:
                raise FramingError(
                    f"HiPath frame starts with 0x{buffer[pos]:02x}, not 0x26"
                )
            if available < 3:
                return None
            # The top bit is always set by HiPath; tolerate peers that forget.
            length = ((buffer[pos + 1] << 8) | buffer[pos + 2]) & 0x7FFF
            header = 3
        if length == 0:
            raise FramingError("zero-length APDU")
        if length > self.max_length:
            raise FramingError(f"APDU length {length} exceeds {self.max_length}")
        end = pos + header + length
        if len(buffer) < end:
            return None
        return bytes(buffer[pos + header : end]), end


# --- detection ----------------------------------------------------------------------


def detect_framing(first_bytes: bytes) -> tuple[str, str | None] | None:
    """Tell the encoding of a new connection from its first bytes (SPEC §5.1).

    Returns ``('xml', None)``, ``('ber', 'length2')``, ``('ber', 'hipath')``,
    or ``None`` when more bytes are needed; raises :class:`FramingError` for
    bytes that can be neither (e.g. a TLS ClientHello on a plain port).

    * ``00 00`` + length >= 8 + 4 ASCII digits: XML. (A ``length2`` frame
      cannot start ``00 00``: that would be an empty APDU.)
    * ``0x26``, a length word with the top bit set, then an AARQ (``0x60``):
      HiPath-framed BER.
    * any other 2-byte length followed by an AARQ: ``length2`` BER (BER clients
      always open with an AARQ).
    """
    data = bytes(first_bytes[:XML_HEADER_LENGTH])
    n = len(data)
    if n == 0:
        return None
    if data[0] == 0:
        if n < 2:
            return None
        if data[1] == 0:
            if n < XML_HEADER_LENGTH:
                # Fail early on what is already visibly wrong.
                if n >= 4 and ((data[2] << 8) | data[3]) < XML_HEADER_LENGTH:
                    raise FramingError("XML frame length shorter than its header")
                for b in data[4:]:
                    if not 0x30 <= b <= 0x39:
                        raise FramingError("XML invoke id is not ASCII digits")
                return None
            _parse_xml_header(data, MAX_XML_FRAME)
            return (XML, None)
    if data[0] == HIPATH_MARKER and (n < 2 or data[1] & 0x80):
        if n < 4:
            return None
        if data[3] == AARQ_TAG:
            return (BER, HIPATH)
        raise FramingError("0x26 header not followed by an AARQ")
    if n < 3:
        return None
    if data[2] == AARQ_TAG:
        return (BER, LENGTH2)
    raise FramingError(f"first bytes {data.hex()} are neither CSTA XML nor BER")


def detect_encoding(first_bytes: bytes) -> str | None:
    """``'xml'``, ``'ber'``, or ``None`` (need more bytes); see
    :func:`detect_framing`, which also names the BER framing."""
    detected = detect_framing(first_bytes)
    return None if detected is None else detected[0]
