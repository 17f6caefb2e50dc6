"""OrderBookV2's writes: one TxRequest builder per function (sent by pynode.chain.tx.TxSender).

Every call after post passes the order's current `Order` back, packed (``codec.pack_order``; the book derives
the order id from it), so the builders take the order's
:class:`~pynode.chain.v2.orders.OrderTracker`; ETH a call must carry (the escrow of an ETH order, the
arbitration fee deposits) is its ``value``. Governance functions are AccessManaged: their requests are what the
manager's ``schedule``/``execute`` wrap (pynode.chain.v2's governance wrapper), or a direct call by a role
holder without a delay (the guardian's ``pause``, ``delistToken``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pynode.chain.contracts import _BookReads
from pynode.chain.v2.orders import ORDER_EVENTS, OrderTracker
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import Attestation, OrderDocs, OrderSpec, OrderTerms, Quote, Settlement

if TYPE_CHECKING:
    from pynode.chain.tx import TxRequest


def escrow_value(terms: OrderTerms) -> int:
    """ETH a post sends: the price of an ETH order (an ERC-20 order's price is pulled after an approval)."""
    return terms.price if int(terms.token, 16) == 0 else 0


class BookWritesV2(_BookReads):
    ORDER_EVENTS = ORDER_EVENTS

    def _signature(self, name: str, last_input: str) -> str:
        """The function-table key of the overload of ``name`` whose last input is ``last_input``."""
        return next(key for key, view in self._views.items()
                    if "(" in key and view.name == name and view.inputs[-1] == last_input)

    def _order_call(self, label: str, function: str, t: OrderTracker, *args: object, value: int = 0) -> TxRequest:
        return self.request(f"{label} order {t.order_id}", function, codec.pack_order(t.order), *args, value=value)

    # ------------------------------------------------------------------------------- buyer

    def post(self, terms: OrderTerms, spec: OrderSpec, docs: OrderDocs) -> TxRequest:
        return self.request("post", "post", terms, spec, docs, value=escrow_value(terms))

    def post_awarded(self, terms: OrderTerms, spec: OrderSpec, docs: OrderDocs, quote: Quote, signature: bytes,
                     key_envelope_cid: bytes) -> TxRequest:
        """Quote-first: posts the order already awarded to ``quote`` (its key envelope published)."""
        return self.request("post awarded", "postAwarded", terms, spec, docs, codec.pack_quote(quote), signature,
                            key_envelope_cid, value=escrow_value(terms))

    def award(self, t: OrderTracker, quote: Quote, signature: bytes, key_envelope_cid: bytes) -> TxRequest:
        return self._order_call("award", "award", t, t.spec, codec.pack_quote(quote), signature, key_envelope_cid)

    def cancel(self, t: OrderTracker) -> TxRequest:
        return self._order_call("cancel", "cancel", t)

    def confirm(self, t: OrderTracker) -> TxRequest:
        return self._order_call("confirm", "confirm", t)

    def dispute(self, t: OrderTracker, evidence_cid: bytes, fee: int) -> TxRequest:
        """``fee``: the order's arbitrator's ``arbitrationCost("")`` (PanelArbitrator.arbitration_cost)."""
        return self._order_call("dispute", "dispute", t, evidence_cid, value=fee)

    # ----------------------------------------------------------------------------- partner

    def reject(self, t: OrderTracker, reason_cid: bytes) -> TxRequest:
        return self._order_call("reject", "reject", t, reason_cid)

    def ship(self, t: OrderTracker, report_cid: bytes, report_hash: bytes) -> TxRequest:
        return self._order_call("ship", "ship", t, report_cid, report_hash)

    def record_serials(self, t: OrderTracker, serials_root: bytes) -> TxRequest:
        return self._order_call("record serials of", "recordSerials", t, serials_root)

    def pay_arbitration_fee(self, t: OrderTracker, fee: int) -> TxRequest:
        """The partner's answer to a dispute: matches the buyer's deposit (``arbitration(id).buyer_fee``)."""
        return self._order_call("pay the arbitration fee of", "payArbitrationFee", t, value=fee)

    def invalidate_quote_nonces(self, word_pos: int, mask: int) -> TxRequest:
        return self.request(f"cancel quote nonces of word {word_pos}", "invalidateQuoteNonces", word_pos, mask)

    # ------------------------------------------------------------------- anyone, both parties

    def finalize(self, t: OrderTracker) -> TxRequest:
        return self._order_call("finalize", "finalize", t)

    def refund(self, t: OrderTracker) -> TxRequest:
        return self._order_call("refund", "refund", t)

    def claim_default(self, t: OrderTracker) -> TxRequest:
        return self._order_call("claim the default of", "claimDefault", t)

    def execute_ruling(self, t: OrderTracker) -> TxRequest:
        return self._order_call("execute the ruling of", "executeRuling", t)

    def settle_expired(self, t: OrderTracker) -> TxRequest:
        return self._order_call("settle expired", "settleExpired", t)

    def settle(self, t: OrderTracker, settlement: Settlement, signature: bytes) -> TxRequest:
        """The split the other party signed (pynode.protocol.v2.eip712.sign)."""
        return self._order_call("settle", "settle", t, settlement, signature)

    def submit_evidence(self, t: OrderTracker, evidence_cid: bytes) -> TxRequest:
        return self._order_call("submit evidence to", "submitEvidence", t, evidence_cid)

    def collect_fees(self, trackers: Sequence[OrderTracker]) -> TxRequest:
        return self.request(f"collect the fees of {len(trackers)} orders", "collectFees",
                            [codec.pack_order(t.order) for t in trackers])

    def withdraw(self, token: str, to: str) -> TxRequest:
        """Pays the sender's whole credit of ``token`` (the zero address: ETH) to ``to``."""
        return self.request("withdraw", "withdraw", token, to)

    def skim(self, token: str) -> TxRequest:
        return self.request(f"skim {token}", "skim", token)

    # ---------------------------------------------------------------------------- inspectors

    def attest_by_sig(self, t: OrderTracker, attestation: Attestation, signature: bytes) -> TxRequest:
        """Relays an inspector's signed attestation (anyone may send it)."""
        return self.request(f"relay attestation for order {t.order_id}", self._signature("attest", "bytes"),
                            codec.pack_order(t.order), t.spec, attestation, signature)

    def attest(self, t: OrderTracker, report_cid: bytes, report_hash: bytes, passed: bool) -> TxRequest:
        """The sending inspector's own attestation."""
        return self.request(f"attest order {t.order_id}", self._signature("attest", "bool"),
                            codec.pack_order(t.order), t.spec, report_cid, report_hash, passed)

    def cancel_attestation(self, order_id: int, nonce: int) -> TxRequest:
        return self.request(f"cancel attestation nonce {nonce} of order {order_id}", "cancelAttestation", order_id,
                            nonce)

    # ---------------------------------------------------------------------------- governance

    def allow_token(self, token: str) -> TxRequest:
        return self.request(f"allow token {token}", "allowToken", token)

    def delist_token(self, token: str) -> TxRequest:
        return self.request(f"delist token {token}", "delistToken", token)

    def set_fee(self, fee_bps: int, recipient: str) -> TxRequest:
        return self.request(f"set fee {fee_bps} bps", "setFee", fee_bps, recipient)

    def set_parameters(self, reject_window: int, dispute_timeout: int) -> TxRequest:
        return self.request("set parameters", "setParameters", reject_window, dispute_timeout)

    def pause(self) -> TxRequest:
        return self.request("pause new orders", "pause")

    def unpause(self) -> TxRequest:
        return self.request("unpause new orders", "unpause")
