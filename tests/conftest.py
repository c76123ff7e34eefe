# services: PostgreSQL and Chromium fixtures, the postgres/browser markers and
# the CI=true guard against their skips (see tests/services.py).
# pytester: lets tests run an inner pytest session (the guard's own test).
pytest_plugins = ["pytester", "services"]
