"""evaluation_tally: a closed session's evaluation kept as sums per item, for the insights

Written when a session closes, only when at least k people evaluated it (the most answers any one
item got). The insights read these few rows per session instead of every answer, and the figures
stay when the raw answers are purged. Sessions closed before this revision are tallied here, by
the same rule, from the answers they still have.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:30:00

"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    tally = op.create_table(
        "evaluation_tally",
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("deliberation_session.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("item_key", sa.String(60), primary_key=True),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("squares", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
    )
    session = sa.table(
        "deliberation_session", sa.column("id", sa.Integer()), sa.column("status", sa.String()),
        sa.column("k", sa.Integer()),
    )  # fmt: skip
    answer = sa.table(
        "evaluation_answer", sa.column("session_id", sa.Integer()), sa.column("item_key", sa.String()),
        sa.column("value", sa.JSON()),
    )  # fmt: skip
    value = answer.c.value["value"].as_float()
    rows = op.get_bind().execute(
        sa.select(
            answer.c.session_id, session.c.k, answer.c.item_key, sa.func.count(), sa.func.count(value),
            sa.func.coalesce(sa.func.sum(value), 0.0), sa.func.coalesce(sa.func.sum(value * value), 0.0),
            sa.func.min(value), sa.func.max(value),
        )
        .join(session, session.c.id == answer.c.session_id)
        .where(session.c.status == "closed")
        .group_by(answer.c.session_id, session.c.k, answer.c.item_key)
    )  # fmt: skip
    per_session = defaultdict(list)
    for row in rows:
        per_session[row[0]].append(row)
    kept = []
    for session_id, items in per_session.items():
        if max(item[3] for item in items) < items[0][1]:
            continue  # fewer than k people evaluated it: nothing is kept
        for _sid, _k, item_key, answers, count, total, squares, low, high in items:
            kept.append(
                {
                    "session_id": session_id, "item_key": item_key, "answers": answers, "count": count,
                    "total": float(total), "squares": float(squares),
                    "low": None if low is None else float(low), "high": None if high is None else float(high),
                }
            )  # fmt: skip
    if kept:
        op.bulk_insert(tally, kept)


def downgrade():
    op.drop_table("evaluation_tally")
