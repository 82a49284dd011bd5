"""What an operator sees: log lines, Prometheus metrics, health, traces."""
