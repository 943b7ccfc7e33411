"""Small readers for response documents used by the sandbox tests."""

from __future__ import annotations

from lxml import etree


def text(node: etree._Element, path: str) -> str:
    found = node.find(path)
    assert found is not None, f"missing {path} in {etree.tostring(node)[:800]!r}"
    return (found.text or "").strip()


def results(response: etree._Element) -> list[etree._Element]:
    return response.findall("operation/result")


def result(response: etree._Element, index: int = 0) -> etree._Element:
    found = results(response)
    assert len(found) > index, etree.tostring(response)[:1500]
    return found[index]


def ok(response: etree._Element, index: int = 0) -> etree._Element:
    """The index-th result, asserting it succeeded."""
    res = result(response, index)
    assert text(res, "status") == "success", etree.tostring(res).decode()[:2000]
    return res


def errors(node: etree._Element) -> list[dict[str, str]]:
    out = []
    for err in node.findall("errormessage/error"):
        out.append({child.tag: (child.text or "") for child in err})
    return out


def records(res: etree._Element) -> list[dict[str, str]]:
    data = res.find("data")
    assert data is not None
    return [{child.tag: (child.text or "") for child in rec} for rec in data]
