"""Demo content for `make run`: three weeks of articles and a demo account to sign in with.

Everything here was written for this project. The password of the demo account lives in
`<instance>/demo-credentials.txt` (mode 0600) so every run can print it again. A password
changed since, at /admin/password, is the demo user's own: it is kept, and not printed.
"""

from __future__ import annotations

import os
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from . import counts, publishing
from .dates import gregorian_label, local_to_utc, local_today, utcnow, weekday_name
from .extensions import db
from .models import Article, User

USERNAME = "demo"
ROLE = "editor"  # sees and edits every article, not only its own
CREDENTIALS_FILE = "demo-credentials.txt"
DAYS = 20

ARABIC = (
    '<p dir="rtl" lang="ar">مرحبًا بكم في المدونة. تعرض كل صفحة التاريخ الميلادي والتاريخ '
    "الهجري جنبًا إلى جنب، ويمكنكم تصفح الأرشيف يومًا بيوم.</p>"
)

# (title, tags, Markdown body); the first FEATURES are published, then SCHEDULED, then a draft.
FEATURES: list[tuple[str, list[str], str]] = [
    (
        "Welcome to the Hijri Blog",
        ["Site news"],
        "Every page starts with today's date twice: the Gregorian date and the Hijri date of the "
        "Umm al-Qura calendar.\n\nThe strip beside it lists the last few days with the number of "
        f"articles each, and each day links to its archive.\n\n{ARABIC}",
    ),
    (
        "How the day strip counts articles",
        ["Site news", "Calendar"],
        "A day here is a day in the site's time zone, not in UTC:\n\n- an article posted at 01:30 "
        "local time counts for that local day;\n- scheduled articles count once their time has "
        "come;\n- drafts never count.",
    ),
    (
        "Why two calendars disagree about the new month",
        ["Calendar"],
        "Umm al-Qura is computed in advance, while many communities wait for the crescent to be "
        "seen.\n\n> The two usually agree, and when they do not, the difference is a day.\n\n"
        "The site lets an editor record when a month really started.",
    ),
    (
        "İstanbul'da sahaf festivali başladı",
        ["Books", "Türkiye"],
        "Second-hand booksellers set up their stalls along the shore this weekend. Visitors came "
        "for old maps, school atlases and poetry in faded covers.\n\n*Sahaf* is the Turkish word "
        "for a dealer in used books.",
    ),
    (
        "Çay bahçelerinde kış sohbetleri",
        ["Culture", "Türkiye"],
        "Tea gardens stay open through the cold months. Regulars move closer to the stoves, the "
        "glasses keep coming, and the conversation turns to football and the price of bread.",
    ),
    (
        "Library extends opening hours for exam season",
        ["Community", "Education"],
        "The central library will stay open until 22:00 on weekdays for the next six weeks. "
        "Quiet rooms on the second floor can be booked at the front desk.",
    ),
    (
        "Volunteers plant two hundred trees along the canal",
        ["Community", "Environment"],
        "About sixty people turned up on Saturday morning with spades and gloves. Limes and "
        "field maples went in first; fruit trees follow in spring.",
    ),
    (
        "A beginner's guide to reading the night sky",
        ["Science"],
        "You need no telescope to start:\n\n1. find a spot away from street lights;\n2. give your "
        "eyes twenty minutes to adjust;\n3. look for the brightest stars first and learn one "
        "shape a week.",
    ),
    (
        "City council publishes its cycling plan",
        ["Community", "Transport"],
        "The plan lists three new routes:\n\n| Route | Length | Opens |\n|---|---:|---|\n"
        "| Riverside | 4.2 km | spring |\n| Old town loop | 2.8 km | summer |\n"
        "| Station link | 1.5 km | autumn |",
    ),
    (
        "Recipe: lentil soup for cold evenings",
        ["Food"],
        "Soften an onion and a carrot in olive oil, add a cup of red lentils, a spoon of tomato "
        "paste and a litre of water.\n\nSimmer for twenty-five minutes, blend, and finish with "
        "lemon juice and dried mint.",
    ),
    (
        "Local chess club wins regional cup",
        ["Sport"],
        "The club's youngest player, aged twelve, won the deciding game with a quiet rook move "
        "that her opponent did not see coming.",
    ),
    (
        "Photographers capture the old harbour at dawn",
        ["Culture"],
        "Members of the photography society met at 5:30 to catch the first light over the "
        "fishing boats. Their prints will hang in the harbour office next month.",
    ),
    (
        "School choir prepares for spring concert",
        ["Culture", "Education"],
        "Forty pupils rehearse twice a week. The programme mixes folk songs from four countries "
        "with a piece written by their music teacher.",
    ),
    (
        "New footbridge opens after two years of work",
        ["Transport"],
        "The bridge links the market square with the park across the river and cuts the walk "
        "from fifteen minutes to three.",
    ),
    (
        "Markdown tips for our authors",
        ["Site news"],
        "Write **bold** with two asterisks, *italics* with one, and links like "
        "[this one](https://example.org).\n\n```\nCode goes between three backticks.\n```",
    ),
    (
        "Farmers' market moves indoors for winter",
        ["Community", "Food"],
        "From next week the Thursday market is held in the old tram depot. Same stalls, same "
        "hours, and for once a roof over the cheese.",
    ),
    (
        "Museum night draws record crowd",
        ["Culture"],
        "More than four thousand visitors came through the doors between 18:00 and midnight, "
        "most of them for the restored astronomical clock.",
    ),
    (
        "Startup turns old bread into flour",
        ["Technology", "Environment"],
        "Three engineers collect unsold loaves from bakeries, dry and mill them, and sell the "
        "flour back for crackers and crumbs.",
    ),
]
SCHEDULED: list[tuple[str, list[str], str]] = [
    (
        "Coming up: the spring book fair programme",
        ["Books"],
        "Readings, a children's corner and a table where anyone may swap two books for one.",
    ),
    (
        "Interview: the baker who starts work at 3 a.m.",
        ["Community"],
        "He has not set an alarm clock in twenty years. His body, he says, simply knows.",
    ),
    (
        "Weekend guide: five walks near the city",
        ["Travel"],
        "From an easy hour along the river to a full day on the ridge above the vineyards.",
    ),
]
DRAFT = (
    "Notes for next week's editorial",
    ["Site news"],
    "Ideas so far: winter markets, the exam season, a profile of the chess club.",
)
BRIEFING_ITEMS = [
    "Roadworks on the ring road continue; allow ten extra minutes.",
    "The swimming pool reopens after cleaning.",
    "Light rain in the afternoon, clearing by evening.",
    "The library's reading circle meets at 18:00.",
    "Bus line 4 runs every twelve minutes today.",
    "A blood donation van is parked outside the town hall.",
    "The bakery on Mill Street has a new sourdough.",
    "Clear skies tonight: a good night to look for Jupiter.",
    "The youth orchestra rehearses in the open air at noon.",
    "Recycling is collected a day later than usual this week.",
]


@dataclass(frozen=True)
class Loaded:
    """What a demo load did and the credentials to print."""

    articles: int
    username: str
    password: str | None  # None when the account's password was changed since it was saved


def load(instance_path: str, tz: ZoneInfo) -> Loaded:
    """Create the demo account if needed and, on an empty database, the demo articles."""
    counts.ensure_built(db.session, tz)
    path = Path(instance_path) / CREDENTIALS_FILE
    user, password, changed = _account(path)
    added = 0
    if db.session.scalar(sa.select(Article.id).limit(1)) is None:
        added = _add_articles(user, tz)
    db.session.commit()
    # Written only once the password is stored, so the file never names one that fails.
    if changed:
        _write_credentials(path, password)
    return Loaded(added, USERNAME, password)


def _account(path: Path) -> tuple[User, str | None, bool]:
    """Return the demo user, its password (None if changed since), and whether it is new."""
    user = db.session.scalar(sa.select(User).where(User.username == USERNAME))
    if user is None:
        user = User(username=USERNAME, role=ROLE)
        db.session.add(user)
    else:
        saved = _read_password(path)
        if saved is not None:
            # A saved password that fails was changed by whoever uses the account: theirs now.
            return user, saved if user.check_password(saved) else None, False
    # A new account, or the file is gone: printed credentials must work.
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    return user, password, True


def _read_password(path: Path) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "password" and value.strip():
            return value.strip()
    return None


def _write_credentials(path: Path, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # O_CREAT's mode does not apply to an existing file
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(f"username: {USERNAME}\npassword: {password}\n")


def _add_articles(author: User, tz: ZoneInfo) -> int:
    now = utcnow()
    today = local_today(tz, now)
    rng = random.Random(1439)  # the same site on every machine
    added = 0
    for offset in range(DAYS, 0, -1):
        day = today - timedelta(days=offset)
        items = "\n".join(f"- {item}" for item in rng.sample(BRIEFING_ITEMS, 3))
        title = f"Morning briefing: {weekday_name(day)} {gregorian_label(day)}"
        body = f"Good morning. Here is what is happening today.\n\n{items}"
        _article(author, title, ["Briefing"], body, _at(day, 7, 30, tz))
        added += 1
    # Features on random earlier days, some sharing a day; the last two a few hours ago.
    for i, (title, tags, body) in enumerate(FEATURES):
        if i >= len(FEATURES) - 2:
            instant = now - timedelta(hours=2 + 3 * (len(FEATURES) - i))
        else:
            day = today - timedelta(days=rng.randint(1, DAYS))
            instant = _at(day, rng.randint(9, 21), rng.choice((0, 15, 30, 45)), tz)
        _article(author, title, tags, body, instant)
        added += 1
    for n, (title, tags, body) in enumerate(SCHEDULED, start=1):
        _article(author, title, tags, body, _at(today + timedelta(days=n), 9, 0, tz))
        added += 1
    _article(author, *DRAFT, None, status="draft")
    return added + 1


def _at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return local_to_utc(datetime.combine(day, time(hour, minute)), tz)


def _article(
    author: User,
    title: str,
    tags: list[str],
    body: str,
    published_at: datetime | None,
    status: str = "published",
) -> None:
    article = Article(author=author, title=title, status=status, published_at=published_at)
    article.slug = publishing.unique_slug(title)
    publishing.set_body(article, markdown=body)
    db.session.add(article)
    publishing.set_tags(article, tags)
    # unique_slug only sees articles already in the database.
    db.session.flush()
