"""Engine tests run against a real sandbox process over HTTP."""
from tests.fixtures.sandbox import demo_sandbox, sandbox  # noqa: F401
