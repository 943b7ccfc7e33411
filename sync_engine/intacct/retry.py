"""Retry policy as data, applied through tenacity (exponential backoff, jitter, Retry-After, hard caps).

What is *retryable* is decided by the error type (see ``errors.classify``); this module only decides
*how often and how long to wait*.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from .errors import DEFAULT_RETRY_STATUSES, AmbiguousWriteError, ResponseFormatError, TransientError

T = TypeVar("T")
log = logging.getLogger("sync_engine.intacct.client")


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries transient failures.

    - ``max_attempts``: hard cap on attempts per request (first try included).
    - ``initial_delay`` * ``multiplier`` ** n, capped at ``max_delay``; with ``jitter`` a random
      extra of up to the same amount ("equal jitter") spreads clients apart.
    - ``retry_statuses``: HTTP statuses treated as transient (for writes, only 429 is re-sent).
    - A ``Retry-After`` header is honoured when it is at most ``max_retry_after`` seconds; a longer
      one stops retrying (the run fails as transient and the next run picks it up).
    - ``format_retries``: how many times an unreadable response to a *read* is retried.
    - ``max_elapsed``: overall budget in seconds for one request including waits.
    """

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    multiplier: float = 2.0
    max_retry_after: float = 120.0
    format_retries: int = 1
    max_elapsed: float | None = 600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must be >= 0")

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), before Retry-After."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** max(0, attempt - 1))
        if self.jitter:
            return min(self.max_delay, base / 2 + rng() * base / 2) if base else 0.0
        return base

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        """Whether failed attempt ``attempt`` ending in ``exc`` deserves another try."""
        if attempt >= self.max_attempts or isinstance(exc, AmbiguousWriteError):
            return False
        if isinstance(exc, TransientError):
            return exc.retry_after is None or exc.retry_after <= self.max_retry_after
        if isinstance(exc, ResponseFormatError):
            return attempt <= self.format_retries
        return False

    def wait_for(self, exc: BaseException | None, attempt: int) -> float:
        """The wait before the next attempt: the backoff, or longer if the server asked (Retry-After)."""
        wait = self.backoff(attempt)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = max(wait, float(retry_after))
        return wait


NO_RETRY = RetryPolicy(max_attempts=1)


def run_with_retry(policy: RetryPolicy, fn: Callable[[], T], *, sleep: Callable[[float], None],
                   describe: str = "request") -> T:
    """Call ``fn`` until it succeeds or ``policy`` says stop; the last error is re-raised unchanged."""

    def _retry(state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return exc is not None and policy.should_retry(exc, state.attempt_number)

    def _wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return policy.wait_for(exc, state.attempt_number)

    def _before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("%s failed (attempt %d/%d: %s); retrying in %.2fs",
                    describe, state.attempt_number, policy.max_attempts, exc, wait)

    stop: tenacity.stop.stop_base = tenacity.stop_after_attempt(policy.max_attempts)
    if policy.max_elapsed is not None:
        stop = stop | tenacity.stop_after_delay(policy.max_elapsed)
    retrying = tenacity.Retrying(
        retry=_retry, wait=_wait, stop=stop, sleep=sleep, before_sleep=_before_sleep, reraise=True,
    )
    return retrying(fn)
