"""Typed wrappers of the protocol-v2 contracts (contracts/v2): OrderBookV2 and its order tracker, PartnerRegistryV2,
PanelArbitrator. They live beside the v1 wrappers (pynode/chain/contracts.py) until the stack moves to v2."""

#: the v2 contracts whose ABIs ship in the package (pynode/chain/abi/<Name>.json, `make abi`)
CONTRACT_NAMES = ("PartnerRegistryV2", "OrderBookV2", "PanelArbitrator", "AccessManager")
