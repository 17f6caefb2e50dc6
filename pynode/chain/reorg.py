"""Reorg detection: stored block hashes compared with the chain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pynode.chain.rpc import request
from pynode.core.errors import BlockUnavailable, FatalError

if TYPE_CHECKING:
    from web3 import Web3

    from pynode.chain.jsonrpc import RpcClient


class DeepReorg(FatalError):
    """None of the stored block hashes is on the chain any more: the reorg is deeper than we remember."""


def block_hash(w3: Web3 | RpcClient, number: int) -> str | None:
    """The canonical hash of block ``number`` (raw hex), or None if the chain is not that long."""
    block = request(w3, "eth_getBlockByNumber", [hex(number), False])
    return None if block is None else block["hash"]


def block_at(w3: Web3 | RpcClient, number: int) -> Mapping[str, Any]:
    """Block ``number`` (raw JSON-RPC fields) of a chain the caller saw at least that long; a node that answers
    ``null`` (the chain shrank in between: a reorg, ``evm_revert``) raises ``BlockUnavailable``, transient."""
    block = request(w3, "eth_getBlockByNumber", [hex(number), False])
    if not isinstance(block, Mapping):
        raise BlockUnavailable(f"eth_getBlockByNumber: block {number} is gone (the chain is shorter: a reorg?)")
    return block


def find_fork(w3: Web3 | RpcClient, known: Mapping[int, str]) -> int | None:
    """Checks stored (number -> hash) of processed blocks against the chain.

    Returns None when the highest stored block is still canonical (nothing to
    do), else the highest stored block that still is: the common ancestor to
    rewind to. Canonical-ness is monotone over our own stored hashes (a
    canonical block's ancestors are canonical), so a binary search needs only
    ~log2(len(known)) requests. Raises DeepReorg when none is canonical.
    """
    if not known:
        return None
    numbers = sorted(known)

    def canonical(number: int) -> bool:
        return (block_hash(w3, number) or "").lower() == known[number].lower()

    if canonical(numbers[-1]):
        return None
    low, high = 0, len(numbers) - 2  # find the highest index that is canonical
    found = None
    while low <= high:
        mid = (low + high) // 2
        if canonical(numbers[mid]):
            found = numbers[mid]
            low = mid + 1
        else:
            high = mid - 1
    if found is None:
        raise DeepReorg(f"none of the {len(known)} stored blocks ({numbers[0]}..{numbers[-1]}) is canonical "
                        "any more: the reorg is deeper than the node remembers")
    return found
