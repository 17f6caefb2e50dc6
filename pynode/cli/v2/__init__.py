"""The `fabmesh` commands on protocol v2 (contracts/v2, the <chainId>.v2.json record): `--protocol 2` selects
them for the commands both protocols have (order, partner, withdraw: pynode.cli.main.V2_COMMANDS); quote,
arbitration and governance exist only on v2."""
