"""The WSGI entry point: `gunicorn wsgi:app`, and what `flask` finds."""

from blog import create_app

app = create_app()
