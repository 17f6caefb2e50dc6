"""Typed wrappers of the protocol-v2 contracts (contracts/v2), beside the v1 ones (pynode/chain/contracts.py) until
the stack moves to v2. One per contract: views return Python values, writes return TxRequests for a TxSender.

    book.OrderBookV2          views, load_order/load_orders (checked against orderHash and recordHead), writes
    orders.OrderTracker       one order's Order and both chains, folded from its events (book.apply feeds a log)
    registry.PartnerRegistryV2
    arbitrator.PanelArbitrator
    manager.AccessManager     governance: schedule/execute a restricted call
    safe.Safe                 the governance multisig (npm @safe-global/safe-smart-account), its proposals in safe_tx
"""

#: the v2 contracts whose ABIs ship in the package (pynode/chain/abi/<Name>.json, `make abi`)
CONTRACT_NAMES = ("PartnerRegistryV2", "OrderBookV2", "PanelArbitrator", "AccessManager", "Safe")
