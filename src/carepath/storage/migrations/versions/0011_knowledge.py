"""knowledge: articles, their full-text index, search records

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 10:00:00.000000

The index is dialect-specific and outside the models (carepath.storage.search_index):
SQLite gets an FTS5 table kept in step with `articles` by triggers, in the writer's own
transaction; PostgreSQL a GIN index on the weighted tsvector expression that searches use.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must stay identical to the expression in carepath.knowledge.search, or PostgreSQL will not
# use the index.
POSTGRES_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, CAST(tags AS text)), 'B') || "
    "setweight(to_tsvector('english'::regconfig, search_text), 'C')"
)
SQLITE_DELETE = "DELETE FROM article_search WHERE article_id = old.id; "
SQLITE_INSERT = (
    "INSERT INTO article_search (article_id, title, tags, body) "
    "VALUES (new.id, new.title, new.tags, new.search_text); END"
)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("status", _enum("articlestatus", "draft", "published"), nullable=False),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
        sa.Column("not_helpful_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_articles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_articles_tenant_id_slug")),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_articles_tenant_id_status_category",
            ["tenant_id", "status", "category"],
            unique=False,
        )

    op.create_table(
        "kb_searches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column(
            "source",
            _enum("searchsource", "help_centre", "assistant", "agent", "feedback"),
            nullable=False,
        ),
        sa.Column("query", sa.String(length=500), nullable=False),
        sa.Column("words", sa.String(length=500), nullable=False),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column(
            "outcome",
            _enum("searchoutcome", "answered", "weak", "no_hit", "not_helpful"),
            nullable=False,
        ),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("article_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_kb_searches_article_id_articles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_kb_searches_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_searches")),
    )
    with op.batch_alter_table("kb_searches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kb_searches_tenant_id_outcome_created_at",
            ["tenant_id", "outcome", "created_at"],
            unique=False,
        )

    if op.get_context().dialect.name == "sqlite":
        _create_sqlite_index()
    else:
        op.execute(f"CREATE INDEX ix_articles_search ON articles USING gin (({POSTGRES_DOCUMENT}))")


def _create_sqlite_index() -> None:
    # A table of its own (not external content): article rowids are not stable across VACUUM.
    op.execute(
        "CREATE VIRTUAL TABLE article_search USING fts5("
        "article_id UNINDEXED, title, tags, body, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER article_search_insert AFTER INSERT ON articles BEGIN " + SQLITE_INSERT
    )
    op.execute(
        "CREATE TRIGGER article_search_update AFTER UPDATE OF title, tags, search_text "
        "ON articles BEGIN " + SQLITE_DELETE + SQLITE_INSERT
    )
    op.execute(
        "CREATE TRIGGER article_search_delete AFTER DELETE ON articles BEGIN "
        + SQLITE_DELETE
        + "END"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for trigger in ("article_search_delete", "article_search_update", "article_search_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS article_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_articles_search")
    with op.batch_alter_table("kb_searches", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_searches_tenant_id_outcome_created_at")
    op.drop_table("kb_searches")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_tenant_id_status_category")
    op.drop_table("articles")
