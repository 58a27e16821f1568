import os

# Playwright's sync API runs an event loop in the test thread; Django's async-safety
# check would otherwise refuse the ORM calls the browser tests make around it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
