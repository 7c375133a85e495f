"""Fakes of external services (started on 127.0.0.1 by the tests that use them)."""
