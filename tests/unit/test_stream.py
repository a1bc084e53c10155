import pytest
from hypothesis import given, strategies as st

from csta_connector.broadworks.stream import DocumentSplitter, DocumentTooLarge, FramingError

DOCS = [
    b'<?xml version="1.0" encoding="UTF-8"?>\n<xsp:event xmlns:xsp="urn:x"><requestId>1</requestId>'
    b'<xsp:payload><a attr="x>y"><xsp:eventual/></a></xsp:payload></xsp:event>',
    b"<keepalive><requestId>2</requestId><period>10</period></keepalive>",
    b'<?xml version="1.0"?><!-- hi --><r><r><r/></r>text &amp; more</r>',
    b"<empty/>",
]


def test_concatenated_documents_split_without_newlines():
    splitter = DocumentSplitter()
    assert splitter.feed(b"".join(DOCS)) == [d.strip() for d in DOCS]
    assert splitter.pending == 0


def test_documents_split_one_byte_at_a_time():
    splitter = DocumentSplitter()
    data = b"\n".join(DOCS) + b"\n"
    out = []
    for i in range(len(data)):
        out.extend(splitter.feed(data[i : i + 1]))
    assert out == DOCS


@given(st.lists(st.integers(min_value=1, max_value=len(b"".join(DOCS))), max_size=6))
def test_documents_split_at_any_boundaries(cuts):
    data = b"\r\n".join(DOCS)
    points = sorted(set(cuts)) + [len(data)]
    splitter = DocumentSplitter()
    out, start = [], 0
    for p in points:
        out.extend(splitter.feed(data[start:p]))
        start = p
    assert out == DOCS


def test_nested_element_with_the_root_name_is_counted():
    doc = b"<a><a>x</a><ab/></a>"
    assert DocumentSplitter().feed(doc + doc) == [doc, doc]


def test_incomplete_document_is_held():
    splitter = DocumentSplitter()
    assert splitter.feed(b"<a><b/>") == []
    assert splitter.pending > 0
    assert splitter.feed(b"</a>") == [b"<a><b/></a>"]


def test_document_size_is_capped():
    splitter = DocumentSplitter(max_size=100)
    with pytest.raises(DocumentTooLarge):
        splitter.feed(b"<a>" + b"x" * 200)


def test_complete_but_oversized_document_is_refused():
    with pytest.raises(DocumentTooLarge):
        DocumentSplitter(max_size=50).feed(b"<a>" + b"x" * 60 + b"</a>")


@pytest.mark.parametrize("garbage", [b"hello <a/>", b"</a>", b"<!DOCTYPE a [<!ENTITY x 'y'>]><a/>"])
def test_garbage_outside_documents_is_a_framing_error(garbage):
    with pytest.raises(FramingError):
        DocumentSplitter().feed(garbage)


SAME_HEAD = [
    b'<?xml version="1.0"?>\n<xsp:event><x/></xsp:event>',
    b'<?xml version="1.0"?>\n<xsp:event a="1"><xsp:event/></xsp:event>',
    # the remembered head "<?xml ...?>\n<xsp:event" is a prefix of this one
    b'<?xml version="1.0"?>\n<xsp:eventResponse><x/></xsp:eventResponse>',
    b'<?xml version="1.0"?>\n<xsp:event/>',
]


@given(st.lists(st.integers(min_value=1, max_value=len(b"\n".join(SAME_HEAD))), max_size=5))
def test_documents_that_start_alike_split_at_any_boundaries(cuts):
    data = b"\n".join(SAME_HEAD)
    splitter = DocumentSplitter()
    out, start = [], 0
    for p in sorted(set(cuts)) + [len(data)]:
        out.extend(splitter.feed(data[start:p]))
        start = p
    assert out == SAME_HEAD
    assert splitter.pending == 0
