"""A circuit breaker for a dependency reached over the network — each department's source,
and Redis: after repeated failures stop calling (a dead or hung dependency then costs
nothing), probe once after a pause, close again on success. It also records each call's
outcome in the metrics, so every adapter kind reports the same way."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import StrEnum

from prometheus_client import Counter, Gauge, Histogram

from telemetry import metrics

log = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


_GAUGE = {"CLOSED": 0, "HALF_OPEN": 1, "OPEN": 2}


@dataclass(frozen=True, slots=True)
class BreakerMetrics:
    """Where a breaker reports; every series is labelled by the breaker's name first."""

    state: Gauge
    errors: Counter  # name, reason
    seconds: Histogram | None = None  # latency of successful calls, when worth its cost


DEPARTMENT = BreakerMetrics(
    metrics.BREAKER_STATE, metrics.DEPARTMENT_ERRORS, metrics.DEPARTMENT_SECONDS
)
REDIS = BreakerMetrics(metrics.REDIS_BREAKER_STATE, metrics.REDIS_ERRORS)


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        reset_seconds: float = 5.0,
        reports: BreakerMetrics = DEPARTMENT,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.reports = reports
        self.failures = 0
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probing = False
        self._gauge = reports.state.labels(name)
        self._gauge.set(0)

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
        if self._state != BreakerState.CLOSED:
            log.info("circuit closed", extra={"dependency": self.name})
            self._gauge.set(0)
        self.failures = 0
        self._probing = False
        self._state = BreakerState.CLOSED
        if self.reports.seconds is not None:
            self.reports.seconds.labels(self.name).observe(seconds)

    def failure(self, reason: str) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.failure_threshold:
            if self._state != BreakerState.OPEN:
                log.warning(
                    "circuit open",
                    extra={"dependency": self.name, "reason": reason, "for": self.reset_seconds},
                )
            self._state = BreakerState.OPEN
            self._opened_at = time.monotonic()
        self._probing = False
        self.reports.errors.labels(self.name, reason).inc()
        self._gauge.set(_GAUGE[self.state.value])

    def release(self) -> None:
        """A call that ended without a verdict (its caller was cancelled): if it was the
        probe, the next call probes instead — the breaker never waits on a lost one."""
        self._probing = False
