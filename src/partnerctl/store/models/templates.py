"""Configuration templates applied when clients are onboarded."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.types import UTCDateTime, utcnow


class ConfigTemplate(SQLModel, table=True):
    __tablename__ = "templates"
    __table_args__ = (
        # Names are unique case-insensitively; name_key holds the lowercased name (portable, indexable).
        sa.UniqueConstraint("name_key", name="uq_templates_name_key"),
        # Exactly one default at any time, enforced by the database itself.
        sa.Index(
            "uq_templates_one_default",
            "is_default",
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    name_key: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    is_default: bool = Field(default=False)
    version: int = Field(default=1)
    settings: dict = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
