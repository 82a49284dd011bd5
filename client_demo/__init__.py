"""shopdesk-demo: a Claude agent that works a shopdesk MCP server, built the way production tool use should be."""
