"""Traces: the SDK's OpenTelemetry spans, sent to an OTLP collector when one is configured and the optional
extra `otel` is installed (`configure_tracing`)."""

from __future__ import annotations

import importlib
import logging
import os

log = logging.getLogger("shopdesk")


def configure_tracing() -> bool:
    """Export the SDK's spans over OTLP when an OTEL_EXPORTER_OTLP_* variable is set; True if set up.

    The SDK wraps every message in a span (its OpenTelemetryMiddleware); without a tracer provider
    they go nowhere. The exporter is the optional extra `otel` (opentelemetry-sdk and
    opentelemetry-exporter-otlp-proto-http; OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs
    opentelemetry-exporter-otlp-proto-grpc instead). The exporter reads its endpoint, headers and
    protocol from the standard OTEL_* variables; the service is "shopdesk" unless OTEL_SERVICE_NAME says.
    """
    if not any(name.startswith("OTEL_EXPORTER_OTLP_") and value for name, value in os.environ.items()):
        return False
    grpc = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")) == "grpc"
    exporter_module = f"opentelemetry.exporter.otlp.proto.{'grpc' if grpc else 'http'}.trace_exporter"
    try:
        trace = importlib.import_module("opentelemetry.trace")
        sdk_trace = importlib.import_module("opentelemetry.sdk.trace")
        sdk_export = importlib.import_module("opentelemetry.sdk.trace.export")
        sdk_resources = importlib.import_module("opentelemetry.sdk.resources")
        exporter = importlib.import_module(exporter_module)
    except ImportError as exc:
        log.info(
            "OTEL_EXPORTER_OTLP_* is set but tracing is off: %s is not installed (pip install 'shopdesk[otel]')",
            exc.name or exporter_module,
        )
        return False
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "shopdesk"}
    provider = sdk_trace.TracerProvider(resource=sdk_resources.Resource.create(attributes))
    provider.add_span_processor(sdk_export.BatchSpanProcessor(exporter.OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("exporting traces over OTLP (%s)", "grpc" if grpc else "http/protobuf")
    return True
