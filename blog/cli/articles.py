"""flask articles import, export and generate."""

from __future__ import annotations

import time
from typing import BinaryIO, TextIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from .. import counts, taglinks, transfer
from .. import generate as generator
from ..dates import site_zone
from ..extensions import db

group = AppGroup("articles", help="Move articles in and out, or make synthetic ones.")

# generate sorts every publication time it will give out in memory first: a count with
# thirty digits ran the machine out of memory before a row was written.
GENERATE_MAX = 10_000_000


@group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--author",
    default=transfer.DEFAULT_AUTHOR,
    show_default=True,
    help="Author of lines that name none; created without a usable password if missing.",
)
def import_(file: BinaryIO, author: str) -> None:
    """Import articles from a JSON Lines FILE ('-' for standard input)."""

    def report(line: int, message: str) -> None:
        click.echo(f"line {line}: {message}; skipped", err=True)

    try:
        summary = transfer.import_lines(file, report, tz=_zone(), default_author=author)
    except transfer.ImportStopped as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Imported: {summary.created} created, {summary.updated} updated, "
        f"{summary.skipped} skipped."
    )
    if summary.skipped:
        # The good lines are in; the exit status still tells a script that some were not.
        raise SystemExit(1)


@group.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8", lazy=False))
@click.option(
    "--base-url",
    callback=lambda ctx, param, value: _base_url(value),
    help="The site's public address, such as https://news.example: each line's url is the "
    "article's address there. Without it, the SERVER_NAME setting's, or the path alone.",
)
def export(file: TextIO, base_url: str | None) -> None:
    """Export every article not in the trash to a JSON Lines FILE ('-' for standard output)."""
    tz, written = _zone(), 0
    # url_for needs a request: one to the site's public address, when it is known.
    external = bool(base_url or current_app.config.get("SERVER_NAME"))
    with current_app.test_request_context(base_url=base_url):
        for line in transfer.export_lines(tz, external=external):
            file.write(line)
            written += 1
    click.echo(f"Exported {written} articles.", err=True)


def _base_url(value: str | None) -> str | None:
    if value is None:
        return None
    problem = f"{value!r} is not a web address like https://news.example"
    try:
        parts = urlsplit(value)  # refuses an unclosed IPv6 bracket
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise click.BadParameter(problem) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise click.BadParameter(problem)
    if parts.fragment or value.endswith(("?", "#")):
        raise click.BadParameter(problem)
    return value.rstrip("/")


@group.command("generate")
@click.option(
    "--count",
    type=click.IntRange(min=1, max=GENERATE_MAX),
    required=True,
    help=f"Articles to add, at most {GENERATE_MAX:,}.",
)
@click.option("--seed", type=int, default=None, help="Random seed, for a repeatable set.")
@click.option(
    "--years",
    type=click.IntRange(min=1, max=100),
    default=10,
    show_default=True,
    help="Spread publication times over this many years up to now.",
)
def generate(count: int, seed: int | None, years: int) -> None:
    """Add COUNT synthetic articles quickly, for benchmarks."""
    started = time.perf_counter()
    result = generator.generate(count, seed=seed, years=years, tz=_zone())
    elapsed = time.perf_counter() - started
    click.echo(
        f"Generated {result.articles:,} articles ({result.published:,} published, "
        f"{result.tagged:,} tag links) with seed {result.seed} "
        f"in {elapsed:.1f} s: {result.articles / elapsed:,.0f} rows/s."
    )


def _zone() -> ZoneInfo:
    return site_zone(current_app.config["TIMEZONE"])


@group.command("recount")
def recount() -> None:
    """Rebuild the per-day article counts from the articles, in the zone the site keeps them in,
    and the tag pages' order from the articles too."""
    # The site's own zone, not this shell's: run without the service's TIMEZONE, a recount
    # in UTC would leave every running worker reading UTC days as its own.
    kept = counts.kept_zone(db.session)
    zone = site_zone(kept) if kept else _zone()
    days = counts.rebuild(db.session, zone)
    relinked = taglinks.relink(db.session)
    db.session.commit()
    click.echo(f"Recounted {days:,} days in {zone.key}.")
    if relinked:
        click.echo(f"Put {relinked:,} tag links back in step with their articles.")
    if zone.key != current_app.config["TIMEZONE"]:
        click.echo(
            f"That is the zone the site keeps them in; this command ran with TIMEZONE "
            f"{current_app.config['TIMEZONE']}. A site restarted on a new TIMEZONE recounts "
            "them itself."
        )
