"""Webhooks: URLs an admin registered for events, and the queue of deliveries to them."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.common import UTCDateTime, utcnow
from forum.models.users import User


class WebhookEvent(enum.StrEnum):
    COMMENT_POSTED = "comment.posted"
    COMMENT_EDITED = "comment.edited"
    COMMENT_HIDDEN = "comment.hidden"
    COMMENT_REPORTED = "comment.reported"
    APPEAL_FILED = "appeal.filed"
    # Sent only by an admin's "send test event", to the one hook; nobody subscribes to it.
    PING = "ping"


SUBSCRIBABLE_EVENTS = tuple(event for event in WebhookEvent if event is not WebhookEvent.PING)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first attempt or a retry
    DELIVERED = "delivered"
    FAILED = "failed"  # every retry failed; kept for the log


class Webhook(db.Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The subscribed events' names, space-separated (a handful, read with the hook).
    events_text: Mapped[str] = mapped_column(String(500), default="")
    # Kept as is, not hashed: signing each delivery needs it.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()

    @property
    def events(self) -> list[WebhookEvent]:
        return [WebhookEvent(name) for name in self.events_text.split()]

    @events.setter
    def events(self, events) -> None:
        chosen = {WebhookEvent(event) for event in events}
        self.events_text = " ".join(event.value for event in WebhookEvent if event in chosen)

    def wants(self, event: WebhookEvent) -> bool:
        return self.active and event in self.events


class WebhookDelivery(db.Model):
    """One event for one hook: its body, and where its attempts stand."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sender's question: which pending deliveries are due?
        Index("ix_webhook_deliveries_status_next_attempt", "status", "next_attempt_at"),
        # The admin page's: the latest deliveries of one hook.
        Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(
            DeliveryStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=DeliveryStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webhook: Mapped[Webhook] = relationship()
