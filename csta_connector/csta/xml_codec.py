# -*- test-case-name: tests.unit.test_xml_codec -*-
"""CSTA XML (ECMA-323) <-> :mod:`csta_connector.csta.messages` (pure).

:func:`decode` turns one XML document (the body of one framed message, see
``framing.py``) into ``(message, namespace)``; :func:`encode` writes a message
in the namespace the client used. Both are generic over the field
descriptions in ``messages.py`` (element path, layout kind, optionality), so
no message's field list is written twice.

Facts this module relies on (see ``reference/csta.md`` §2):

* Namespaces: ``http://www.ecma-international.org/standards/ecma-323/csta/edN``
  for N = 2..6, the older ``http://www.ecma.ch/standards/ecma-323/csta/ed2``,
  and none at all (some OpenScape Voice era peers); ECMA-354 application
  session messages live in ``.../ecma-354/appl_session``. Parsing goes by
  local name, so default namespaces and prefixes (``ns3:MonitorStart``) are
  both fine, and private data in other namespaces under ``extensions`` is
  ignored.
* XSD spelling quirks are kept on the wire: ``TransferedEvent`` (ECMA-323
  XSD; ECMA-285 says transferred) and, in ``CSTAErrorCode``,
  ``systemResourceAvailibility``.

Encoding builds the document as a string from escaped pieces (no tree), which
is several times faster than serialising an lxml tree and matters because
every fanned-out event is encoded. Decoding uses lxml with a hardened parser:
no DTD, no entity expansion, no network, libxml2's default depth/size limits,
and a size cap of our own; documents with a DOCTYPE are refused outright
(CSTA never needs one, and it is how entity-expansion attacks start).
"""

from __future__ import annotations

import re
from dataclasses import MISSING, fields
from typing import Any

from lxml import etree

from csta_connector.csta import messages as m
from csta_connector.csta.messages import Kind, MessageKind

# --- namespaces ----------------------------------------------------------------

ED2_ECMA_CH = "http://www.ecma.ch/standards/ecma-323/csta/ed2"
ED2 = "http://www.ecma-international.org/standards/ecma-323/csta/ed2"
ED3 = "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
ED4 = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
ED5 = "http://www.ecma-international.org/standards/ecma-323/csta/ed5"
ED6 = "http://www.ecma-international.org/standards/ecma-323/csta/ed6"
ECMA_354 = "http://www.ecma-international.org/standards/ecma-354/appl_session"
DEFAULT_NAMESPACE = ED3
CSTA_NAMESPACES = (ED2_ECMA_CH, ED2, ED3, ED4, ED5, ED6)

# Any edition of ECMA-323 on either ECMA domain (a later edition is accepted
# rather than refused: the message shapes we use have been stable since ed3).
_CSTA_NAMESPACE = re.compile(
    r"http://www\.ecma(?:-international\.org|\.ch)/standards/ecma-323/csta/ed\d{1,2}\Z"
)

#: Largest document accepted: what fits in one XML frame (uint16 length that
#: counts the 8-byte header).
MAX_DOCUMENT_SIZE = 0xFFFF - 8

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

# ECMA-323 CSTAErrorCode child names that differ from ECMA-285 UniversalFailure.
_ERROR_CATEGORY_TO_XML = {"systemResourceAvailability": "systemResourceAvailibility"}
_ERROR_CATEGORY_FROM_XML = {v: k for k, v in _ERROR_CATEGORY_TO_XML.items()}

# Element names also accepted on input for a field, because the ECMA-323 XSD
# could not be checked for them: the RouteingCrossRefID of the routeing
# dialogue is written as its ECMA-285 component name (crossRefIdentifier) and
# read under its type name too, the way ECMA-323 names monitorCrossRefID.
_INPUT_ALIASES = {"crossRefIdentifier": "routeingCrossRefID"}


# --- errors --------------------------------------------------------------------


class CodecError(Exception):
    """Base class of everything this codec raises."""


class MalformedMessage(CodecError):
    """The document is not well-formed, not allowed, or lacks a mandatory
    element. The server answers with a CSTA error (or closes on garbage)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class UnknownOperation(CodecError):
    """The root element names no message we know. ECMA-323 servers answer
    ``CSTAErrorCode/operation`` = ``serviceNotSupported``."""

    def __init__(self, name: str, namespace: str | None = None):
        super().__init__(f"unknown CSTA operation {name!r}")
        self.name = name
        self.namespace = namespace


class EncodeError(CodecError):
    """A message cannot be written (missing mandatory value, text that XML
    cannot carry)."""


# --- decoding -------------------------------------------------------------------

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)
# lxml parsers are not thread safe; the reactor thread is the only user.


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _namespace(tag: str) -> str | None:
    if tag[:1] == "{":
        return tag[1 : tag.index("}")]
    return None


def _child(element, name: str):
    """The first child element with local name ``name`` (any namespace)."""
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and (tag == name or tag.endswith("}" + name)):
            return child
    return None


def _children(element, name: str) -> list:
    return [
        c
        for c in element
        if isinstance(c.tag, str) and (c.tag == name or c.tag.endswith("}" + name))
    ]


def _first_element(element):
    for child in element:
        if isinstance(child.tag, str):
            return child
    return None


def _text(element) -> str:
    # itertext() also joins text split by (removed) comments or CDATA.
    return "".join(element.itertext()).strip()


def decode(body: bytes, max_size: int = MAX_DOCUMENT_SIZE) -> tuple[Any, str | None]:
    """Parse one ECMA-323 document into ``(message, namespace)``.

    ``namespace`` is the root element's namespace URI (``None`` if it has
    none); answer in it. Raises :class:`MalformedMessage` or
    :class:`UnknownOperation`.
    """
    if len(body) > max_size:
        raise MalformedMessage(f"document of {len(body)} bytes exceeds {max_size}")
    if not body.strip():
        raise MalformedMessage("empty document")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise MalformedMessage("DTDs and entity declarations are not allowed")
    try:
        root = etree.fromstring(body, _PARSER)
    except (etree.LxmlError, ValueError) as e:
        raise MalformedMessage(f"not well-formed XML: {e}") from None
    # A DOCTYPE smuggled past the byte scan (e.g. in UTF-16) is still refused.
    if root.getroottree().docinfo.doctype:
        raise MalformedMessage("DTDs are not allowed")

    tag = root.tag
    namespace = _namespace(tag)
    if not (
        namespace is None
        or namespace == ECMA_354
        or _CSTA_NAMESPACE.match(namespace)
    ):
        raise MalformedMessage(f"unsupported namespace {namespace!r}")
    name = _local(tag)
    cls = m.BY_XML_NAME.get(name)
    if cls is None:
        raise UnknownOperation(name, namespace)
    if cls is m.CSTAError:
        return _decode_error(root), namespace
    return _decode_record(_plan(cls), cls, root), namespace


def _decode_error(root) -> m.CSTAError:
    return _decode_error_value(root, m.CSTAError, "CSTAErrorCode")


def _decode_record(plan, cls, element):
    values = {}
    for step in plan:
        attr, containers, name, kind, optional, default, item_plan, item_cls = step
        parent = element
        for container in containers:
            parent = _child(parent, container)
            if parent is None:
                break
        if kind is Kind.TEXT_LIST or kind is Kind.STRUCT_LIST:
            found = () if parent is None else _children(parent, name)
            if kind is Kind.TEXT_LIST:
                values[attr] = tuple(_text(e) for e in found)
            else:
                values[attr] = tuple(
                    _decode_record(item_plan, item_cls, e) for e in found
                )
            continue
        target = None if parent is None else _child(parent, name)
        if target is None and parent is not None and name in _INPUT_ALIASES:
            target = _child(parent, _INPUT_ALIASES[name])
        if target is None:
            if default is MISSING:
                if not optional:
                    raise MalformedMessage(
                        f"{cls.__name__}: missing mandatory <{'/'.join(containers + (name,))}>"
                    )
                default = None
            values[attr] = default
            continue
        if kind is Kind.STRUCT:
            values[attr] = _decode_record(item_plan, item_cls, target)
        else:
            values[attr] = _DECODERS[kind](target, cls, name)
    return cls(**values)


def _decode_text(element, cls, name):
    return _text(element)


def _decode_int(element, cls, name):
    text = _text(element)
    try:
        return int(text)
    except ValueError:
        raise MalformedMessage(f"{cls.__name__}: <{name}> is not an integer") from None


def _decode_bool(element, cls, name):
    text = _text(element)
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise MalformedMessage(f"{cls.__name__}: <{name}> is not a boolean")


def _decode_device(element, cls, name):
    # Tolerate a peer that wraps a plain DeviceID like an extended one.
    inner = _child(element, "deviceIdentifier")
    return _text(inner if inner is not None else element)


def _decode_extended_device(element, cls, name):
    # CHOICE deviceIdentifier | notKnown | restricted (ECMA-323 ExtendedDeviceID
    # family): anything but an identifier is "not known" here.
    inner = _child(element, "deviceIdentifier")
    if inner is not None:
        return _text(inner)
    if _first_element(element) is None and _text(element):
        return _text(element)  # lenient: bare text
    return None


def _decode_redirection_device(element, cls, name):
    # CHOICE numberDialed | notKnown | notRequired | notSpecified | restricted.
    inner = _child(element, "numberDialed")
    if inner is None:
        inner = _child(element, "deviceIdentifier")
    if inner is not None:
        return _text(inner)
    return None


def _decode_connection(element, cls, name):
    call = _child(element, "callID")
    device = _child(element, "deviceID")
    return m.ConnectionID(
        call_id=None if call is None else _text(call),
        device_id=None if device is None else _text(device),
    )


def _decode_extensions(element, cls, name):
    # extensions/privateData/private/<key xmlns=PRIVATE_DATA_NAMESPACE>; any
    # other private data (a vendor's namespace, security) is not ours to read.
    pairs = []
    for private_data in _children(element, "privateData"):
        for private in _children(private_data, "private"):
            for item in private:
                tag = item.tag
                if isinstance(tag, str) and _namespace(tag) == m.PRIVATE_DATA_NAMESPACE:
                    pairs.append((_local(tag), _text(item)))
    return tuple(pairs)


def _decode_error_value(element, cls, name):
    child = _first_element(element)
    if child is None:
        raise MalformedMessage(f"{cls.__name__}: <{name}> without an error")
    category = _local(child.tag)
    category = _ERROR_CATEGORY_FROM_XML.get(category, category)
    return m.CSTAError(category=category, value=_text(child) or None)


_DECODERS = {
    Kind.TEXT: _decode_text,
    Kind.INT: _decode_int,
    Kind.BOOL: _decode_bool,
    Kind.DEVICE: _decode_device,
    Kind.EXTENDED_DEVICE: _decode_extended_device,
    Kind.REDIRECTION_DEVICE: _decode_redirection_device,
    Kind.CONNECTION: _decode_connection,
    Kind.EXTENSIONS: _decode_extensions,
    Kind.ERROR_VALUE: _decode_error_value,
}


# --- plans (per class, computed once) -------------------------------------------

_PLANS: dict[type, tuple] = {}


def _plan(cls: type) -> tuple:
    """Per-field steps: (attr, containers, name, kind, optional, default,
    item_plan, item_cls). For list kinds ``name`` is the repeated item and the
    last container is the list element."""
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    defaults = {}
    for f in fields(cls):
        if f.default is not MISSING:
            defaults[f.name] = f.default
    steps = []
    for wf in m.wire_fields(cls):
        item_plan = _plan(wf.item) if wf.item is not None else None
        default = defaults.get(wf.attr, MISSING)
        if wf.optional:
            default = MISSING  # optional: absent <-> None, handled by flag
        steps.append(
            (
                wf.attr,
                wf.path[:-1],
                wf.path[-1],
                wf.kind,
                wf.optional,
                default,
                item_plan,
                wf.item,
            )
        )
    plan = tuple(steps)
    _PLANS[cls] = plan
    return plan


# --- encoding ---------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all (C0 controls but TAB/LF/CR,
# surrogates, U+FFFE/U+FFFF).
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile("[&<>\r\"]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;"}


def _escape(value: Any) -> str:
    if type(value) is not str:
        if isinstance(value, bool) or value is None:
            raise EncodeError(f"expected text, got {value!r}")
        value = str(value)
    if _INVALID_XML_CHARS.search(value):
        raise EncodeError(f"text not representable in XML: {value!r}")
    if _NEEDS_ESCAPE.search(value):
        return _NEEDS_ESCAPE.sub(lambda mo: _ESCAPES[mo.group()], value)
    return value


def _encode_record(plan, obj, out: list) -> None:
    open_containers: tuple = ()
    for attr, containers, name, kind, optional, _default, item_plan, _ in plan:
        value = getattr(obj, attr)
        is_list = kind is Kind.TEXT_LIST or kind is Kind.STRUCT_LIST
        if value is None or (is_list and optional and not value):
            if optional:
                continue
            if kind is not Kind.EXTENDED_DEVICE and kind is not Kind.REDIRECTION_DEVICE:
                raise EncodeError(
                    f"{type(obj).__name__}.{attr} is mandatory but None"
                )
        # Close/open container elements so fields sharing a parent share it.
        if containers != open_containers:
            common = 0
            for a, b in zip(open_containers, containers):
                if a != b:
                    break
                common += 1
            for container in reversed(open_containers[common:]):
                out.append(f"</{container}>")
            for container in containers[common:]:
                out.append(f"<{container}>")
            open_containers = containers
        if is_list:
            if kind is Kind.TEXT_LIST:
                for item in value:
                    out.append(f"<{name}>{_escape(item)}</{name}>")
            else:
                for item in value:
                    out.append(f"<{name}>")
                    _encode_record(item_plan, item, out)
                    out.append(f"</{name}>")
        elif kind is Kind.STRUCT:
            out.append(f"<{name}>")
            _encode_record(item_plan, value, out)
            out.append(f"</{name}>")
        else:
            _ENCODERS[kind](name, value, out)
    for container in reversed(open_containers):
        out.append(f"</{container}>")


def _encode_text(name, value, out):
    out.append(f"<{name}>{_escape(value)}</{name}>")


def _encode_int(name, value, out):
    if isinstance(value, bool) or not isinstance(value, int):
        raise EncodeError(f"<{name}> needs an integer, got {value!r}")
    out.append(f"<{name}>{value}</{name}>")


def _encode_bool(name, value, out):
    out.append(f"<{name}>{'true' if value else 'false'}</{name}>")


def _encode_extended_device(name, value, out):
    if value is None:
        out.append(f"<{name}><notKnown/></{name}>")
    else:
        out.append(
            f"<{name}><deviceIdentifier>{_escape(value)}</deviceIdentifier></{name}>"
        )


def _encode_redirection_device(name, value, out):
    if value is None:
        out.append(f"<{name}><notRequired/></{name}>")
    else:
        out.append(f"<{name}><numberDialed>{_escape(value)}</numberDialed></{name}>")


def _encode_connection(name, value, out):
    if not isinstance(value, m.ConnectionID):
        raise EncodeError(f"<{name}> needs a ConnectionID, got {value!r}")
    call_id = value.call_id
    device_id = value.device_id
    out.append(f"<{name}>")
    if call_id is not None:
        out.append(f"<callID>{_escape(call_id)}</callID>")
    if device_id is not None:
        out.append(f"<deviceID>{_escape(device_id)}</deviceID>")
    out.append(f"</{name}>")


_PRIVATE_OPEN = f'<privateData><private xmlns:cc="{m.PRIVATE_DATA_NAMESPACE}">'


def _encode_extensions(name, value, out):
    if not value:
        return  # no extensions: the element is left out
    out.append(f"<{name}>{_PRIVATE_OPEN}")
    for pair in value:
        try:
            key, text = pair
        except (TypeError, ValueError):
            raise EncodeError(f"<{name}> needs (key, value) pairs, got {pair!r}") from None
        if not isinstance(key, str) or not m.EXTENSION_KEY.match(key):
            raise EncodeError(f"bad extension key {key!r}")
        out.append(f"<cc:{key}>{_escape(text)}</cc:{key}>")
    out.append(f"</private></privateData></{name}>")


def _error_tag(error) -> str:
    if not isinstance(error, m.CSTAError):
        raise EncodeError(f"expected a CSTAError, got {error!r}")
    category = error.category
    tag = _ERROR_CATEGORY_TO_XML.get(category, category)
    if not isinstance(tag, str) or not tag.isidentifier():
        raise EncodeError(f"bad error category {category!r}")
    return tag


def _encode_error(tag, value, out):
    if value is None:
        out.append(f"<{tag}/>")
    else:
        out.append(f"<{tag}>{_escape(value)}</{tag}>")


def _encode_error_value(name, value, out):
    out.append(f"<{name}>")
    _encode_error(_error_tag(value), value.value, out)
    out.append(f"</{name}>")


_ENCODERS = {
    Kind.TEXT: _encode_text,
    Kind.DEVICE: _encode_text,
    Kind.INT: _encode_int,
    Kind.BOOL: _encode_bool,
    Kind.EXTENDED_DEVICE: _encode_extended_device,
    Kind.REDIRECTION_DEVICE: _encode_redirection_device,
    Kind.CONNECTION: _encode_connection,
    Kind.EXTENSIONS: _encode_extensions,
    Kind.ERROR_VALUE: _encode_error_value,
}

_ROOT_TAGS: dict[tuple[type, str | None], tuple[str, str, str]] = {}


def _root_tags(cls: type, namespace: str | None) -> tuple[str, str, str]:
    """(opening tag, closing tag, empty-element tag) for a class in a
    namespace; cached because the set of (class, namespace) pairs is small."""
    key = (cls, namespace)
    tags = _ROOT_TAGS.get(key)
    if tags is None:
        name = cls.info.xml_name
        attr = "" if namespace is None else f' xmlns="{_escape(namespace)}"'
        tags = (
            f"{XML_DECLARATION}<{name}{attr}>",
            f"</{name}>",
            f"{XML_DECLARATION}<{name}{attr}/>",
        )
        if len(_ROOT_TAGS) < 4096:
            _ROOT_TAGS[key] = tags
    return tags


def encode(message: Any, namespace: str | None = DEFAULT_NAMESPACE) -> bytes:
    """Write ``message`` as one UTF-8 ECMA-323 document (with XML declaration).

    ``namespace`` is the client's ECMA-323 namespace (``None`` for none).
    ECMA-354 session messages are written in the ECMA-354 namespace instead,
    unless the client uses no namespace at all.
    """
    cls = type(message)
    info = m.INFO.get(cls)
    if info is None:
        raise EncodeError(f"not a CSTA message: {message!r}")
    if info.kind is MessageKind.SESSION and namespace is not None:
        namespace = ECMA_354
    opening, closing, empty = _root_tags(cls, namespace)
    out = [opening]
    if cls is m.CSTAError:
        _encode_error(_error_tag(message), message.value, out)
    else:
        _encode_record(_plan(cls), message, out)
    if len(out) == 1:
        return empty.encode("utf-8")
    out.append(closing)
    return "".join(out).encode("utf-8")
