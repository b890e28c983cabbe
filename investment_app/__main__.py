"""`python -m investment_app ...`: the command-line interface (see investment_app/cli)."""

from investment_app.cli import main

raise SystemExit(main())
