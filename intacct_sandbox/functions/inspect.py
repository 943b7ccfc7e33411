"""``inspect``: the list of objects (``<object>*</object>``) and one object's fields (``detail="1"`` for details).

The JS SDK's ``Inspect`` writes ``<inspect><object>X</object></inspect>`` (``*`` by default); the PHP SDK adds
``detail="1"``/``"0"``. Response shapes (unverified, especially the element names inside ``detail="1"``):
- ``*``: ``<data listtype="All" count="N"><type typename="CUSTOMER">Customer</type>…</data>``
- one object: ``<data listtype="All" count="1"><Type Name="CUSTOMER"><Fields><Field>RECORDNO</Field>…``
- ``detail="1"``: each ``Field`` holds ``Name, GroupName, dataName, externalDataName, isRequired, isReadOnly,
  maxLength, DisplayLabel, Description, id, relatedView``; the Type gets ``Attributes`` (SingularName,
  PluralName, Description).
Only the objects the sandbox serves are listed (the real ``*`` lists every object of the company).
"""

from __future__ import annotations

from lxml import etree

from ..context import Context
from ..schema import OBJECTS, ObjectDef
from ..xmlio import Node, leaf
from .common import arg, require_object

READ_ONLY_FIELDS = {"RECORDNO", "WHENCREATED", "WHENMODIFIED", "CREATEDBY", "MODIFIEDBY", "TOTALDUE",
                    "TOTALPAID", "TOTALSELECTED", "AUWHENCREATED", "MEGAENTITYKEY", "MEGAENTITYID", "MEGAENTITYNAME",
                    "RECORD_URL"}
_PLURALS = {"Entity": "Entities"}


def _label(name: str) -> str:
    return name.replace("_", " ").replace(".", " ").title()


def _field_detail(obj: ObjectDef, name: str, position: int) -> Node:
    group, _, _ = name.rpartition(".")
    return Node("Field").add(
        leaf("Name", name), leaf("GroupName", _label(group) if group else ""), leaf("dataName", name),
        leaf("externalDataName", name), leaf("isRequired", "true" if name == obj.id_field else "false"),
        leaf("isReadOnly", "true" if name in READ_ONLY_FIELDS else "false"), leaf("maxLength", ""),
        leaf("DisplayLabel", _label(name.rpartition(".")[2])), leaf("Description", ""), leaf("id", str(position)),
        leaf("relatedView", ""))


def inspect(ctx: Context, el: etree._Element) -> Node:
    name = (arg(el, "object") or "*").strip()
    if name == "*":
        data = Node("data", attrs=[("listtype", "All"), ("count", str(len(OBJECTS)))])
        for obj in OBJECTS.values():
            data.add(Node("type", attrs=[("typename", obj.name)], text=obj.label))
        return data
    obj = require_object(name, errorno="BL01001973")
    detail = (el.get("detail") or arg(el, "detail") or "").strip().lower() in ("1", "true")
    fields = Node("Fields")
    for position, field_name in enumerate(obj.fields, start=1):
        fields.add(_field_detail(obj, field_name, position) if detail else leaf("Field", field_name))
    type_node = Node("Type", attrs=[("Name", obj.name)])
    if detail:
        type_node.add(Node("Attributes").add(
            leaf("SingularName", obj.label), leaf("PluralName", _PLURALS.get(obj.label, obj.label + "s")),
            leaf("Description", "")))
    type_node.add(fields)
    return Node("data", attrs=[("listtype", "All"), ("count", "1")]).add(type_node)


HANDLERS = {"inspect": inspect}
