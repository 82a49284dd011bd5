"""What an operator sees of a running shopdesk: log lines, Prometheus metrics, health, traces.

Nothing here changes what a tool does; each piece is wired in by `app.py` / `transport/serve.py` / `cli/main.py`:

- logs.py: `configure_logging(level, fmt)`, every log line to stderr, as text or as one JSON object a
  line, with no personal data at INFO.
- observability.py: `CallObserver`, SDK middleware that times each `tools/call`, logs one line for it on
  "shopdesk.calls" and counts it in a `Metrics`: the Prometheus metrics, in a registry of their own.
- endpoints.py: `healthz_endpoint(check)`, `metrics_endpoint(metrics)`, Starlette endpoints for
  `MCPServer.custom_route`.
- tracing.py: `configure_tracing()`, the SDK's OpenTelemetry spans to an OTLP collector, when one is
  configured and the optional extra `otel` is installed.
"""
