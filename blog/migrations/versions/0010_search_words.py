"""Index words as a search reads them: whole, and without Arabic's optional marks.

A search's words are runs of letters, marks and digits (blog/search.py), and the index
held others:

- Arabic is mostly written without its short vowels and now and then with a few: tanween
  (أيضاً), a shadda (محمّد), a vowelled line of verse. A reader's search, typed without
  them, missed every article that wrote its word with one. Both indexes now hold text rid
  of the marks blog/content.py's OPTIONAL_MARKS lists, and a search drops them too.
- SQLite's tokenizer took a mark for a space, so a vowelled Arabic word or a Hindi one was
  held as pieces, and a search for one letter of it found it. Its tokenizer now counts
  marks (categories M*) as part of a word, as PostgreSQL's does.
- PostgreSQL's parser holds 3.5, v2.1, 12/01/2026, a host name, an address or a path as
  one word, which no search's words ever were. Its text now has SEPARATORS turned into
  spaces first, so it is split where SQLite splits it.

The index is dropped and built again the way migration 0009 builds it, saves waiting
meanwhile: for a million articles, 69 s on SQLite and 108 s on PostgreSQL here (0009 took
34 s and 87 s, with no index to drop first).

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

# blog/content.py's OPTIONAL_MARKS (a test holds them equal), written out: what a migration
# does must not change with the code around it.
OPTIONAL_MARKS = "\u0640\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670"
# What joins words into one in PostgreSQL's parser: decimal points, dots of host names,
# slashes of dates and paths, @ of addresses, colons of times and schemes, signs, hyphens.
SEPARATORS = "./@:-+~"
TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"


def _search_0009():
    path = Path(__file__).with_name("0009_search.py")
    spec = importlib.util.spec_from_file_location("migration_0009_search", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bare_postgresql(text: str) -> str:
    # Not translate(): it compares each character with each one it is given, which made
    # generating a million articles take a minute longer (55 µs an article); this takes 4.
    for separator in SEPARATORS:
        text = f"replace({text}, '{separator}', ' ')"
    return f"regexp_replace({text}, '[{OPTIONAL_MARKS}]', '', 'g')"


def _bare_sqlite(text: str) -> str:
    # SQLite has no translate(): one replace() a mark, each named by its code point.
    for mark in OPTIONAL_MARKS:
        text = f"replace({text}, char({ord(mark)}), '')"
    return text


def upgrade():
    search = _search_0009()
    search.downgrade()
    if op.get_bind().dialect.name == "postgresql":
        search.build(_bare_postgresql)
    else:
        search.build(_bare_sqlite, TOKENIZE)


def downgrade():
    search = _search_0009()
    search.downgrade()
    search.upgrade()
