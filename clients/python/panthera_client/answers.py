"""Answers of the signed protocol as native objects. XML and JSON give the
same thing (protocol.md section 7): attributes and child elements become keys
of a dict, an element with only text a string (empty: ``""``), text beside
attributes goes under ``_content``; a child name that occurs once is a dict,
several times a list. Use :func:`as_list` where one item may come alone."""

import json
import xml.etree.ElementTree as ET


def as_list(value):
    """A list whatever the server sent: ``None`` → ``[]``, one object →
    ``[object]``, a list as it is (the single-child-is-an-object rule)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _element(el):
    children = list(el)
    text = el.text if el.text is not None else ""
    if not el.attrib and not children:
        return text
    out = dict(el.attrib)
    counts = {}
    for child in children:
        counts[child.tag] = counts.get(child.tag, 0) + 1
    for child in children:
        value = _element(child)
        if counts[child.tag] == 1:
            out[child.tag] = value
        else:
            out.setdefault(child.tag, []).append(value)
    if text.strip():
        out["_content"] = text
    return out


def parse_xml(text):
    """``<rsp stat="ok">…</rsp>`` as a dict of its children (with ``stat``)."""
    root = ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    value = _element(root)
    if not isinstance(value, dict):
        value = {"stat": root.get("stat", "")}
    return value


def parse(body, content_type):
    """A signed answer's body (bytes) as a dict, by its Content-Type."""
    text = body.decode("utf-8")
    if (content_type or "").split(";")[0].strip() == "application/json":
        return json.loads(text)
    return parse_xml(text)
