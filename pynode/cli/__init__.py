"""The `fabmesh` command line."""
