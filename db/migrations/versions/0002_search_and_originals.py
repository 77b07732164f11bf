"""Full-text search over activities; keep the original of a down-scaled photo.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

``activity_fts`` is an FTS5 index with the trigram tokenizer (Chinese substring
search of three or more characters) over the activity's own text columns, kept
in step by triggers. It is an external-content index keyed by the activity's
rowid; the program never runs VACUUM (backups use the online backup API, which
keeps rowids), and ``kepu check`` verifies the index.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = "title, village, address, organizer, co_organizers, description"
NEW = ", ".join(f"new.{c.strip()}" for c in COLUMNS.split(","))
OLD = ", ".join(f"old.{c.strip()}" for c in COLUMNS.split(","))


def upgrade() -> None:
    # A plain ADD COLUMN: a batch "move and copy" would drop the lock triggers.
    op.add_column("attachment", sa.Column("original_path", sa.String(length=255), nullable=True))
    op.execute(
        f"CREATE VIRTUAL TABLE activity_fts USING fts5({COLUMNS},"
        " content='activity', content_rowid='rowid', tokenize='trigram')"
    )
    op.execute("INSERT INTO activity_fts(activity_fts) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER trg_activity_fts_insert AFTER INSERT ON activity BEGIN"
        f" INSERT INTO activity_fts(rowid, {COLUMNS}) VALUES (new.rowid, {NEW}); END"
    )
    op.execute(
        "CREATE TRIGGER trg_activity_fts_delete AFTER DELETE ON activity BEGIN"
        f" INSERT INTO activity_fts(activity_fts, rowid, {COLUMNS})"
        f" VALUES ('delete', old.rowid, {OLD}); END"
    )
    op.execute(
        f"CREATE TRIGGER trg_activity_fts_update AFTER UPDATE OF {COLUMNS} ON activity BEGIN"
        f" INSERT INTO activity_fts(activity_fts, rowid, {COLUMNS})"
        f" VALUES ('delete', old.rowid, {OLD});"
        f" INSERT INTO activity_fts(rowid, {COLUMNS}) VALUES (new.rowid, {NEW}); END"
    )


def downgrade() -> None:
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_activity_fts_{name}")
    op.execute("DROP TABLE IF EXISTS activity_fts")
    op.drop_column("attachment", "original_path")
