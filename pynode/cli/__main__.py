"""`python -m pynode.cli` runs the `fabmesh` command (used where the console script is not on PATH)."""

from pynode.cli.main import main

main()
