"""How messages arrive: stdio on the loop's own pipes, Streamable HTTP with its limits, per-session event stores."""
