"""Framing of CSTA XML (8-byte header) and BER (length2 / hipath), and
encoding detection from a connection's first bytes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csta_connector.csta.framing import (
    BER,
    HIPATH,
    LENGTH2,
    XML,
    BerFrameDecoder,
    FramingError,
    XmlFrameDecoder,
    detect_encoding,
    detect_framing,
    encode_ber_frame,
    encode_xml_frame,
)

# Real Panasonic AARQ APDU (reference/csta.md §1.2), 0x25 bytes.
PANASONIC_AARQ = bytes.fromhex(
    "602380020780A10706052B0C00815ABE14281206072B0C00821D8148A007A0050303000800"
)
# Real Panasonic systemStatus invoke (opcode 211).
PANASONIC_SYSTEM_STATUS = bytes.fromhex("a10c020101020200d330030a0102")


def split_everywhere(data: bytes):
    """Every way of cutting ``data`` in two, plus one byte at a time."""
    for cut in range(len(data) + 1):
        yield [data[:cut], data[cut:]]
    yield [data[i : i + 1] for i in range(len(data))]


# --- XML ---------------------------------------------------------------------


def test_xml_frame_header_layout():
    frame = encode_xml_frame(7, b"<a/>")
    assert frame == b"\x00\x00\x00\x0c0007<a/>"
    assert int.from_bytes(frame[2:4], "big") == len(frame)


def test_xml_frame_event_invoke_id_and_large_body():
    body = b"x" * 1000
    frame = encode_xml_frame(9999, body)
    assert frame[:8] == b"\x00\x00\x03\xf09999"
    assert int.from_bytes(frame[2:4], "big") == len(frame) == 1008


@pytest.mark.parametrize("invoke_id", [-1, 10000])
def test_xml_frame_rejects_invoke_id_out_of_range(invoke_id):
    with pytest.raises(FramingError):
        encode_xml_frame(invoke_id, b"<a/>")


def test_xml_frame_rejects_body_too_long_for_uint16():
    encode_xml_frame(1, b"x" * (0xFFFF - 8))
    with pytest.raises(FramingError):
        encode_xml_frame(1, b"x" * (0xFFFF - 7))


def test_xml_decoder_many_frames_in_one_feed():
    stream = b"".join(
        encode_xml_frame(i, b"<m%d/>" % i) for i in range(5)
    )
    assert XmlFrameDecoder().feed(stream) == [(i, b"<m%d/>" % i) for i in range(5)]


def test_xml_decoder_any_split():
    frames = [(1, b"<a/>"), (9999, b"<event>" + b"y" * 300 + b"</event>"), (2, b"")]
    stream = b"".join(encode_xml_frame(i, b) for i, b in frames)
    for pieces in split_everywhere(stream):
        decoder = XmlFrameDecoder()
        got = []
        for piece in pieces:
            got.extend(decoder.feed(piece))
        assert got == frames
        assert decoder.buffered == 0


def test_xml_decoder_holds_partial_frame():
    decoder = XmlFrameDecoder()
    frame = encode_xml_frame(3, b"<abc/>")
    assert decoder.feed(frame + frame[:5]) == [(3, b"<abc/>")]
    assert decoder.buffered == 5
    assert decoder.feed(frame[5:]) == [(3, b"<abc/>")]


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x01\x00\x00\x0c0001<a/>",  # version bytes
        b"\x00\x01\x00\x0c0001<a/>",
        b"\x00\x00\x00\x070001",  # length shorter than header
        b"\x00\x00\x00\x0c00a1<a/>",  # non-digit invoke id
        b"\x00\x00\x00\x0c-001<a/>",
        b"\x00\x00\x00\x0c\xd9\xa0\xd9\xa1<a/>",  # non-ASCII digits
        b"GET / HTTP/1.1\r\n",
    ],
)
def test_xml_decoder_rejects_garbage(garbage):
    decoder = XmlFrameDecoder()
    with pytest.raises(FramingError):
        decoder.feed(garbage)
    # The stream is lost for good: later feeds keep failing.
    with pytest.raises(FramingError):
        decoder.feed(encode_xml_frame(1, b"<a/>"))


def test_xml_decoder_rejects_garbage_after_good_frame_in_same_feed():
    decoder = XmlFrameDecoder()
    with pytest.raises(FramingError):
        decoder.feed(encode_xml_frame(1, b"<a/>") + b"\x05\x05\x05\x05\x05\x05\x05\x05")


def test_xml_decoder_max_length():
    decoder = XmlFrameDecoder(max_length=100)
    assert decoder.feed(encode_xml_frame(1, b"x" * 92)) == [(1, b"x" * 92)]
    with pytest.raises(FramingError):
        decoder.feed(encode_xml_frame(1, b"x" * 93)[:8])  # header alone suffices


@settings(max_examples=50, deadline=None)
@given(
    frames=st.lists(
        st.tuples(st.integers(0, 9999), st.binary(max_size=200)), max_size=6
    ),
    cuts=st.lists(st.integers(0, 2000), max_size=10),
)
def test_xml_decoder_property(frames, cuts):
    stream = b"".join(encode_xml_frame(i, b) for i, b in frames)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0] + points, points + [len(stream)])]
    decoder = XmlFrameDecoder()
    got = [f for piece in pieces for f in decoder.feed(piece)]
    assert got == frames


# --- BER ------------------------------------------------------------------------


def test_ber_length2_frame_of_real_aarq():
    frame = encode_ber_frame(PANASONIC_AARQ, LENGTH2)
    assert frame[:3] == b"\x00\x25\x60"
    assert BerFrameDecoder(LENGTH2).feed(frame) == [PANASONIC_AARQ]


def test_ber_length2_is_default():
    assert encode_ber_frame(b"\xa1\x00") == b"\x00\x02\xa1\x00"
    assert BerFrameDecoder().mode == LENGTH2


def test_ber_hipath_frame_layout():
    # 0x26, then 0x8000 | length (Net::CSTAv3 encode_msg_header).
    frame = encode_ber_frame(PANASONIC_SYSTEM_STATUS, HIPATH)
    assert frame[:3] == b"\x26\x80\x0e"
    assert frame[3:] == PANASONIC_SYSTEM_STATUS
    long_apdu = b"\x30" + b"\x00" * 299
    assert encode_ber_frame(long_apdu, HIPATH)[:3] == b"\x26\x81\x2c"


def test_ber_hipath_decoder_tolerates_missing_top_bit():
    assert BerFrameDecoder(HIPATH).feed(b"\x26\x00\x02\xa1\x00") == [b"\xa1\x00"]


@pytest.mark.parametrize("mode", [LENGTH2, HIPATH])
def test_ber_decoder_any_split(mode):
    apdus = [PANASONIC_AARQ, PANASONIC_SYSTEM_STATUS, b"\xa4\x06\x02\x01\x07\x81\x01\x01"]
    stream = b"".join(encode_ber_frame(a, mode) for a in apdus)
    for pieces in split_everywhere(stream):
        decoder = BerFrameDecoder(mode)
        got = [f for piece in pieces for f in decoder.feed(piece)]
        assert got == apdus
        assert decoder.buffered == 0


@pytest.mark.parametrize(
    "mode, garbage",
    [
        (LENGTH2, b"\x00\x00"),  # zero-length APDU
        (HIPATH, b"\x27\x80\x02\xa1\x00"),  # wrong marker
        (HIPATH, b"\x26\x80\x00"),  # zero length
        (LENGTH2, b"\xff\xff"),  # over max_length=1000
    ],
)
def test_ber_decoder_rejects_garbage(mode, garbage):
    decoder = BerFrameDecoder(mode, max_length=1000)
    with pytest.raises(FramingError):
        decoder.feed(garbage)
    with pytest.raises(FramingError):
        decoder.feed(b"")


def test_ber_encoder_limits():
    with pytest.raises(FramingError):
        encode_ber_frame(b"", LENGTH2)
    encode_ber_frame(b"\x30" * 0x7FFF, HIPATH)
    with pytest.raises(FramingError):
        encode_ber_frame(b"\x30" * 0x8000, HIPATH)
    with pytest.raises(FramingError):
        encode_ber_frame(b"\x30" * 0x10000, LENGTH2)
    with pytest.raises(ValueError):
        encode_ber_frame(b"\x30", "fourbyte")
    with pytest.raises(ValueError):
        BerFrameDecoder("fourbyte")


@settings(max_examples=50, deadline=None)
@given(
    mode=st.sampled_from([LENGTH2, HIPATH]),
    apdus=st.lists(st.binary(min_size=1, max_size=300), max_size=6),
    cuts=st.lists(st.integers(0, 3000), max_size=10),
)
def test_ber_decoder_property(mode, apdus, cuts):
    stream = b"".join(encode_ber_frame(a, mode) for a in apdus)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0] + points, points + [len(stream)])]
    decoder = BerFrameDecoder(mode)
    assert [f for piece in pieces for f in decoder.feed(piece)] == apdus


# --- detection ---------------------------------------------------------------------


def test_detect_xml():
    frame = encode_xml_frame(1, b'<?xml version="1.0"?><SystemStatusResponse/>')
    assert detect_framing(frame) == (XML, None)
    assert detect_encoding(frame) == XML
    assert detect_encoding(frame[:8]) == XML


def test_detect_ber_length2():
    frame = encode_ber_frame(PANASONIC_AARQ, LENGTH2)
    assert detect_framing(frame) == (BER, LENGTH2)
    assert detect_encoding(frame[:3]) == BER


def test_detect_ber_length2_long_aarq():
    # An AARQ over 255 bytes: first length byte non-zero.
    aarq = b"\x60\x82\x01\x00" + b"\x00" * 0x100
    assert detect_framing(encode_ber_frame(aarq, LENGTH2)) == (BER, LENGTH2)


def test_detect_ber_hipath():
    frame = encode_ber_frame(PANASONIC_AARQ, HIPATH)
    assert detect_framing(frame) == (BER, HIPATH)
    assert detect_encoding(frame[:4]) == BER


@pytest.mark.parametrize(
    "frame",
    [
        encode_xml_frame(1, b"<a/>"),
        encode_ber_frame(PANASONIC_AARQ, LENGTH2),
        encode_ber_frame(PANASONIC_AARQ, HIPATH),
    ],
)
def test_detect_needs_more_bytes_for_every_short_prefix(frame):
    decided = detect_framing(frame)
    needed = next(n for n in range(len(frame) + 1) if detect_framing(frame[:n]))
    for n in range(needed):
        assert detect_framing(frame[:n]) is None
    assert detect_framing(frame[:needed]) == decided


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01",  # TLS ClientHello on a plain port
        b"GET / HTTP/1.1\r\n",
        b"\x00\x00\x00\x0cabcd",  # XML header with a bad invoke id
        b"\x00\x00\x00\x05",  # XML length shorter than the header
        b"\x00\x00\x00\x0c00x",  # bad digit seen early
        b"\x00\x25\xa1",  # length2 but not an AARQ
        b"\x26\x80\x25\xa1",  # hipath but not an AARQ
    ],
)
def test_detect_rejects_neither(garbage):
    with pytest.raises(FramingError):
        detect_framing(garbage)
