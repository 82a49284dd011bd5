"""The command line: its parser and commands (serve, shop files, backup, tokens, audit) and their progress output."""
