"""Overwrite-restore of a history snapshot as a new Yjs transaction (Decision 16).

Copying the snapshot's bytes over the stored state would not reach connected clients: Yjs clients merge
what they receive, so the old content would survive on every open editor and come back on its next sync.
Instead the restore is an ordinary edit made on top of the current state: in one transaction every root
type of the snapshot has its content replaced by a copy of the snapshot's. Any client holding the current
(or an older) state that applies that update converges to the snapshot's content, and the stored history
stays intact (the update is merged into it, never substituted).

`restore_update` is pure (bytes in, bytes out) so the sync service can compute and broadcast the same
update to its connected clients.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

PROSEMIRROR_ROOT = "content"
"""The XmlFragment TipTap's Collaboration extension edits; always restored, even when empty."""

SHARED_TYPES = (Array, Map, Text, XmlElement, XmlFragment, XmlText)
RootType = type[Array[Any]] | type[Map[Any]] | type[Text] | type[XmlFragment]
TextLike = Text | XmlText


def restore_update(current_state: bytes | None, snapshot_state: bytes) -> bytes:
    """The Yjs update that turns `current_state` into the snapshot's content, as a new transaction.

    Roots present only in the current state are left alone (the snapshot knew nothing about them), except
    the ProseMirror fragment, which is the document body and is emptied if the snapshot has none.
    """
    current = _load(current_state)
    snapshot = _load(snapshot_state)
    kinds = _root_kinds(snapshot_state)
    current_kinds = _root_kinds(current_state)
    names = set(kinds) | {PROSEMIRROR_ROOT}
    before = current.get_state()
    with current.transaction():
        for name in sorted(names):
            kind = kinds.get(name) or current_kinds.get(name)
            if kind is None:
                if name != PROSEMIRROR_ROOT:
                    continue  # empty in both: nothing to replace
                kind = XmlFragment
            _fill(current.get(name, type=kind), snapshot.get(name, type=kind))
    return current.get_update(before)


def _load(state: bytes | None) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    if state:
        doc.apply_update(state)
    return doc


def _root_kinds(state: bytes | None) -> dict[str, RootType | None]:
    """The type of each root of an update, which the Yjs encoding leaves implicit.

    Read through each candidate type on a scratch document (the first cast of a root fixes its type, so
    the documents that get edited are only ever cast to the right one). None: empty, so undecidable.
    """
    scratch = _load(state)
    return {name: _root_kind(scratch, name) for name in list(scratch.keys())}


def _root_kind(doc: Doc[Any], name: str) -> RootType | None:
    if len(doc.get(name, type=Map)) > 0:
        return Map
    if str(doc.get(name, type=Text)):
        return Text
    items = list(doc.get(name, type=Array))
    if not items:
        return None
    if all(isinstance(item, XmlElement | XmlText) for item in items):
        return XmlFragment
    return Array


def _fill(target: Any, source: Any) -> None:
    """Makes the integrated shared type `target` hold a copy of `source` (the same type, other doc)."""
    if isinstance(source, Map):
        _fill_map(target, source)
    elif isinstance(source, Array):
        target.clear()
        for item in source:
            _append(target, item)
    elif isinstance(source, XmlText | Text):
        _fill_text(target, source)
    else:  # XmlElement or XmlFragment
        if isinstance(source, XmlElement):
            _fill_attributes(target, source)
        del target.children[:]
        for child in source.children:
            _append(target.children, child)


def _append(target: Any, item: Any) -> None:
    """Appends a copy of `item` to an Array or an XML children view."""
    if isinstance(item, SHARED_TYPES):
        copy = _empty_like(item)
        target.append(copy)  # integrates `copy` in place
        _fill(copy, item)
    else:
        target.append(item)


def _empty_like(source: Any) -> Any:
    return XmlElement(source.tag) if isinstance(source, XmlElement) else type(source)()


def _fill_map(target: Map[Any], source: Map[Any]) -> None:
    wanted = dict(source.items())
    for key in set(target.keys()) - set(wanted):
        del target[key]
    for key, value in wanted.items():
        if isinstance(value, SHARED_TYPES):
            copy = _empty_like(value)
            target[key] = copy
            _fill(copy, value)
        elif target.get(key) != value:
            target[key] = value


def _fill_attributes(target: XmlElement | XmlText, source: XmlElement | XmlText) -> None:
    wanted = _attributes(source)
    for key in set(_attributes(target)) - set(wanted):
        del target.attributes[key]
    for key, value in wanted.items():
        if target.attributes.get(key) != value:
            target.attributes[key] = value


def _attributes(node: XmlElement | XmlText) -> dict[str, Any]:
    # pycrdt types XmlAttributesView.__iter__ as returning an Iterable (it returns an iterator).
    return dict(node.attributes.__iter__())


def _fill_text(target: TextLike, source: TextLike) -> None:
    """Copies text, embeds and formatting: chunks first, then each chunk's attributes as a format."""
    if isinstance(source, XmlText):
        assert isinstance(target, XmlText)
        _fill_attributes(target, source)
    target.clear()
    chunks = source.diff()
    position = 0
    spans: list[tuple[int, int, dict[str, Any]]] = []
    for value, attrs in chunks:
        size = len(value) if isinstance(value, str) else 1
        if isinstance(value, str):
            target.insert(position, value)
        elif isinstance(value, SHARED_TYPES):
            copy = _empty_like(value)
            target.insert_embed(position, copy)
            _fill(copy, value)
        else:
            target.insert_embed(position, value)
        if attrs:
            spans.append((position, position + size, attrs))
        position += size
    for start, stop, attrs in spans:
        target.format(start, stop, attrs)
