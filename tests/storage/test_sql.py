"""`one_of` selects exactly what `IN (...)` selects, on both databases, for any list of keys."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from storage.models import Customer
from storage.sql import one_of

NUMBERS = [f"C-{i}" for i in range(12)] + ["c-1", "C-1 ", "12", "O'Brien", "ü"]


def _seed(engine) -> None:
    with Session(engine) as session:
        for number in NUMBERS:
            session.add(Customer(number=number, name=number))
        session.commit()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=st.lists(st.one_of(st.sampled_from(NUMBERS), st.none(),  # no NUL: XML and PostgreSQL text cannot hold it
                                 st.text(st.characters(exclude_characters="\x00"), max_size=5)), max_size=20),
       ids=st.lists(st.integers(-3, 40), max_size=20))
def test_one_of_matches_in(engine, wanted, ids):
    with Session(engine) as session:
        seeded = session.exec(select(Customer)).first() is not None
    if not seeded:
        _seed(engine)
    with Session(engine) as session:
        by_number = set(session.exec(select(Customer.id).where(one_of(Customer.number, wanted))))
        assert by_number == set(session.exec(select(Customer.id).where(col(Customer.number).in_(wanted))))
        by_id = set(session.exec(select(Customer.number).where(one_of(Customer.id, ids))))
        assert by_id == set(session.exec(select(Customer.number).where(col(Customer.id).in_(ids))))


def test_one_of_takes_more_keys_than_a_statement_has_parameters(engine):
    _seed(engine)
    keys = [f"C-{i}" for i in range(40_000)]  # SQLite allows 32,766 parameters; this is one
    with Session(engine) as session:
        assert len(session.exec(select(Customer.id).where(one_of(Customer.number, keys))).all()) == 12
