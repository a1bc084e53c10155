# -*- test-case-name: tests.unit.test_stream -*-
"""Split a TCP byte stream of concatenated XML documents into documents (pure).

The BroadWorks CTI interface writes one complete XML document after another;
the public schemas fix the documents but not the byte framing. The splitter
therefore relies neither on the newline after each document nor on segment
boundaries: it finds the root element's start tag, then counts start and end
tags of that same qualified name until the root closes. Only the root's name
is searched for, with ``bytes.find`` — the rest of the document is left to the
XML parser — which keeps the hot path in C.

Limits (documented, deliberate): a comment or CDATA section that contains the
root element's own closing tag confuses the count. The XspXMLInterface
envelopes never nest themselves, and such documents fail to parse afterwards,
so they are reported instead of silently misread.
"""

from __future__ import annotations

import re

DEFAULT_MAX_DOCUMENT_SIZE = 1024 * 1024

_NAME_END = re.compile(rb"[\s/>]")


class FramingError(ValueError):
    """The stream cannot be split into documents; the connection must close."""


class DocumentTooLarge(FramingError):
    pass


class DocumentSplitter:
    """Incremental splitter: ``feed(bytes) -> [document bytes, ...]``.

    The buffer is immutable bytes read through an offset: a document is
    sliced out once, and a feed copies only the incomplete tail of the
    previous one. The head of the last document (its prolog and root start
    tag name) is remembered, since a peer starts every document alike; a
    document that starts the same way skips the prolog scan.
    """

    def __init__(self, max_size: int = DEFAULT_MAX_DOCUMENT_SIZE):
        self.max_size = max_size
        self._buffer = b""
        self._start = 0  # the first byte not yet consumed
        self._root_open: bytes | None = None  # b"<xsp:event"
        self._root_close: bytes | None = None  # b"</xsp:event"
        self._document_start = 0  # where the current document starts
        self._scan = 0  # where the next search for the root's tags starts
        self._depth = 0
        self._head: bytes | None = None  # b'<?xml ...?>\n<xsp:event' of the last document
        self._head_root = 0  # where the root start tag begins in _head
        self._head_tags = (b"", b"")  # the root's opener and closer in _head

    @property
    def pending(self) -> int:
        """Bytes held of an incomplete document."""
        return len(self._buffer) - self._start

    def feed(self, data: bytes) -> list[bytes]:
        start = self._start
        if start >= len(self._buffer):
            self._buffer = bytes(data)
        else:
            self._buffer = self._buffer[start:] + data
            # positions are kept relative to the buffer
            self._document_start -= start
            self._scan -= start
        self._start = 0
        documents = []
        while True:
            document = self._next_document()
            if document is None:
                break
            documents.append(document)
        if len(self._buffer) - self._start > self.max_size:
            raise DocumentTooLarge(
                "document exceeds %d bytes without ending" % self.max_size
            )
        return documents

    def _next_document(self) -> bytes | None:
        if self._root_open is None and not self._find_root():
            return None
        end = self._find_root_end()
        if end is None:
            return None
        begin = self._document_start
        self._start = end
        self._root_open = self._root_close = None
        if end - begin > self.max_size:
            raise DocumentTooLarge("document of %d bytes" % (end - begin))
        return self._buffer[begin:end]

    def _find_root(self) -> bool:
        """Locate the root start tag, skipping the prolog (declaration,
        comments, processing instructions) and whitespace between documents."""
        buf = self._buffer
        pos = self._start
        first = buf.find(b"<", pos)
        if first < 0:
            if buf[pos:].strip():
                raise FramingError("text outside of any XML document")
            self._start = len(buf)  # whitespace between documents: nothing to keep
            return False
        if first > pos and buf[pos:first].strip():
            raise FramingError("text outside of any XML document")
        self._start = first
        head = self._head
        if head is not None and buf.startswith(head, first):
            after = first + len(head)
            if after >= len(buf):
                return False
            if _NAME_END.match(buf, after):
                self._document_start = first
                self._root_open, self._root_close = self._head_tags
                self._scan = first + self._head_root
                self._depth = 0
                return True
        pos = first
        while True:
            lt = buf.find(b"<", pos)
            if lt < 0:
                if buf[pos:].strip():
                    raise FramingError("text outside of any XML document")
                return False
            if lt > pos and buf[pos:lt].strip():
                raise FramingError("text outside of any XML document")
            if len(buf) < lt + 2:
                return False
            marker = buf[lt + 1 : lt + 2]
            if marker == b"?":
                close = buf.find(b"?>", lt)
                if close < 0:
                    return False
                pos = close + 2
                continue
            if marker == b"!":
                if buf[lt : lt + 4] == b"<!--":
                    close = buf.find(b"-->", lt + 4)
                    if close < 0:
                        return False
                    pos = close + 3
                    continue
                if len(buf) < lt + 4:
                    return False
                raise FramingError("DOCTYPE or markup declaration not allowed")
            if marker == b"/":
                raise FramingError("end tag without a start tag")
            match = _NAME_END.search(buf, lt + 1)
            if match is None:
                return False
            name = buf[lt + 1 : match.start()]
            if not name:
                raise FramingError("empty element name")
            self._head = buf[first : match.start()]
            self._head_root = lt - first
            self._head_tags = (b"<" + name, b"</" + name)
            self._document_start = first
            self._root_open, self._root_close = self._head_tags
            self._scan = lt
            self._depth = 0
            return True

    def _find_root_end(self) -> int | None:
        buf = self._buffer
        opener = self._root_open
        closer = self._root_close
        pos = self._scan
        next_close = -2
        while True:
            if next_close < pos:  # the closer found before is behind us (or none was)
                next_close = buf.find(closer, pos)
            # an opener after the closer belongs to a later document
            next_open = buf.find(opener, pos) if next_close < 0 else buf.find(opener, pos, next_close)
            if next_open >= 0:
                after = next_open + len(opener)
                if after >= len(buf):
                    self._scan = next_open
                    return None
                if not _NAME_END.match(buf, after):
                    pos = after  # a longer name sharing the prefix
                    continue
                gt = buf.find(b">", after)
                if gt < 0:
                    self._scan = next_open
                    return None
                if buf[gt - 1] == 0x2F:  # "/": an empty element
                    if self._depth == 0:
                        return gt + 1
                else:
                    self._depth += 1
                pos = gt + 1
                continue
            if next_close >= 0:
                gt = buf.find(b">", next_close)
                if gt < 0:
                    self._scan = next_close
                    return None
                after = next_close + len(closer)
                if gt > after and buf[after:gt].strip():
                    pos = gt + 1  # a longer name sharing the prefix
                    continue
                self._depth -= 1
                pos = gt + 1
                if self._depth == 0:
                    return pos
                continue
            # neither tag found: keep a tail that could hold a split tag
            self._scan = max(pos, len(buf) - len(closer) - 1)
            return None
