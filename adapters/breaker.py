"""A circuit breaker per department: after repeated failures stop calling (a dead source
then costs nothing), probe once after a pause, close again on success."""

from __future__ import annotations

import time
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 5, reset_seconds: float = 5.0) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.failures = 0
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._state == BreakerState.OPEN and self._elapsed() >= self.reset_seconds:
            return BreakerState.HALF_OPEN
        return self._state

    def _elapsed(self) -> float:
        return time.monotonic() - self._opened_at

    def retry_in(self) -> float:
        return max(0.0, self.reset_seconds - self._elapsed())

    def allow(self) -> bool:
        """May a call go out now? In half-open state exactly one probe goes."""
        state = self.state
        if state == BreakerState.CLOSED:
            return True
        if state == BreakerState.HALF_OPEN and not self._probing:
            self._state = BreakerState.HALF_OPEN
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self._probing = False
        self._state = BreakerState.CLOSED

    def failure(self) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = time.monotonic()
        self._probing = False
