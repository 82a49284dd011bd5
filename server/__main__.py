"""`python -m shopdesk` and the `shopdesk` command: see cli/main.py."""

from .cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
