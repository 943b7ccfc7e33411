"""Read functions: readByQuery, readMore, query, read, readByName and a minimal lookup."""

from __future__ import annotations

from lxml import etree

from ..config import (
    DEFAULT_PAGESIZE,
    INVALID_RESULT_ID_ERRORNO,
    LIMIT_IN_VALUES,
    LIMIT_QUERY_PAGESIZE,
    LIMIT_READBYQUERY_PAGESIZE,
    READ_WITHOUT_KEYS_LIMIT,
)
from ..context import Context
from ..db import q
from ..errors import ErrorEntry, FunctionError, bl
from ..filters import (
    COMPARISONS,
    OPERATORS,
    And,
    BadValue,
    Cond,
    Expr,
    Not,
    Or,
    UnknownField,
    compile_filter,
    split_rownum,
)
from ..querylang import QuerySyntaxError, parse_query
from ..resultsets import ResultSet
from ..schema import FORMATTERS, MONEY, OBJECTS, FieldDef, ObjectDef, format_money
from ..xmlio import Node, Records, children, leaf
from .common import RowPlan, arg, field_list, find, nested_record, parse_keys, parse_pagesize, require_object


def _where(ctx: Context, obj: ObjectDef, filter_sql: str, params: list, showprivate: bool) -> tuple[str, list]:
    parts = ["company = ?", filter_sql]
    all_params = [ctx.company_id, *params]
    if obj.base_where:
        parts.append(obj.base_where)
    vis_sql, vis_params = ctx.visibility(obj, showprivate)
    if vis_sql:
        parts.append(vis_sql)
        all_params.extend(vis_params)
    return " AND ".join(parts), all_params


def _check_in_lists(expr: Expr | None) -> None:
    if expr is None:
        return
    if isinstance(expr, (And, Or)):
        for item in expr.items:
            _check_in_lists(item)
    elif isinstance(expr, Not):
        _check_in_lists(expr.item)
    elif expr.op in ("in", "notin") and len(expr.values) > LIMIT_IN_VALUES:
        raise FunctionError(bl(f"Too many values in an {expr.op} list: {len(expr.values)} given, at most "
                               f"{LIMIT_IN_VALUES} are allowed.", "Split the list into several queries."))


def _filter_failure(exc: Exception, obj: ObjectDef) -> FunctionError:
    if isinstance(exc, UnknownField):
        return FunctionError(ErrorEntry("Query Failed", f"Invalid field '{exc.name}' in the query for object "
                                        f"{obj.name}.", "", "Use field names of the object."))
    return FunctionError(ErrorEntry("Query Failed", f"Invalid query: {exc}", "", "Check the query syntax."))


def _page_data(obj_tag: str, plan: RowPlan, rows: list, total: int, remaining: int, result_id: str) -> Node:
    data = Node("data", attrs=[("listtype", obj_tag), ("count", str(len(rows))), ("totalcount", str(total)),
                               ("numremaining", str(remaining)), ("resultId", result_id)])
    if rows:
        data.add(Records(obj_tag, [f.name for f in plan.fdefs], plan.format(rows)))
    return data


def _xml_only(el: etree._Element) -> None:
    """``returnFormat`` (the SDKs write ``xml``) may only ask for XML; ``docparid`` is accepted and ignored."""
    fmt = (arg(el, "returnFormat") or "xml").lower()
    if fmt != "xml":
        raise FunctionError(bl(f"returnFormat '{fmt}' is not supported by the sandbox; use xml."))


def read_by_query(ctx: Context, el: etree._Element) -> Node:
    obj = require_object(arg(el, "object"))
    pagesize = parse_pagesize(arg(el, "pagesize"), DEFAULT_PAGESIZE, LIMIT_READBYQUERY_PAGESIZE, "readByQuery")
    _xml_only(el)
    fdefs = field_list(obj, arg(el, "fields"))
    try:
        expr, limit = split_rownum(parse_query(arg(el, "query")))
        _check_in_lists(expr)
        filter_sql, params = compile_filter(expr, obj)
    except (QuerySyntaxError, UnknownField, BadValue) as exc:
        raise _filter_failure(exc, obj) from None
    where, params = _where(ctx, obj, filter_sql, params, False)
    total = ctx.conn.execute(f"SELECT COUNT(*) FROM {obj.table} WHERE {where}", params).fetchone()[0]
    if limit is not None:
        total = min(total, limit)
    upper = ctx.conn.execute(f'SELECT COALESCE(MAX("RECORDNO"), 0) FROM {obj.table}').fetchone()[0]
    cursor = ResultSet("", (ctx.company_id, ctx.user_id), obj.name, [f.name for f in fdefs], where, params, upper,
                       0, total, 0, pagesize, limit, 0.0)
    return _next_page(ctx, obj, cursor, first=True)


def _next_page(ctx: Context, obj: ObjectDef, cursor: ResultSet, first: bool) -> Node:
    plan = RowPlan([obj.fields[name] for name in cursor.fields])
    want = cursor.pagesize
    if cursor.limit is not None:
        want = max(0, min(want, cursor.limit - cursor.returned))
    rows = ctx.conn.execute(
        f'SELECT "RECORDNO", {plan.select_sql()} FROM {obj.table} WHERE {cursor.where} AND "RECORDNO" > ? '
        f'AND "RECORDNO" <= ? ORDER BY "RECORDNO" LIMIT ?',
        [*cursor.params, cursor.last_key, cursor.upper_key, want + 1]).fetchall() if want else []
    more = len(rows) > want
    rows = rows[:want]
    if rows:
        cursor.last_key = rows[-1][0]
    cursor.returned += len(rows)
    remaining = max(cursor.total - cursor.returned, 1) if more else 0
    result_id = ""
    resultsets = ctx.services.resultsets
    if remaining and first:
        result_id = resultsets.add(cursor, ctx.now.timestamp())
    elif remaining:
        result_id = cursor.result_id
    elif not first:
        resultsets.drop(cursor.result_id)
    return _page_data(obj.name.lower(), plan, [r[1:] for r in rows], max(cursor.total, cursor.returned),
                      remaining, result_id)


def read_more(ctx: Context, el: etree._Element) -> Node:
    owner = (ctx.company_id, ctx.user_id)
    result_id = arg(el, "resultId")
    if not result_id:
        object_name = arg(el, "object")
        obj = require_object(object_name) if object_name else None
        result_id = ctx.services.resultsets.last_for_object(owner, obj.name) if obj else None
    found = ctx.services.resultsets.get(result_id or "", owner, ctx.now.timestamp()) if result_id else None
    if found is None:
        raise FunctionError(ErrorEntry(
            INVALID_RESULT_ID_ERRORNO, f"Invalid resultId '{result_id or ''}': it is unknown, already fully read "
            f"or has expired (sandbox-specific message).", "", "Run the readByQuery again."))
    return _next_page(ctx, OBJECTS[found.object_name], found, first=False)


# --- query ---

AGGREGATES = ("count", "sum", "avg", "min", "max")


def _xml_filter(node: etree._Element) -> Expr:
    tag = node.tag.lower()
    kids = children(node)
    if tag in ("and", "or"):
        if not kids:
            raise BadValue(f"<{tag}> needs child conditions")
        items = [_xml_filter(kid) for kid in kids]
        if len(items) == 1:
            return items[0]
        return And(items) if tag == "and" else Or(items)
    if tag not in OPERATORS:
        raise BadValue(f"unknown filter operator <{node.tag}>")
    field_el = find(node, "field")
    if field_el is None or not (field_el.text or "").strip():
        raise BadValue(f"<{node.tag}> needs a <field>")
    values = [(kid.text or "").strip() for kid in kids if kid.tag.lower() == "value"]
    if tag in COMPARISONS or tag in ("like", "notlike"):
        if len(values) != 1:
            raise BadValue(f"<{node.tag}> needs exactly one <value>")
    elif tag == "between" and len(values) != 2:
        raise BadValue("<between> needs exactly two <value> elements")
    elif tag in ("in", "notin") and not values:
        raise BadValue(f"<{node.tag}> needs at least one <value>")
    return Cond((field_el.text or "").strip(), tag, values)


def _bad_select(obj: ObjectDef, names: list[str]) -> FunctionError:
    listing = f"[\n\t{obj.name.lower()}: [{', '.join(names)}]\n ]"
    return FunctionError(ErrorEntry("XL03000006", f"The following fields cannot be queried or do not exist: "
                                    f"{listing}", "", "Select fields of the object (see lookup)."))


def _bool_opt(options: etree._Element | None, name: str) -> bool:
    return (arg(options, name) or "").lower() == "true" if options is not None else False


def query(ctx: Context, el: etree._Element) -> Node:
    obj = require_object(arg(el, "object"), errorno="XL03000006")
    tag = (arg(el, "object") or "").strip().upper()
    select = find(el, "select")
    if select is None or not children(select):
        raise FunctionError(bl("The query needs a <select> with at least one field."))
    plain: list[tuple[str, FieldDef]] = []
    aggregates: list[tuple[str, str, FieldDef]] = []
    bad: list[str] = []
    for item in children(select):
        kind = item.tag.lower()
        name = (item.text or "").strip()
        if name == "*":
            raise FunctionError(bl("'*' is not allowed in a query select; list the fields."))
        fdef = obj.field(name)
        if fdef is None:
            bad.append(name)
        elif kind == "field":
            plain.append((name, fdef))
        elif kind in AGGREGATES:
            aggregates.append((kind, name, fdef))
        else:
            raise FunctionError(bl(f"Unknown select element <{item.tag}>."))
    if bad:
        raise _bad_select(obj, bad)
    pagesize = parse_pagesize(arg(el, "pagesize"), DEFAULT_PAGESIZE, LIMIT_QUERY_PAGESIZE, "query")
    offset_text = arg(el, "offset") or "0"
    try:
        offset = int(offset_text)
        if offset < 0:
            raise ValueError
    except ValueError:
        raise FunctionError(bl(f"Invalid offset '{offset_text}'.")) from None
    options = find(el, "options")
    ci = _bool_opt(options, "caseinsensitive")
    showprivate = _bool_opt(options, "showprivate")
    filter_el = find(el, "filter")
    try:
        expr = None
        if filter_el is not None:
            kids = children(filter_el)
            if len(kids) != 1:
                raise BadValue("<filter> must hold exactly one condition (use <and>/<or> to combine)")
            expr = _xml_filter(kids[0])
        _check_in_lists(expr)
        filter_sql, params = compile_filter(expr, obj, case_insensitive=ci)
    except UnknownField as exc:
        raise _bad_select(obj, [exc.name]) from None
    except BadValue as exc:
        raise FunctionError(bl(f"Invalid filter: {exc}")) from None
    where, params = _where(ctx, obj, filter_sql, params, showprivate)
    order_sql = _order_by(el, obj)
    if aggregates:
        return _aggregate(ctx, obj, tag, plain, aggregates, where, params, pagesize, offset)
    total = ctx.conn.execute(f"SELECT COUNT(*) FROM {obj.table} WHERE {where}", params).fetchone()[0]
    plan = RowPlan([fdef for _, fdef in plain])
    rows = ctx.conn.execute(
        f"SELECT {plan.select_sql()} FROM {obj.table} WHERE {where} ORDER BY {order_sql} LIMIT ? OFFSET ?",
        [*params, pagesize, offset],
    ).fetchall()
    return _query_data(tag, [name for name, _ in plain], plan.format(rows), total, offset)


def _order_by(el: etree._Element, obj: ObjectDef) -> str:
    parts: list[str] = []
    orderby = find(el, "orderby")
    if orderby is not None:
        for order in children(orderby):
            name = arg(order, "field") or ""
            fdef = obj.field(name)
            if fdef is None:
                raise _bad_select(obj, [name])
            if fdef.column is None:
                continue
            descending = find(order, "descending") is not None
            parts.append(f"{q(fdef.column)} {'DESC' if descending else 'ASC'}")
    parts.append('"RECORDNO" ASC')
    return ", ".join(parts)


def _query_data(tag: str, names: list[str], rows: list[list[str]], total: int, offset: int) -> Node:
    remaining = max(0, total - offset - len(rows))
    data = Node("data", attrs=[("listtype", tag), ("totalcount", str(total)), ("offset", str(offset)),
                               ("count", str(len(rows))), ("numremaining", str(remaining))])
    if rows:
        data.add(Records(tag, names, rows))
    return data


def _aggregate(ctx: Context, obj: ObjectDef, tag: str, plain: list[tuple[str, FieldDef]],
               aggregates: list[tuple[str, str, FieldDef]], where: str, params: list, pagesize: int,
               offset: int) -> Node:
    group_cols = [q(f.column) if f.column else "NULL" for _, f in plain]
    agg_sql = []
    for kind, _, fdef in aggregates:
        col = q(fdef.column) if fdef.column else "NULL"
        agg_sql.append(f"{kind.upper()}({col})")
    select_sql = ", ".join(group_cols + agg_sql)
    group_sql = f" GROUP BY {', '.join(group_cols)}" if group_cols else ""
    order_sql = f" ORDER BY {', '.join(group_cols)}" if group_cols else ""
    base = f"SELECT {select_sql} FROM {obj.table} WHERE {where}{group_sql}"
    total = ctx.conn.execute(f"SELECT COUNT(*) FROM ({base})", params).fetchone()[0]
    rows = ctx.conn.execute(f"{base}{order_sql} LIMIT ? OFFSET ?", [*params, pagesize, offset]).fetchall()
    out = []
    for row in rows:
        values = [FORMATTERS[f.type](row[i]) if row[i] is not None else "" for i, (_, f) in enumerate(plain)]
        for j, (kind, _, fdef) in enumerate(aggregates):
            value = row[len(plain) + j]
            if value is None:
                values.append("")
            elif kind == "count":
                values.append(str(value))
            elif fdef.type == MONEY:
                values.append(format_money(round(value)))
            elif kind in ("min", "max"):
                values.append(FORMATTERS[fdef.type](value))
            else:
                values.append(str(round(value, 6)).rstrip("0").rstrip(".") if isinstance(value, float) else str(value))
        out.append(values)
    names = [name for name, _ in plain] + [f"{kind.upper()}.{name}" for kind, name, _ in aggregates]
    return _query_data(tag, names, out, total, offset)


# --- read / readByName ---

def _read_records(ctx: Context, obj: ObjectDef, fields_text: str | None, where: str, params: list,
                  order_keys: list | None, key_column: str) -> Node:
    fdefs = field_list(obj, fields_text)
    star = fields_text is None or fields_text.strip() in ("", "*")
    plan = RowPlan(fdefs)
    full_where, all_params = _where(ctx, obj, where, params, False)
    sql = f'SELECT "RECORDNO", {q(key_column)}, {plan.select_sql()} FROM {obj.table} WHERE {full_where} ' \
          f'ORDER BY "RECORDNO" LIMIT {READ_WITHOUT_KEYS_LIMIT}'
    raw = ctx.conn.execute(sql, all_params).fetchall()
    if order_keys is not None:
        index = {str(k): i for i, k in enumerate(order_keys)}
        raw.sort(key=lambda r: index.get(str(r[1]), len(index)))
    names = [f.name for f in fdefs]
    data = Node("data", attrs=[("listtype", obj.name), ("count", str(len(raw)))])
    formatted = plan.format([r[2:] for r in raw])
    for row, values in zip(raw, formatted, strict=False):
        record = nested_record(obj.name, names, values)
        if star and obj.lines:
            record.add(_lines_node(ctx, obj, row[0]))
        data.add(record)
    return data


def _lines_node(ctx: Context, obj: ObjectDef, parent_key: int) -> Node:
    container, item_tag, child_name, parent_field = obj.lines
    child = OBJECTS[child_name]
    fdefs = [child.fields[n] for n in child.star_fields]
    plan = RowPlan(fdefs)
    rows = ctx.conn.execute(
        f'SELECT {plan.select_sql()} FROM {child.table} WHERE company = ? AND {q(parent_field)} = ? '
        f'ORDER BY "RECORDNO"', (ctx.company_id, parent_key)).fetchall()
    node = Node(container)
    names = [f.name for f in fdefs]
    for values in plan.format(rows):
        node.add(nested_record(item_tag, names, values))
    return node


def read(ctx: Context, el: etree._Element) -> Node:
    obj = require_object(arg(el, "object"), errorno="BL01001973")
    _xml_only(el)
    keys = parse_keys(arg(el, "keys"))
    if not keys:
        return _read_records(ctx, obj, arg(el, "fields"), "1", [], None, "RECORDNO")
    numeric = [int(k) for k in keys if k.lstrip("-").isdigit()]
    if not numeric:
        return Node("data", attrs=[("listtype", obj.name), ("count", "0")])
    marks = ",".join("?" * len(numeric))
    return _read_records(ctx, obj, arg(el, "fields"), f'"RECORDNO" IN ({marks})', numeric, numeric, "RECORDNO")


def read_by_name(ctx: Context, el: etree._Element) -> Node:
    obj = require_object(arg(el, "object"), errorno="BL01001973")
    _xml_only(el)
    if not obj.id_field or not obj.readable_by_name:
        raise FunctionError(bl(f"readByName is not supported for {obj.name}; use read with RECORDNO keys."))
    keys = parse_keys(arg(el, "keys"))
    if not keys:
        return Node("data", attrs=[("listtype", obj.name), ("count", "0")])
    marks = ",".join("?" * len(keys))
    return _read_records(ctx, obj, arg(el, "fields"), f"{q(obj.id_field)} IN ({marks})", keys, keys, obj.id_field)


_DATATYPES = {"int": "INTEGER", "money": "CURRENCY", "date": "DATE", "ts": "TIMESTAMP", "bool": "BOOLEAN",
              "text": "TEXT"}


def lookup(ctx: Context, el: etree._Element) -> Node:
    obj = require_object(arg(el, "object"), errorno="BL01001973")
    fields = Node("Fields")
    for fdef in obj.fields.values():
        field_node = Node("Field").add(
            leaf("ID", fdef.name), leaf("LABEL", fdef.name.replace(".", " ").title()), leaf("DESCRIPTION", ""),
            leaf("REQUIRED", "true" if fdef.name == obj.id_field else "false"),
            leaf("READONLY", "true" if fdef.name in ("RECORDNO", "WHENCREATED", "WHENMODIFIED", "TOTALDUE")
                 else "false"),
            leaf("DATATYPE", _DATATYPES[fdef.type] if fdef.column or fdef.type != "text" else "TEXT"),
            leaf("ISCUSTOM", "false"),
        )
        if fdef.aliases:
            valid = Node("VALIDVALUES")
            for value in dict.fromkeys(fdef.aliases.values()):
                valid.add(leaf("VALIDVALUE", value))
            field_node.add(valid)
        fields.add(field_node)
    return Node("data", attrs=[("listtype", "All"), ("count", "1")]).add(
        Node("Type", attrs=[("Name", obj.name), ("DocumentType", "")]).add(fields, Node("Relationships"))
    )
