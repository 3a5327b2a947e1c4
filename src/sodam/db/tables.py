"""SQLAlchemy Core tables: the complete data model.

Every later capability adds behaviour, not tables. Constraint names follow one naming convention so
Alembic produces the same names on SQLite and PostgreSQL. Ids are 64-bit integers (plain INTEGER
on SQLite so they alias the rowid); sessions and uploads use random text ids because they travel
in tokens and URLs.

Invariants carried by constraints:
- ``messages``: UNIQUE(room_id, seq) (per-room sequencing) and UNIQUE(room_id, sender_id,
  client_msg_id) (idempotent sends, kept as long as the message is).
- ``chat_rooms.direct_key``: UNIQUE, so there is one 1:1 room per pair (and one 나와의 채팅 each).
- ``message_reactions``: primary key (message_id, user_id): one reaction per user per message.
- ``room_events``: UNIQUE(room_id, event_seq): the per-room log of every durable change.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sodam.db.types import BigId, Json, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# Boolean defaults as literal text: both engines accept it and Alembic compares it equal on both.
FALSE = sa.text("false")
TRUE = sa.text("true")


def _id() -> sa.Column[Any]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def _fk(
    column: str,
    target: str,
    *,
    nullable: bool = False,
    ondelete: str | None = None,
    index: bool = False,
) -> sa.Column[Any]:
    return sa.Column(
        column, BigId, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
    )


def _created() -> sa.Column[Any]:
    return sa.Column("created_at", UtcDateTime(), nullable=False)


# --- people and organisation ---------------------------------------------------------------------

users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=True),  # NULL for SSO-only users
    sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("is_bot", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("oidc_issuer", sa.String(255), nullable=True),
    sa.Column("oidc_subject", sa.String(255), nullable=True),
    sa.Column("deactivated_at", UtcDateTime(), nullable=True),
    sa.Column("password_changed_at", UtcDateTime(), nullable=True),
    _created(),
    sa.UniqueConstraint("oidc_issuer", "oidc_subject"),
)

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("title", sa.String(100), nullable=True),
    sa.Column("email", sa.String(255), nullable=True),
    sa.Column("phone", sa.String(50), nullable=True),
    sa.Column("status_message", sa.String(200), nullable=True),
    sa.Column("work_status", sa.String(20), nullable=False, server_default="working"),
    sa.Column("avatar_attachment_id", BigId, nullable=True),
    sa.Column("locale", sa.String(10), nullable=False, server_default="ko"),
    sa.Column("last_seen_at", UtcDateTime(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

org_units = sa.Table(
    "org_units",
    metadata,
    _id(),
    _fk("parent_id", "org_units.id", nullable=True, ondelete="RESTRICT", index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("code", sa.String(64), nullable=True, unique=True),
    sa.Column("sort_order", sa.Integer(), nullable=False, server_default="0"),
    _created(),
)

org_members = sa.Table(
    "org_members",
    metadata,
    sa.Column(
        "org_unit_id", BigId, sa.ForeignKey("org_units.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "user_id",
        BigId,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("title", sa.String(100), nullable=True),
    sa.Column("is_primary", sa.Boolean(), nullable=False, server_default=TRUE),  # 겸직: False
    sa.Column("sort_order", sa.Integer(), nullable=False, server_default="0"),
)

# --- sessions and devices ------------------------------------------------------------------------

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    _fk("user_id", "users.id", ondelete="CASCADE", index=True),
    sa.Column("device_name", sa.String(100), nullable=True),
    sa.Column("user_agent", sa.String(300), nullable=True),
    sa.Column("ip_address", sa.String(64), nullable=True),
    sa.Column("auth_method", sa.String(20), nullable=False, server_default="password"),
    _created(),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("revoked_reason", sa.String(40), nullable=True),
)

# Every refresh token ever issued for a session, hashed. Presenting one whose used_at is set is a
# reuse of a rotated token: the whole session is revoked (OAuth 2.0 Security BCP, refresh rotation).
refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    _id(),
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    _id(),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("ip_address", sa.String(64), nullable=False),
    sa.Column("failed_at", UtcDateTime(), nullable=False),
    sa.Index(None, "username", "failed_at"),
    sa.Index(None, "ip_address", "failed_at"),
)

push_tokens = sa.Table(
    "push_tokens",
    metadata,
    _id(),
    _fk("user_id", "users.id", ondelete="CASCADE", index=True),
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column("provider", sa.String(16), nullable=False),  # fcm | apns | webpush
    sa.Column("token", sa.String(1024), nullable=False),
    sa.Column("keys", Json, nullable=True),  # Web Push p256dh/auth
    _created(),
    sa.Column("last_used_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("provider", "token"),
)

# --- rooms, members, messages --------------------------------------------------------------------

chat_rooms = sa.Table(
    "chat_rooms",
    metadata,
    _id(),
    sa.Column("kind", sa.String(10), nullable=False),  # direct | self | group
    sa.Column("name", sa.String(100), nullable=True),
    sa.Column("topic", sa.String(500), nullable=True),
    sa.Column("avatar_attachment_id", BigId, nullable=True),
    # "min:max" of the two user ids for direct rooms, "id:id" for 나와의 채팅, NULL for groups.
    sa.Column("direct_key", sa.String(41), nullable=True, unique=True),
    sa.Column("history_visibility", sa.String(10), nullable=False, server_default="joined"),
    sa.Column("read_only", sa.Boolean(), nullable=False, server_default=FALSE),
    # 방장's invite control (R4): when false, only the owner and admins may invite.
    sa.Column("members_can_invite", sa.Boolean(), nullable=False, server_default=TRUE),
    _fk("org_unit_id", "org_units.id", nullable=True, ondelete="SET NULL"),
    _fk("created_by", "users.id", nullable=True, ondelete="SET NULL"),
    _created(),
    sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("last_event_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("last_message_at", UtcDateTime(), nullable=True),
    sa.Column("member_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("notice_message_id", BigId, nullable=True),
    sa.Column("archived_at", UtcDateTime(), nullable=True),
    sa.Column("retention_days", sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('direct', 'self', 'group')", name="kind"),
)

room_members = sa.Table(
    "room_members",
    metadata,
    sa.Column(
        "room_id", BigId, sa.ForeignKey("chat_rooms.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(10), nullable=False, server_default="member"),  # owner|admin|member
    sa.Column("joined_at", UtcDateTime(), nullable=False),
    # The room's last_seq when the member joined: later messages count them as a reader; with
    # history_visibility='joined' earlier messages stay hidden from them.
    sa.Column("joined_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("visible_from_seq", sa.BigInteger(), nullable=False, server_default="0"),
    # The room's last_event_seq when the member joined: the floor of their event replay when
    # history_visibility='joined' (nothing from before they joined).
    sa.Column("joined_event_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("last_read_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("last_read_at", UtcDateTime(), nullable=True),
    sa.Column("muted", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("notify_level", sa.String(10), nullable=False, server_default="all"),
    sa.Column("favourite", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("archived", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("hidden", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),
    # room list by member; unread counting over a room's readers by position
    sa.Index(None, "user_id", "room_id"),
    sa.Index(None, "room_id", "last_read_seq"),
)

messages = sa.Table(
    "messages",
    metadata,
    _id(),
    sa.Column("room_id", BigId, sa.ForeignKey("chat_rooms.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("event_seq", sa.BigInteger(), nullable=False),
    _fk("sender_id", "users.id", nullable=True, ondelete="SET NULL"),  # NULL: system message
    sa.Column("client_msg_id", sa.String(64), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False, server_default="text"),
    sa.Column("body", sa.Text(), nullable=True),
    sa.Column("meta", Json, nullable=True),
    _fk("reply_to_id", "messages.id", nullable=True, ondelete="SET NULL"),
    _fk("forwarded_from_id", "messages.id", nullable=True, ondelete="SET NULL"),
    sa.Column("mentions_all", sa.Boolean(), nullable=False, server_default=FALSE),
    _created(),
    sa.Column("edited_at", UtcDateTime(), nullable=True),
    sa.Column("deleted_at", UtcDateTime(), nullable=True),  # unsent for everyone
    _fk("deleted_by", "users.id", nullable=True, ondelete="SET NULL"),
    sa.Column("hidden_at", UtcDateTime(), nullable=True),  # 가리기 by the owner
    sa.UniqueConstraint("room_id", "seq"),
    sa.UniqueConstraint("room_id", "sender_id", "client_msg_id"),
    sa.Index(None, "room_id", "event_seq"),
    sa.Index(None, "sender_id", "created_at"),
    # unread @all mentions per room: only the few @all messages are in this partial index
    sa.Index(
        "ix_messages_room_id_seq_mentions_all",
        "room_id",
        "seq",
        postgresql_where=sa.text("mentions_all"),
        sqlite_where=sa.text("mentions_all"),
    ),
)

# The per-room log of durable changes other than new messages (edits, unsends, reactions,
# notices, pins, membership, room settings). Messages carry their own event_seq, so a resume is
# "messages and room_events of this room with event_seq > cursor" (ADR 0001).
room_events = sa.Table(
    "room_events",
    metadata,
    _id(),
    sa.Column("room_id", BigId, sa.ForeignKey("chat_rooms.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_seq", sa.BigInteger(), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    _fk("actor_id", "users.id", nullable=True, ondelete="SET NULL"),
    _fk("message_id", "messages.id", nullable=True, ondelete="CASCADE"),
    _fk("subject_user_id", "users.id", nullable=True, ondelete="SET NULL"),
    sa.Column("payload", Json, nullable=False),
    _created(),
    sa.UniqueConstraint("room_id", "event_seq"),
)

message_edits = sa.Table(
    "message_edits",
    metadata,
    _id(),
    _fk("message_id", "messages.id", ondelete="CASCADE", index=True),
    sa.Column("previous_body", sa.Text(), nullable=False),
    _fk("editor_id", "users.id", nullable=True, ondelete="SET NULL"),
    sa.Column("edited_at", UtcDateTime(), nullable=False),
)

message_reactions = sa.Table(
    "message_reactions",
    metadata,
    sa.Column(
        "message_id", BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("reaction", sa.String(10), nullable=False),
    _created(),
    sa.CheckConstraint(
        "reaction IN ('heart', 'like', 'check', 'laugh', 'surprise', 'sad')", name="reaction"
    ),
)

message_mentions = sa.Table(
    "message_mentions",
    metadata,
    sa.Column(
        "message_id", BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("room_id", BigId, sa.ForeignKey("chat_rooms.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    # unread mentions of a user in a room: WHERE user_id=? AND room_id=? AND seq > last_read_seq
    sa.Index(None, "user_id", "room_id", "seq"),
)

pins = sa.Table(
    "pins",
    metadata,
    sa.Column(
        "room_id", BigId, sa.ForeignKey("chat_rooms.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "message_id", BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    ),
    _fk("pinned_by", "users.id", nullable=True, ondelete="SET NULL"),
    sa.Column("pinned_at", UtcDateTime(), nullable=False),
)

saved_messages = sa.Table(
    "saved_messages",
    metadata,
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "message_id", BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("saved_at", UtcDateTime(), nullable=False),
)

scheduled_messages = sa.Table(
    "scheduled_messages",
    metadata,
    _id(),
    _fk("room_id", "chat_rooms.id", ondelete="CASCADE"),
    _fk("sender_id", "users.id", ondelete="CASCADE", index=True),
    sa.Column("client_msg_id", sa.String(64), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("meta", Json, nullable=True),
    sa.Column("send_at", UtcDateTime(), nullable=False, index=True),
    _created(),
    sa.Column("sent_message_id", BigId, nullable=True),
    sa.Column("cancelled_at", UtcDateTime(), nullable=True),
)

# --- files and links -----------------------------------------------------------------------------

uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    _fk("user_id", "users.id", ondelete="CASCADE", index=True),
    sa.Column("length", sa.BigInteger(), nullable=False),
    sa.Column("offset", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("metadata", Json, nullable=True),
    sa.Column("storage_key", sa.String(255), nullable=False),
    sa.Column("multipart_id", sa.String(255), nullable=True),
    sa.Column("parts", Json, nullable=True),
    sa.Column("sha256_state", sa.LargeBinary(), nullable=True),
    _created(),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("completed_at", UtcDateTime(), nullable=True),
)

attachments = sa.Table(
    "attachments",
    metadata,
    _id(),
    _fk("uploader_id", "users.id", nullable=True, ondelete="SET NULL", index=True),
    _fk("room_id", "chat_rooms.id", nullable=True, ondelete="CASCADE"),
    _fk("message_id", "messages.id", nullable=True, ondelete="SET NULL", index=True),
    sa.Column("storage_backend", sa.String(10), nullable=False),  # local | s3
    sa.Column("storage_key", sa.String(255), nullable=False, unique=True),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # image | video | audio | file
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("width", sa.Integer(), nullable=True),
    sa.Column("height", sa.Integer(), nullable=True),
    sa.Column("scan_state", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("scan_reason", sa.String(200), nullable=True),
    sa.Column("scanned_at", UtcDateTime(), nullable=True),
    sa.Column("thumb_small_key", sa.String(255), nullable=True),
    sa.Column("thumb_large_key", sa.String(255), nullable=True),
    sa.Column("thumb_state", sa.String(12), nullable=False, server_default="pending"),
    _created(),
    sa.Column("deleted_at", UtcDateTime(), nullable=True),
    # the room drawer: newest files of a room by kind
    sa.Index(None, "room_id", "kind", "id"),
    sa.CheckConstraint(
        "scan_state IN ('pending', 'clean', 'infected', 'unscanned')", name="scan_state"
    ),
)

link_previews = sa.Table(
    "link_previews",
    metadata,
    _id(),
    sa.Column("url_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("title", sa.String(300), nullable=True),
    sa.Column("description", sa.String(1000), nullable=True),
    sa.Column("site_name", sa.String(200), nullable=True),
    sa.Column("image_key", sa.String(255), nullable=True),
    sa.Column("error", sa.String(200), nullable=True),
    sa.Column("fetched_at", UtcDateTime(), nullable=True),
    _created(),
)

message_links = sa.Table(
    "message_links",
    metadata,
    sa.Column(
        "message_id", BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "preview_id", BigId, sa.ForeignKey("link_previews.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("room_id", BigId, sa.ForeignKey("chat_rooms.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    sa.Index(None, "room_id", "message_id"),
)

# --- polls and surveys ---------------------------------------------------------------------------

polls = sa.Table(
    "polls",
    metadata,
    _id(),
    _fk("room_id", "chat_rooms.id", ondelete="CASCADE", index=True),
    _fk("message_id", "messages.id", nullable=True, ondelete="SET NULL"),
    _fk("creator_id", "users.id", nullable=True, ondelete="SET NULL"),
    sa.Column("question", sa.String(500), nullable=False),
    sa.Column("multiple_choice", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("deadline", UtcDateTime(), nullable=True),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    _created(),
)

poll_options = sa.Table(
    "poll_options",
    metadata,
    _id(),
    _fk("poll_id", "polls.id", ondelete="CASCADE", index=True),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("text", sa.String(200), nullable=False),
    sa.UniqueConstraint("poll_id", "position"),
)

# Who has voted (to enforce one ballot) is kept apart from what was voted: for an anonymous poll
# poll_votes.user_id is NULL, so the choice of a person is never stored.
poll_voters = sa.Table(
    "poll_voters",
    metadata,
    sa.Column("poll_id", BigId, sa.ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("voted_at", UtcDateTime(), nullable=False),
)

poll_votes = sa.Table(
    "poll_votes",
    metadata,
    _id(),
    _fk("poll_id", "polls.id", ondelete="CASCADE"),
    _fk("option_id", "poll_options.id", ondelete="CASCADE", index=True),
    _fk("user_id", "users.id", nullable=True, ondelete="CASCADE"),
    sa.Index(None, "poll_id", "user_id"),
)

surveys = sa.Table(
    "surveys",
    metadata,
    _id(),
    _fk("creator_id", "users.id", nullable=True, ondelete="SET NULL", index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("min_group_size", sa.Integer(), nullable=False, server_default="5"),
    sa.Column("deadline", UtcDateTime(), nullable=True),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    sa.Column("last_reminded_at", UtcDateTime(), nullable=True),
    _created(),
)

survey_targets = sa.Table(
    "survey_targets",
    metadata,
    _id(),
    _fk("survey_id", "surveys.id", ondelete="CASCADE", index=True),
    _fk("room_id", "chat_rooms.id", nullable=True, ondelete="CASCADE"),
    _fk("org_unit_id", "org_units.id", nullable=True, ondelete="CASCADE"),
    sa.CheckConstraint("(room_id IS NULL) <> (org_unit_id IS NULL)", name="one_target"),
)

survey_questions = sa.Table(
    "survey_questions",
    metadata,
    _id(),
    _fk("survey_id", "surveys.id", ondelete="CASCADE"),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # single | multiple | scale | text
    sa.Column("text", sa.String(500), nullable=False),
    sa.Column("required", sa.Boolean(), nullable=False, server_default=TRUE),
    sa.Column("scale_min", sa.Integer(), nullable=True),
    sa.Column("scale_max", sa.Integer(), nullable=True),
    sa.UniqueConstraint("survey_id", "position"),
)

survey_choices = sa.Table(
    "survey_choices",
    metadata,
    _id(),
    _fk("question_id", "survey_questions.id", ondelete="CASCADE"),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("text", sa.String(200), nullable=False),
    sa.UniqueConstraint("question_id", "position"),
)

# As with polls: survey_respondents says who answered (for reminders and one response each);
# survey_responses.respondent_id is NULL for anonymous surveys.
survey_respondents = sa.Table(
    "survey_respondents",
    metadata,
    sa.Column(
        "survey_id", BigId, sa.ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("responded_at", UtcDateTime(), nullable=False),
)

survey_responses = sa.Table(
    "survey_responses",
    metadata,
    _id(),
    _fk("survey_id", "surveys.id", ondelete="CASCADE", index=True),
    _fk("respondent_id", "users.id", nullable=True, ondelete="SET NULL"),
    _fk("org_unit_id", "org_units.id", nullable=True, ondelete="SET NULL"),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
)

survey_answers = sa.Table(
    "survey_answers",
    metadata,
    _id(),
    _fk("response_id", "survey_responses.id", ondelete="CASCADE", index=True),
    _fk("question_id", "survey_questions.id", ondelete="CASCADE", index=True),
    _fk("choice_id", "survey_choices.id", nullable=True, ondelete="CASCADE"),
    sa.Column("scale_value", sa.Integer(), nullable=True),
    sa.Column("text_value", sa.Text(), nullable=True),
)

# --- notifications, audit, background jobs -------------------------------------------------------

notifications = sa.Table(
    "notifications",
    metadata,
    _id(),
    _fk("user_id", "users.id", ondelete="CASCADE"),
    sa.Column("kind", sa.String(20), nullable=False),  # mention | reply | survey | system
    _fk("room_id", "chat_rooms.id", nullable=True, ondelete="CASCADE"),
    _fk("message_id", "messages.id", nullable=True, ondelete="CASCADE"),
    sa.Column("payload", Json, nullable=False),
    _created(),
    sa.Column("read_at", UtcDateTime(), nullable=True),
    sa.Index(None, "user_id", "id"),
)

# Append-only; each row's hash covers the previous row's hash, so a removed or altered row breaks
# the chain (tamper evidence, product.md A2).
audit_logs = sa.Table(
    "audit_logs",
    metadata,
    _id(),
    sa.Column("at", UtcDateTime(), nullable=False, index=True),
    _fk("actor_id", "users.id", nullable=True, ondelete="SET NULL", index=True),
    sa.Column("action", sa.String(50), nullable=False, index=True),
    sa.Column("target_type", sa.String(30), nullable=True),
    sa.Column("target_id", sa.String(64), nullable=True),
    sa.Column("ip_address", sa.String(64), nullable=True),
    sa.Column("data", Json, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=True),
    sa.Column("hash", sa.String(64), nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    _id(),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("dedupe_key", sa.String(200), nullable=True, unique=True),
    sa.Column("state", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="10"),
    sa.Column("run_after", UtcDateTime(), nullable=False),
    sa.Column("locked_by", sa.String(64), nullable=True),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.String(1000), nullable=True),
    _created(),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    # the runner's claim query: pending jobs due now, oldest first
    sa.Index(None, "state", "run_after"),
    sa.CheckConstraint("state IN ('pending', 'running', 'done', 'dead')", name="state"),
)
