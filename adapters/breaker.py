"""A circuit breaker per department: after repeated failures stop calling (a dead source
then costs nothing), probe once after a pause, close again on success. It also records each
call's outcome in the metrics, so every adapter kind reports the same way."""

from __future__ import annotations

import time
from enum import StrEnum

from telemetry import metrics


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


_GAUGE = {"CLOSED": 0, "HALF_OPEN": 1, "OPEN": 2}


class CircuitBreaker:
    def __init__(
        self, department: str, failure_threshold: int = 5, reset_seconds: float = 5.0
    ) -> None:
        self.department = department
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

    def refusal(self) -> str | None:
        """Why a call may not go out now (the breaker is open), or None."""
        if self.allow():
            return None
        return f"circuit open; next probe in {self.retry_in():.1f}s"

    def success(self, seconds: float) -> None:
        self.failures = 0
        self._probing = False
        self._state = BreakerState.CLOSED
        metrics.BREAKER_STATE.labels(self.department).set(0)
        metrics.DEPARTMENT_SECONDS.labels(self.department).observe(seconds)

    def failure(self, reason: str) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = time.monotonic()
        self._probing = False
        metrics.DEPARTMENT_ERRORS.labels(self.department, reason).inc()
        metrics.BREAKER_STATE.labels(self.department).set(_GAUGE[self.state.value])
