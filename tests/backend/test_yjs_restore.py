"""The overwrite restore as a new Yjs transaction: clients holding any older state converge to the
snapshot's content, and the stored history is merged, never replaced."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from mdreader_backend.yjs import merge
from mdreader_backend.yjs_restore import restore_update


def paragraph(
    parent: XmlFragment | XmlElement,
    *chunks: tuple[str, dict[str, Any] | None],
    tag: str = "paragraph",
    attrs: dict[str, Any] | None = None,
) -> XmlElement:
    element = parent.children.append(XmlElement(tag, attrs or {}))
    text = element.children.append(XmlText())
    for value, formatting in chunks:
        text.insert(len(text), value, formatting)
    return element


def loaded(*updates: bytes) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    for update in updates:
        doc.apply_update(update)
    return doc


def content(doc: Doc[Any]) -> list[Any]:
    """The editor content as comparable data (the string form orders multi-key attributes arbitrarily)."""
    return [structure(child) for child in doc.get("content", type=XmlFragment).children]


def structure(node: XmlElement | XmlText | XmlFragment) -> Any:
    if isinstance(node, XmlText):
        return ("text", node.diff())
    assert isinstance(node, XmlElement)
    return (node.tag, dict(node.attributes.__iter__()), [structure(child) for child in node.children])


def editor_history() -> tuple[Doc[Any], bytes, list[Any]]:
    """A TipTap-like document: a snapshot is taken, then the document is edited further."""
    doc: Doc[Any] = Doc()
    fragment = doc.get("content", type=XmlFragment)
    paragraph(fragment, ("Hello ", None), ("world", {"bold": True}), ("!", None))
    paragraph(fragment, ("Title", None), tag="heading", attrs={"level": 2})
    paragraph(fragment, ("a link", {"link": {"href": "https://example.com", "target": "_blank"}}))
    bullets = fragment.children.append(XmlElement("bulletList"))
    item = bullets.children.append(XmlElement("listItem"))
    paragraph(item, ("nested", {"code": True}))
    snapshot = doc.get_update()
    snapshot_content = content(doc)
    with doc.transaction():
        del fragment.children[0]
        paragraph(fragment, ("Completely new", {"italic": True}))
        fragment.children[0].attributes["level"] = 3
    return doc, snapshot, snapshot_content


def test_a_client_with_the_old_state_converges_to_the_snapshot() -> None:
    doc, snapshot, expected = editor_history()
    current = doc.get_update()
    stored = merge(current, restore_update(current, snapshot))

    client = loaded(current)  # an open editor that has seen every edit so far
    client.apply_update(stored)
    assert content(client) == expected
    fragment = client.get("content", type=XmlFragment)
    assert [child.tag for child in fragment.children if isinstance(child, XmlElement)] == [
        "paragraph",
        "heading",
        "paragraph",
        "bulletList",
    ]
    first = fragment.children[0].children[0]
    assert isinstance(first, XmlText)
    assert first.diff() == [("Hello ", None), ("world", {"bold": True}), ("!", None)]
    heading = fragment.children[1]
    assert isinstance(heading, XmlElement)
    assert heading.attributes["level"] == 2
    assert content(loaded(stored)) == expected  # and so does a client loading from scratch


def test_a_client_that_missed_recent_edits_also_converges() -> None:
    doc, snapshot, expected = editor_history()
    stale = doc.get_update()
    doc.get("content", type=XmlFragment).children.append(XmlElement("paragraph", {}, [XmlText("late")]))
    current = doc.get_update()
    stored = merge(current, restore_update(current, snapshot))
    client = loaded(stale)
    client.apply_update(stored)
    assert content(client) == expected


def test_the_restore_is_merged_into_the_history_not_substituted() -> None:
    doc, snapshot, expected = editor_history()
    doc.get("comments", type=Array).append("kept: the snapshot never had this root")
    current = doc.get_update()
    update = restore_update(current, snapshot)
    stored = merge(current, update)

    restored = loaded(stored)
    # Every operation of the current state is still in the stored state (re-applying it changes nothing),
    # plus the restore's own.
    again = loaded(stored, current)
    assert again.get_state() == restored.get_state()
    assert content(again) == expected
    assert restored.get_state() != loaded(current).get_state()
    assert restored.get("comments", type=Array).to_py() == ["kept: the snapshot never had this root"]
    # The update on its own is enough for a client holding the current state.
    assert content(loaded(current, update)) == expected


def test_map_text_and_array_roots_are_restored() -> None:
    doc: Doc[Any] = Doc()
    meta = doc.get("meta", type=Map)
    meta["title"] = "v1"
    meta["nested"] = Map({"depth": 1})
    notes = doc.get("notes", type=Text)
    notes.insert(0, "plain bold", None)
    notes.format(6, 10, {"bold": True})
    items = doc.get("items", type=Array)
    items.append("one")
    items.append(Map({"two": 2}))
    snapshot = doc.get_update()
    expected = (meta.to_py(), notes.diff(), items.to_py())

    meta["title"] = "v2"
    meta["added"] = True
    del notes[0:6]
    items.append("three")
    current = doc.get_update()

    restored = loaded(current, restore_update(current, snapshot))
    assert restored.get("meta", type=Map).to_py() == expected[0]
    assert restored.get("notes", type=Text).diff() == expected[1]
    assert restored.get("items", type=Array).to_py() == expected[2]


def test_restoring_an_empty_snapshot_empties_the_editor_content() -> None:
    doc, _, _ = editor_history()
    current = doc.get_update()
    assert content(loaded(current, restore_update(current, Doc().get_update()))) == []


def test_a_document_without_state_or_with_unrelated_history_gets_the_snapshot() -> None:
    _, snapshot, expected = editor_history()
    assert content(loaded(restore_update(None, snapshot))) == expected
    other: Doc[Any] = Doc()
    paragraph(other.get("content", type=XmlFragment), ("unrelated", None))
    unrelated = other.get_update()
    assert content(loaded(unrelated, restore_update(unrelated, snapshot))) == expected
