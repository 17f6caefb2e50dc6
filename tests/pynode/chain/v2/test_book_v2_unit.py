"""OrderBookV2's requests: each write's calldata is web3's encode_abi of the same arguments (and its value what the
call must carry); the views the wrapper names exist in the packaged ABI with the arguments it passes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from v2_logs import ABI, BOOK, BUYER, PARTNER, REPORT, Chain, fold, vector_logs
from web3 import Web3

from pynode.chain.deployment import ContractInfo
from pynode.chain.tx import TxRequest
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.book_tx import escrow_value
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import Attestation, Quote, Settlement

BOOK_V2 = OrderBookV2(Web3(), ContractInfo("OrderBookV2", BOOK, ABI))
T = fold(vector_logs(Chain()))
TOKEN = Web3.to_checksum_address("0x" + "7e" * 20)
QUOTE = Quote(b"\x11" * 32, PARTNER, PARTNER, 9 * 10**16, 10**16, 86400, 1_900_000_000, 785)
ATT = Attestation(T.order_id, "0x17aB047eaA3a24cF2c3683ebdf6E18FA98eF10d4", *REPORT, True, 0, 1_900_000_000)
SETTLEMENT = Settlement(T.order_id, 3 * 10**16, False, 1_900_000_000)
SIG, CID = b"\x1b" * 65, b"\xc1" * 32
P, PQ = codec.pack_order(T.order), codec.pack_quote(QUOTE)  # what the book takes
B = BOOK_V2

# (request, web3 function, its arguments, value)
CASES: list[tuple[Callable[[], TxRequest], str, list[Any], int]] = [
    (lambda: B.post(T.terms, T.spec, T.docs), "post", [T.terms, T.spec, T.docs], T.terms.price),
    (lambda: B.post_awarded(T.terms, T.spec, T.docs, QUOTE, SIG, CID), "postAwarded",
     [T.terms, T.spec, T.docs, PQ, SIG, CID], T.terms.price),
    (lambda: B.award(T, QUOTE, SIG, CID), "award", [P, T.spec, PQ, SIG, CID], 0),
    (lambda: B.cancel(T), "cancel", [P], 0),
    (lambda: B.confirm(T), "confirm", [P], 0),
    (lambda: B.dispute(T, CID, 10**17), "dispute", [P, CID], 10**17),
    (lambda: B.reject(T, CID), "reject", [P, CID], 0),
    (lambda: B.ship(T, *REPORT), "ship", [P, *REPORT], 0),
    (lambda: B.record_serials(T, CID), "recordSerials", [P, CID], 0),
    (lambda: B.pay_arbitration_fee(T, 10**17), "payArbitrationFee", [P], 10**17),
    (lambda: B.invalidate_quote_nonces(3, 0b101), "invalidateQuoteNonces", [3, 0b101], 0),
    (lambda: B.finalize(T), "finalize", [P], 0),
    (lambda: B.refund(T), "refund", [P], 0),
    (lambda: B.claim_default(T), "claimDefault", [P], 0),
    (lambda: B.execute_ruling(T), "executeRuling", [P], 0),
    (lambda: B.settle_expired(T), "settleExpired", [P], 0),
    (lambda: B.settle(T, SETTLEMENT, SIG), "settle", [P, SETTLEMENT, SIG], 0),
    (lambda: B.submit_evidence(T, CID), "submitEvidence", [P, CID], 0),
    (lambda: B.collect_fees([T, T]), "collectFees", [[P] * 2], 0),
    (lambda: B.withdraw(TOKEN, BUYER), "withdraw", [TOKEN, BUYER], 0),
    (lambda: B.skim(TOKEN), "skim", [TOKEN], 0),
    (lambda: B.attest_by_sig(T, ATT, SIG), "attest", [P, T.spec, ATT, SIG], 0),
    (lambda: B.attest(T, *REPORT, False), "attest", [P, T.spec, *REPORT, False], 0),
    (lambda: B.cancel_attestation(T.order_id, 2), "cancelAttestation", [T.order_id, 2], 0),
    (lambda: B.allow_token(TOKEN), "allowToken", [TOKEN], 0),
    (lambda: B.delist_token(TOKEN), "delistToken", [TOKEN], 0),
    (lambda: B.set_fee(100, BUYER), "setFee", [100, BUYER], 0),
    (lambda: B.set_parameters(86400, 30 * 86400), "setParameters", [86400, 30 * 86400], 0),
    (B.pause, "pause", [], 0),
    (B.unpause, "unpause", [], 0),
]


@pytest.mark.parametrize(("build", "function", "args", "value"), CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_each_write_encodes_as_web3_does(build: Callable[[], TxRequest], function: str, args: list[Any],
                                         value: int) -> None:
    request = build()
    assert request.to == BOOK and request.value == value
    assert request.data == bytes.fromhex(B.contract.encode_abi(function, args=args)[2:])


def test_every_write_of_the_abi_has_a_builder() -> None:
    """No state-changing function of the book is left without a request (the ERC-792 callback, the registry's
    setPartnerWord and AccessManaged's setAuthority are not the clients' to send)."""
    writes = {i["name"] for i in ABI if i["type"] == "function" and i["stateMutability"] in ("nonpayable", "payable")}
    assert writes - {c[1] for c in CASES} == {"rule", "setAuthority", "setPartnerWord"}


def test_an_erc20_post_sends_no_eth() -> None:
    assert escrow_value(T.terms._replace(token=TOKEN)) == 0 and B.post(T.terms._replace(token=TOKEN), T.spec,
                                                                       T.docs).value == 0


def test_the_views_it_calls_are_in_the_abi() -> None:
    """Each view's calldata is web3's (the overloaded NoncesKeyed ``nonces`` by its signature)."""
    calls = {"recordHead": [T.order_id], "genesis": [T.order_id], "arbitration": [T.order_id], "rejectWindow": [],
             "paused": [], "feeRecipient": [], "liability": [TOKEN], "quoteNonceBitmap": [PARTNER, 3],
             "quoteDigest": [QUOTE], "attestationDigest": [ATT], "settlementDigest": [SETTLEMENT], "registry": [],
             "orderHash": [T.order_id], "feeBps": [], "disputeTimeout": [], "tokenAllowed": [TOKEN],
             "credits": [BUYER, TOKEN], "eip712Domain": [], "FEE_RESPONSE_WINDOW": []}
    for name, args in calls.items():
        assert B._views[name].calldata(args) == bytes.fromhex(B.contract.encode_abi(name, args=args)[2:]), name
    keyed = B._views["nonces(address,uint192)"].calldata([BUYER, T.order_id])
    assert keyed == bytes.fromhex(B.contract.get_function_by_signature("nonces(address,uint192)")(
        BUYER, T.order_id)._encode_transaction_data()[2:])
