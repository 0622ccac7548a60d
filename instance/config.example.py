# Copy to instance/config.py (make run writes one with a random SECRET_KEY) and adjust.
# Environment variables prefixed BLOG_ override these, e.g. BLOG_TIMEZONE=Asia/Riyadh.

SECRET_KEY = "change-me-to-a-long-random-string"

# Where articles live. SQLite by default (instance/blog.sqlite3); for several hosts:
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://blog:secret@db.internal/blog"

# Shared cache and rate-limit storage when several processes or hosts serve the site.
# REDIS_URL = "redis://127.0.0.1:6379/0"

SITE_NAME = "Hijri Blog"
TIMEZONE = "Asia/Riyadh"  # IANA zone: "today", archives and every shown time use it
HIJRI_OFFSET_DAYS = 0  # -2..+2 for local moon sighting
MASTHEAD_DAYS = 5
PER_PAGE = 20
SOCIAL_LINKS = {
    "Facebook": "https://facebook.com/example",
    "YouTube": "https://youtube.com/@example",
}

# Behind nginx on the same host: 1 trusted proxy. Over HTTPS, also mark cookies Secure.
PROXY_FIX = 0
SESSION_COOKIE_SECURE = False
