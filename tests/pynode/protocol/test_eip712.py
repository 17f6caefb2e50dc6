"""The EIP-712 pieces without a chain: the domain as ERC-5267 returns it, sign and recover, the type string."""

from __future__ import annotations

import pytest
from eth_account import Account

from pynode.protocol.eip712 import (
    ATTESTATION_ABI_TYPE,
    ATTESTATION_TYPE,
    Domain,
    attestation_message,
    recover_attestation_signer,
)
from pynode.protocol.types import TERMINAL, PartnerFlags, Status, is_terminal

BOOK = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
INSPECTOR = Account.from_key(b"\x03" * 32)
ATTESTATION = (7, INSPECTOR.address, b"\x02" * 32, b"\x03" * 32, True, 0, 1_800_000_000)


@pytest.mark.parametrize("fields", [b"\x0f", "0x0f", 15])  # web3's bytes, brownie's HexString, an int
def test_the_domain_is_read_from_an_eip5267_answer(fields: object) -> None:
    answer = (fields, "fabmesh OrderBook", "1", 31337, BOOK.lower(), b"\0" * 32, [])
    assert Domain.from_eip5267(answer) == Domain("fabmesh OrderBook", "1", 31337, BOOK)


def test_a_domain_with_a_salt_is_refused() -> None:
    with pytest.raises(ValueError, match="expected name, version, chainId and verifyingContract only"):
        Domain.from_eip5267((b"\x1f", "fabmesh OrderBook", "1", 31337, BOOK, b"\x01" * 32, []))


def test_a_signature_recovers_under_its_domain_only() -> None:
    domain = Domain("fabmesh OrderBook", "1", 31337, BOOK)
    signature = Account.sign_message(attestation_message(domain, ATTESTATION), INSPECTOR.key).signature
    assert recover_attestation_signer(domain, ATTESTATION, signature) == INSPECTOR.address
    assert recover_attestation_signer(domain._replace(chain_id=1), ATTESTATION, signature) != INSPECTOR.address


def test_the_type_strings_come_from_one_field_list() -> None:
    assert ATTESTATION_TYPE == ("Attestation(uint256 orderId,address inspector,bytes32 reportCid,bytes32 reportHash,"
                                "bool passed,uint256 nonce,uint256 deadline)")
    assert ATTESTATION_ABI_TYPE == "(uint256,address,bytes32,bytes32,bool,uint256,uint256)"


def test_terminal_states_and_flags() -> None:
    assert {s for s in Status if is_terminal(s)} == TERMINAL == {Status.PAID, Status.RESOLVED, Status.REFUNDED,
                                                                   Status.CANCELLED}
    assert PartnerFlags.VETTED | PartnerFlags.REGISTERED == 3 and PartnerFlags(4) is PartnerFlags.SUSPENDED
