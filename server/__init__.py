"""shopdesk: a shop's customer-service tools, published to AI agents over MCP."""

__version__ = "0.1.0"
