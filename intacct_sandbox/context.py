"""What a function handler sees: the request's connection, caller identity, entity scope and services."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .clock import db_timestamp
from .db import q
from .schema import ObjectDef

if TYPE_CHECKING:
    from .auth import Company, Session
    from .services import Services


@dataclass
class Context:
    conn: sqlite3.Connection
    services: Services
    company: Company
    user_id: str
    entity: str
    sender_id: str
    now: datetime
    endpoint: str
    session: Session | None = None
    login_password_ok: bool = True
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def company_id(self) -> str:
        return self.company.company_id

    @property
    def stamp(self) -> str:
        """Now, as stored in WHENMODIFIED / AUWHENCREATED."""
        return db_timestamp(self.now)

    @property
    def today(self) -> str:
        return self.now.date().isoformat()

    def visibility(self, obj: ObjectDef, showprivate: bool = False) -> tuple[str, list]:
        """Entity scoping: top level sees shared records (all with showprivate); an entity sees its own too."""
        if not self.company.multi_entity or obj.field("MEGAENTITYID") is None:
            return "", []
        col = q("MEGAENTITYID")
        if not self.entity:
            if showprivate:
                return "", []
            return f"({col} IS NULL OR {col} = '')", []
        return f"({col} IS NULL OR {col} = '' OR {col} = ?)", [self.entity]

    def entity_fields(self) -> dict[str, Any]:
        """MEGAENTITY* values stamped on records created in this session."""
        if not self.entity:
            return {}
        if "entity_fields" not in self.cache:
            row = self.conn.execute(
                'SELECT "RECORDNO", "NAME" FROM location WHERE company = ? AND "LOCATIONID" = ? AND is_entity = 1',
                (self.company_id, self.entity),
            ).fetchone()
            self.cache["entity_fields"] = {
                "MEGAENTITYKEY": row[0] if row else None, "MEGAENTITYID": self.entity,
                "MEGAENTITYNAME": row[1] if row else self.entity,
            }
        return dict(self.cache["entity_fields"])

    def audit_new(self) -> dict[str, Any]:
        return {"WHENMODIFIED": self.stamp, "CREATEDBY": self.user_id, "MODIFIEDBY": self.user_id,
                **self.entity_fields()}

    def audit_change(self) -> dict[str, Any]:
        return {"WHENMODIFIED": self.stamp, "MODIFIEDBY": self.user_id}
