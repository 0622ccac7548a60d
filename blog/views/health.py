"""Health check for load balancers and monitors."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy.exc import SQLAlchemyError

from .. import schema

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Answer 200 when the database answers and has this code's schema, 503 otherwise."""
    try:
        unready = schema.problem()
    except SQLAlchemyError:
        current_app.logger.exception("health check failed")
        return {"status": "unavailable"}, 503
    if unready:
        # Every page would fail: a balancer should send readers elsewhere. Why is for the
        # operator's log, not for anyone who asks.
        current_app.logger.error("health check failed: %s", unready)
        return {"status": "unavailable"}, 503
    return {"status": "ok"}, 200
