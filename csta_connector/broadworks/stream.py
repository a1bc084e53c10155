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
    """Incremental splitter: ``feed(bytes) -> [document bytes, ...]``."""

    def __init__(self, max_size: int = DEFAULT_MAX_DOCUMENT_SIZE):
        self.max_size = max_size
        self._buffer = bytearray()
        self._root_open: bytes | None = None  # b"<xsp:event"
        self._root_close: bytes | None = None  # b"</xsp:event>"
        self._scan = 0  # where the next search for the root's tags starts
        self._depth = 0

    @property
    def pending(self) -> int:
        """Bytes held of an incomplete document."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        documents = []
        while True:
            document = self._next_document()
            if document is None:
                break
            documents.append(document)
        if len(self._buffer) > self.max_size:
            raise DocumentTooLarge(
                "document exceeds %d bytes without ending" % self.max_size
            )
        return documents

    def _next_document(self) -> bytes | None:
        buf = self._buffer
        if self._root_open is None and not self._find_root():
            return None
        end = self._find_root_end()
        if end is None:
            return None
        document = bytes(buf[:end])
        del buf[:end]
        self._root_open = self._root_close = None
        self._scan = 0
        self._depth = 0
        if len(document) > self.max_size:
            raise DocumentTooLarge("document of %d bytes" % len(document))
        return document.strip()

    def _find_root(self) -> bool:
        """Locate the root start tag, skipping the prolog (declaration,
        comments, processing instructions) and whitespace between documents."""
        buf = self._buffer
        pos = 0
        while True:
            lt = buf.find(b"<", pos)
            if lt < 0:
                if buf[pos:].strip():
                    raise FramingError("text outside of any XML document")
                if pos == 0:
                    del buf[:]  # whitespace between documents: nothing to keep
                return False
            if buf[pos:lt].strip():
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
            name = bytes(buf[lt + 1 : match.start()])
            if not name:
                raise FramingError("empty element name")
            self._root_open = b"<" + name
            self._root_close = b"</" + name
            self._scan = lt
            self._depth = 0
            return True

    def _find_root_end(self) -> int | None:
        buf = self._buffer
        opener = self._root_open
        closer = self._root_close
        pos = self._scan
        while True:
            next_open = buf.find(opener, pos)
            next_close = buf.find(closer, pos)
            if next_open >= 0 and (next_close < 0 or next_open < next_close):
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
                if buf[gt - 1 : gt] == b"/":
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
                if buf[after:gt].strip():
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
