"""The Xsi link's own HTTP/1.1 on the wire (pure): the templated EventResponse
POSTs, the channel POST, answers read in order and the channel's streamed
answer de-chunked, however TCP splits them."""

import pytest
from hypothesis import given, strategies as st
from twisted.web import http

from csta_connector.broadworks import xsi_http, xsp

CREDENTIALS = xsp.credentials_for("admin", "secret")


def _split(data, cuts):
    points = sorted({c % len(data) for c in cuts} - {0})
    return [data[a:b] for a, b in zip([0] + points, points + [len(data)])]


class _Received(http.Request):
    """What twisted.web's own parser makes of the bytes."""

    seen: list = []

    def process(self):
        self.seen.append((self.method, self.uri, dict(self.requestHeaders.getAllRawHeaders()),
                          self.content.read()))
        self.setResponseCode(200)
        self.finish()


def _parsed_by_twisted_web(data):
    from twisted.internet.testing import StringTransport

    _Received.seen = []
    channel = http.HTTPChannel()
    channel.requestFactory = _Received
    channel.makeConnection(StringTransport())
    channel.dataReceived(data)
    return _Received.seen


def test_event_response_posts_are_http_that_twisted_web_reads_and_the_body_is_schema_valid(bw_validator):
    posts = xsi_http.EventResponsePosts("xsp1.example.net:443", "/prefix", CREDENTIALS)
    first, body = posts.post("ev-1")
    second, _ = posts.post("a<b&c", 500, "app failure")
    (one, two) = _parsed_by_twisted_web(first + second)  # pipelined: both read
    method, uri, headers, content = one
    assert (method, uri, content) == (b"POST", b"/prefix" + xsi_http.EVENT_RESPONSE_PATH.encode(), body)
    assert headers[b"Authorization"] == [b"Basic " + CREDENTIALS.encode()]
    assert headers[b"Host"] == [b"xsp1.example.net:443"]
    assert headers[b"Content-Type"] == [xsi_http.CONTENT_TYPE]
    assert bw_validator(body) == []
    assert xsi_http.read_event_response(two[3]) == ("a<b&c", 500)
    # the same body as the general request builder's
    assert body == xsi_http.event_response("ev-1").body


@pytest.mark.parametrize("body", [
    xsi_http.event_response("ev-7", 404, "Not Found").body,
    b'<?xml version="1.0"?><x:EventResponse xmlns:x="http://schema.broadsoft.com/xsi">'
    b"<x:eventID>ev-7</x:eventID><x:statusCode>404</x:statusCode><x:reason>Not Found</x:reason></x:EventResponse>",
])
def test_an_event_response_is_read_alike_in_the_lean_form_and_any_other(body):
    assert xsi_http.read_event_response(body) == ("ev-7", 404)


def test_the_channel_post():
    body = b"<Channel/>"
    request = xsi_http.request_bytes("POST", "/p" + xsi_http.CHANNEL_PATH, "xsp1:80", CREDENTIALS, body)
    ((method, uri, headers, content),) = _parsed_by_twisted_web(request)
    assert (method, uri, content) == (b"POST", b"/p" + xsi_http.CHANNEL_PATH.encode(), body)
    assert headers[b"Content-Length"] == [b"%d" % len(body)]
    assert headers[b"Accept"] == [b"application/xml"]


ANSWERS = (
    b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: 1\r\n\r\n"
    b"HTTP/1.1 204 No Content\r\n\r\n"
    b"HTTP/1.1 500 Server Error\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops"
)
EXPECTED_ANSWERS = [
    xsi_http.Answer(200, "OK", b"", False),
    xsi_http.Answer(404, "Not Found", b"hello!", False),
    xsi_http.Answer(204, "No Content", b"", False),
    xsi_http.Answer(500, "Server Error", b"oops", True),
]


@given(st.lists(st.integers(min_value=1, max_value=len(ANSWERS)), max_size=12))
def test_answers_come_out_whole_and_in_order_however_they_are_split(cuts):
    reader = xsi_http.AnswerReader()
    answers = []
    for piece in _split(ANSWERS, cuts):
        answers += reader.feed(piece)
    assert answers == EXPECTED_ANSWERS


@pytest.mark.parametrize("garbage", [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                                     b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                                     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
def test_what_is_not_http_is_an_error(garbage):
    with pytest.raises(xsi_http.HttpFramingError):
        xsi_http.AnswerReader().feed(garbage)
    with pytest.raises(xsi_http.HttpFramingError):
        xsi_http.StreamedAnswer().feed(garbage + b"0\r\n\r\n")


DOCUMENTS = [b"<?xml version='1.0'?><Channel>%d</Channel>" % i + b"x" * (i * 37 % 300) for i in range(20)]
STREAM = (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n"
          + b"".join(b"%x\r\n%s\r\n" % (len(d), d) for d in DOCUMENTS))


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) + 5), max_size=25))
def test_the_streamed_answer_gives_the_body_without_its_chunks_however_it_is_split(cuts):
    answer = xsi_http.StreamedAnswer()
    body = b""
    for piece in _split(STREAM + b"0\r\n\r\n", cuts):
        body += answer.feed(piece)
    assert (answer.status_code, answer.reason) == (200, "OK")
    assert answer.headers[b"content-type"] == b"text/xml;charset=UTF-8"
    assert body == b"".join(DOCUMENTS) and answer.ended


def test_the_streamed_answer_before_its_head_and_after_its_last_chunk():
    answer = xsi_http.StreamedAnswer()
    assert answer.feed(STREAM[:20]) == b"" and answer.status_code is None
    assert answer.feed(STREAM[20:]) == b"".join(DOCUMENTS) and not answer.ended


@pytest.mark.parametrize("head, pieces, body, ended", [
    (b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\n", [b"ab", b"cde"], b"abcde", True),
    (b"HTTP/1.1 200 OK\r\n\r\n", [b"to the ", b"end"], b"to the end", False),
    (b"HTTP/1.1 204 No Content\r\n\r\n", [], b"", True),
])
def test_the_streamed_answer_without_chunks(head, pieces, body, ended):
    answer = xsi_http.StreamedAnswer()
    got = answer.feed(head)
    for piece in pieces:
        got += answer.feed(piece)
    assert (got, answer.ended) == (body, ended)
