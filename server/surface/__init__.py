"""What an MCP client sees: the server class, the tool listing, resources, prompts, completions, client log, views."""
