"""A version counter of everything the per-person training figures depend on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

``data_version('roster')`` goes up whenever an attendance is added, removed or
changed, a trainee's category changes or a trainee is removed, or an activity
that has a roster changes its date, form, office or online flag. The indicator
computation caches its per-person aggregates (人数, 人次 by category) under this
number, so saving an ordinary activity does not recount 500 000 attendances.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BUMP = "UPDATE data_version SET n = n + 1 WHERE name = 'roster';"
TRIGGERS = {
    "trg_roster_version_attendance_insert": f"AFTER INSERT ON attendance BEGIN {BUMP} END",
    "trg_roster_version_attendance_delete": f"AFTER DELETE ON attendance BEGIN {BUMP} END",
    "trg_roster_version_attendance_update": f"AFTER UPDATE ON attendance BEGIN {BUMP} END",
    "trg_roster_version_trainee_update":
        f"AFTER UPDATE OF category_id, office_id ON trainee BEGIN {BUMP} END",
    "trg_roster_version_trainee_delete": f"AFTER DELETE ON trainee BEGIN {BUMP} END",
    "trg_roster_version_activity_update":
        "AFTER UPDATE OF start_date, form_id, office_id, online ON activity"
        " WHEN EXISTS (SELECT 1 FROM attendance WHERE activity_id = OLD.id)"
        f" BEGIN {BUMP} END",
}


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (name, n) VALUES ('roster', 0)")
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("data_version")
