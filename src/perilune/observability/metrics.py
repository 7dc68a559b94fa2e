"""Prometheus metrics. They live in the process-wide registry; with several workers each process
reports its own counters (see docs/configuration.md)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REQUESTS = Counter("perilune_requests_total", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "perilune_request_duration_seconds",
    "Time to answer a request",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
RATE_LIMIT_REJECTIONS = Counter(
    "perilune_rate_limit_rejections_total", "Requests refused with a 429", ["endpoint", "window"]
)
CREDITS_SPENT = Counter("perilune_credits_spent_total", "Credits charged to teams", ["credit_type"])
JOB_QUEUE_DEPTH = Gauge("perilune_job_queue_depth", "Durable jobs waiting to run", ["state"])


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
