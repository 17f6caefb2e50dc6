"""The typed wrappers drive a whole order through the real contracts on anvil.

The cases are ClientLifecycle's; TestOnAnvil runs them on the session's anvil (each on a snapshot reverted
after it) and test_geth.py's TestOnGeth on geth, without snapshots: each leaves the chain usable by the next
(no time travel, no dependence on a fresh chain).
"""

from __future__ import annotations

import pytest
from eth_utils import keccak

from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.orders import CERT
from pynode.chain.tx import TxReverted
from pynode.protocol.types import Status
from support import BOND, PRICE, post_order

pytestmark = pytest.mark.integration


class ClientLifecycle:
    """The order cases, on whichever chain the subclass's module gives `chain` and `maker_ready` (not collected
    itself: pytest collects Test* classes)."""

    def test_full_lifecycle_through_the_wrappers(self, chain, dev_accounts, maker_ready):
        buyer, maker = dev_accounts["buyer"], maker_ready
        order_id, _ = post_order(chain, buyer, cert_ids=(CERT["ISO_9001"],))

        tracker = chain.book.load_order(order_id, chain.from_block)
        assert tracker.status == Status.OPEN
        chain.send(maker, chain.book.claim(tracker))
        tracker = chain.book.load_order(order_id, chain.from_block)
        chain.send(buyer, chain.book.award(tracker, keccak(b"envelope")))
        tracker = chain.book.load_order(order_id, chain.from_block)
        chain.send(maker, chain.book.attest(tracker, keccak(b"report"), keccak(b"report-hash"), True))
        tracker = chain.book.load_order(order_id, chain.from_block)
        chain.send(maker, chain.book.ship(tracker, keccak(b"report"), keccak(b"report-hash")))
        tracker = chain.book.load_order(order_id, chain.from_block)
        chain.send(buyer, chain.book.simple("confirm", tracker))
        tracker = chain.book.load_order(order_id, chain.from_block)
        before = chain.w3.eth.get_balance(maker.address)
        sent = chain.send(maker, chain.book.simple("withdrawPayment", tracker))

        tracker = chain.book.load_order(order_id, chain.from_block)
        assert tracker.status == Status.PAID
        gas_cost = sent.gas_used * sent.receipt["effectiveGasPrice"]
        assert chain.w3.eth.get_balance(maker.address) == before + PRICE + BOND - gas_cost
        assert chain.registry.partner_info(maker.address).completed == 1

    def test_reverts_are_decoded_before_sending(self, chain, dev_accounts, maker_ready):
        order_id, _ = post_order(chain, dev_accounts["buyer"])
        tracker = chain.book.load_order(order_id, chain.from_block)
        nonce = chain.w3.eth.get_transaction_count(dev_accounts["stranger"].address)
        stranger = dev_accounts["stranger"]
        refused = rf"claim order {order_id} reverted: NotRegistered\(partner={stranger.address}\)"
        with pytest.raises(TxReverted, match=refused):
            chain.send(stranger, chain.book.claim(tracker))
        assert chain.w3.eth.get_transaction_count(dev_accounts["stranger"].address) == nonce  # nothing was sent

    def test_missing_certification_names_the_cert(self, chain, dev_accounts, maker_ready):
        order_id, _ = post_order(chain, dev_accounts["buyer"], cert_ids=(CERT["AS9100"],))
        tracker = chain.book.load_order(order_id, chain.from_block)
        with pytest.raises(TxReverted, match=rf"CertificationMissing\(partner={maker_ready.address}, certId=2\)"):
            chain.send(maker_ready, chain.book.claim(tracker))

    def test_stale_order_struct_is_refused(self, chain, dev_accounts, maker_ready):
        order_id, _ = post_order(chain, dev_accounts["buyer"])
        stale = chain.book.load_order(order_id, chain.from_block)
        chain.send(maker_ready, chain.book.claim(stale))
        with pytest.raises(TxReverted, match=rf"OrderMismatch\(orderId={order_id}\)"):
            chain.send(dev_accounts["buyer"], chain.book.simple("cancel", stale))

    def test_encryption_key_comes_from_events_checked_against_the_registry(self, chain, dev_accounts, maker_ready):
        assert chain.registry.encryption_key(maker_ready.address, chain.from_block) == b"\x01" + b"\x11" * 32
        chain.send(maker_ready, chain.registry.rotate_encryption_key(b"\x01" + b"\x22" * 32))
        assert chain.registry.encryption_key(maker_ready.address, chain.from_block) == b"\x01" + b"\x22" * 32

    def test_forged_history_is_detected(self, chain, dev_accounts, maker_ready, monkeypatch):
        order_id, _ = post_order(chain, dev_accounts["buyer"])
        chain.send(maker_ready, chain.book.claim(chain.book.load_order(order_id, chain.from_block)))
        real_logs = chain.book.logs
        monkeypatch.setattr(chain.book, "logs", lambda *a, **k: real_logs(*a, **k)[:1])  # drop the claim log
        with pytest.raises(OrderOutOfSync):
            chain.book.load_order(order_id, chain.from_block)


class TestOnAnvil(ClientLifecycle):
    pass
