"""The published manuals: every version of every product's 操作マニュアル, the PDF bytes kept in the database
(so every instance serves them and every backup holds them)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import UTCDateTime, format_jst, utcnow


class Manual(db.Model):
    """One published version of a product's manual (platform-wide, not tenant-owned)."""

    __tablename__ = "manuals"
    __table_args__ = (sa.UniqueConstraint("product", "version", name="uq_manuals_product_version"),
                      sa.Index("ix_manuals_product_published", "product", "published_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(sa.String(32))
    version: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(200))
    file_name: Mapped[str] = mapped_column(sa.String(255))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # Read only for a download, never for a list.
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)

    @property
    def published_jst(self) -> str:
        """Publication time in Japan time."""
        return format_jst(self.published_at)

    @property
    def size_label(self) -> str:
        """The size for people: KB or MB."""
        if self.size >= 1024 * 1024:
            return f"{self.size / (1024 * 1024):.1f} MB"
        return f"{max(1, round(self.size / 1024))} KB"
