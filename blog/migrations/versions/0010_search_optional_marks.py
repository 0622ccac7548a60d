"""Index words without Arabic's optional marks, so a search finds them however vowelled.

Arabic is mostly written without its short vowels and now and then with a few: tanween
(أيضاً), a shadda (محمّد), a vowelled line of verse. The index held words as written, and a
reader's search, typed without marks, missed every article that wrote its word with one
(on SQLite, whose tokenizer takes a mark for a space, such a word was even held as single
letters). So the index is built again the way migration 0009 builds it, each text first
rid of the marks blog/search.py's OPTIONAL_MARKS lists, and a search takes them out of its
words too. Building it again takes as long as 0009 did; saves wait meanwhile.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# blog/search.py's OPTIONAL_MARKS (a test holds them equal), written out: what a migration
# does must not change with the code around it.
OPTIONAL_MARKS = "\u0640\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670"


def _search_0009():
    path = Path(__file__).with_name("0009_search.py")
    spec = importlib.util.spec_from_file_location("migration_0009_search", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bare_postgresql(text: str) -> str:
    return f"translate({text}, '{OPTIONAL_MARKS}', '')"


def _bare_sqlite(text: str) -> str:
    # SQLite has no translate(): one replace() a mark, each named by its code point.
    for mark in OPTIONAL_MARKS:
        text = f"replace({text}, char({ord(mark)}), '')"
    return text


def upgrade():
    search = _search_0009()
    search.downgrade()
    postgresql = op.get_bind().dialect.name == "postgresql"
    search.build(_bare_postgresql if postgresql else _bare_sqlite)


def downgrade():
    search = _search_0009()
    search.downgrade()
    search.upgrade()
