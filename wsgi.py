"""The WSGI entry point: `gunicorn wsgi:app`, and what `flask` finds."""

from blog import create_app
from blog.config import SettingsError

try:
    app = create_app()
except SettingsError as error:
    # The operator's to fix: say which setting, not where in the code it was read.
    raise SystemExit(f"Error: {error}") from None
