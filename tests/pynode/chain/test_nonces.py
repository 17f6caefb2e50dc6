"""One account, many sending threads: the connection's shared sender hands out consecutive nonces,
and a chain that lost transactions (a reverted local chain) leaves no gap behind."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_utils import keccak, to_checksum_address

from pynode.chain.heads import MAX_POLL_S

pytestmark = pytest.mark.integration


def _allow_token(chain, i: int):  # any cheap call of the admin's will do
    return chain.book.set_token_allowed(to_checksum_address(keccak(b"token-%d" % i)[:20]), True)


def test_concurrent_sends_from_one_account_get_consecutive_nonces(chain, dev_accounts):
    admin = dev_accounts["admin"]
    start = chain.w3.eth.get_transaction_count(admin.address)
    with ThreadPoolExecutor(8) as pool:
        sent = list(pool.map(lambda i: chain.send(admin, _allow_token(chain, i)), range(24)))

    nonces = sorted(chain.w3.eth.get_transaction(s.tx_hash)["nonce"] for s in sent)
    assert nonces == list(range(start, start + 24))
    assert all(s.receipt["status"] == 1 for s in sent)
    assert chain.sender(admin) is chain.sender(admin)


def test_no_nonce_gap_after_the_chain_forgot_transactions(chain, anvil, dev_accounts):
    admin = dev_accounts["admin"]
    snapshot = anvil.rpc("evm_snapshot")
    chain.send(admin, _allow_token(chain, 100))
    chain.send(admin, _allow_token(chain, 101))
    anvil.rpc("evm_revert", snapshot)  # the two transactions never happened
    # The sender learns it from its next head read: a head read last keeps serving the fees while it is current,
    # at most MAX_POLL_S (when the first receipt look missed the block, the wait read and kept that head).
    time.sleep(MAX_POLL_S)

    before = chain.w3.eth.get_transaction_count(admin.address)
    sent = chain.send(admin, _allow_token(chain, 102))
    assert chain.w3.eth.get_transaction(sent.tx_hash)["nonce"] == before
