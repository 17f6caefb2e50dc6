"""The `fabmesh` commands on protocol v2 (contracts/v2, the <chainId>.v2.json record), the default: they run for
the commands both protocols have (order, partner, withdraw: pynode.cli.main.V2_COMMANDS) unless `--protocol 1`
picks v1's; quote, arbitration and governance exist only on v2."""
