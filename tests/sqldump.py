"""A database's whole content as SQL text, to show that a refused change changed nothing."""

from __future__ import annotations

import sqlite3

from db.database import Database


def dump(db: Database) -> str:
    """Every row of every table (and the schema), as SQL text."""
    con = sqlite3.connect(db.path)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()
