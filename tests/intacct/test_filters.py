"""Unit tests for structured query filters."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree

from sync_engine.intacct import filters as f


def xml(flt) -> str:
    return etree.tostring(flt.to_element(), encoding="unicode")


def test_comparisons():
    assert xml(f.eq("STATUS", "active")) == "<equalto><field>STATUS</field><value>active</value></equalto>"
    assert xml(f.ne("A", 1)).startswith("<notequalto>")
    assert xml(f.lt("A", 1)).startswith("<lessthan>")
    assert xml(f.le("A", 1)).startswith("<lessthanorequalto>")
    assert xml(f.gt("RECORDNO", 41)) == "<greaterthan><field>RECORDNO</field><value>41</value></greaterthan>"
    assert xml(f.ge("A", 1)).startswith("<greaterthanorequalto>")
    assert xml(f.like("NAME", "Ac%")) == "<like><field>NAME</field><value>Ac%</value></like>"
    assert xml(f.not_like("NAME", "Ac%")).startswith("<notlike>")
    assert xml(f.is_null("PARENTID")) == "<isnull><field>PARENTID</field></isnull>"
    assert xml(f.is_not_null("PARENTID")) == "<isnotnull><field>PARENTID</field></isnotnull>"


def test_value_formats():
    ts = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert "<value>05/01/2024 00:00:00</value>" in xml(f.ge("WHENMODIFIED", ts))
    assert "<value>05/01/2024</value>" in xml(f.eq("WHENDUE", date(2024, 5, 1)))
    assert "<value>123.45</value>" in xml(f.gt("TOTALDUE", Decimal("123.45")))
    assert "<value>true</value>" in xml(f.eq("ONHOLD", True))
    assert xml(f.between("TOTALDUE", 1, 2)) == (
        "<between><field>TOTALDUE</field><value>1</value><value>2</value></between>"
    )


def test_escaping_in_values():
    out = xml(f.eq("NAME", "Bob's <Pizza> & \"Co\" Ünïcödé"))
    assert "&lt;Pizza&gt; &amp;" in out
    el = f.eq("NAME", "Bob's <Pizza> & \"Co\" Ünïcödé").to_element()
    assert el.find("value").text == "Bob's <Pizza> & \"Co\" Ünïcödé"


def test_in_limits():
    assert xml(f.in_("STATE", ["Posted", "Paid"])).count("<value>") == 2
    assert xml(f.not_in("STATE", ("Draft",))).startswith("<notin>")
    with pytest.raises(ValueError):
        f.in_("A", [])
    with pytest.raises(ValueError):
        f.in_("A", range(1001))
    with pytest.raises(TypeError):
        f.in_("A", "abc")


def test_logical_collapse_and_flatten():
    a, b, c = f.eq("A", 1), f.eq("B", 2), f.eq("C", 3)
    assert f.and_(a) is a
    assert f.or_(None, a) is a
    nested = f.and_(f.and_(a, b), c)
    assert xml(nested).count("<and>") == 1 and xml(nested).count("<equalto>") == 3
    mixed = f.and_(f.or_(a, b), c)
    assert xml(mixed).startswith("<and><or>")
    with pytest.raises(ValueError):
        f.and_()
    with pytest.raises(ValueError):
        f.eq("A", None)
