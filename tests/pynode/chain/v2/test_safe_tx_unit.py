"""SafeProposal: the safeTxHash against a published vector and against Safe.sol's own encoding written out here
with eth_abi, owners' signatures (real secp256k1), their packing order, and the proposal file's checks."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from pynode.chain.tx import TxRequest
from pynode.chain.v2.safe_tx import CALL, SAFE_TX_FIELDS, ZERO, SafeProposal, parse_safe_proposal
from pynode.core.errors import InputError

# Safe.sol 1.5.0's constants, copied from its source (contracts/Safe.sol)
DOMAIN_SEPARATOR_TYPEHASH = bytes.fromhex("47e79534a245952e8b16893a336b85a3d9ea9fa8c573f3d803afb92a79469218")
SAFE_TX_TYPEHASH = bytes.fromhex("bb8310d486368db6bd6f849402fdd73ad53d316b5a4b2644ad6efe0f941286d8")
SAFE = "0x" + "5a" * 20
TARGET = "0x" + "7e" * 20


def _owners(count: int = 3) -> list:
    return [Account.from_key(keccak(text=f"safe owner {i}")) for i in range(count)]


def _proposal(**fields) -> SafeProposal:
    values = {"safe": SAFE, "chain_id": 31337, "to": TARGET, "data": bytes.fromhex("deadbeef"), "nonce": 4,
              "label": "schedule setFee"} | fields
    return SafeProposal(**values)


def test_a_published_safe_transaction_hashes_to_its_safe_tx_hash() -> None:
    """An ERC-20 transfer by a Safe on chain 8453, nonce 11 (the vector of morpho-org/safe-tx-hash's test)."""
    data = bytes.fromhex("a9059cbb000000000000000000000000f057afeec22e220f47ad4220871364e9e828b2e9"
                         "00000000000000000000000000000000000000000001a784379d99db42000000")
    proposal = SafeProposal("0xcBa28b38103307Ec8dA98377ffF9816C164f9AFa", 8453,
                            "0xBAa5CC21fd487B8Fcc2F632f3F4E8D37262a0842", data, 11)
    signable = proposal.signable()
    assert signable.header.hex() == "837b1eb3bcc66a4b6bd9f0d8c876e31648b46ac2e66e4080ee93e97e51074cb9"
    assert signable.body.hex() == "18100568166f32d42c2c1d01c907dabc9bec58334a125da2a2a43742764183cd"
    assert proposal.hash().hex() == "1bf99e3cf2d2272960c8a02ca4163459ad240de7995bec237a886b84968a077c"


@pytest.mark.parametrize("value, operation, nonce", [(0, 0, 0), (10**18, 1, 7), ((1 << 256) - 1, 0, 2**64)])
def test_the_hash_is_safe_sols_encoding(value: int, operation: int, nonce: int) -> None:
    """getTransactionHash: keccak256(0x1901 | keccak(abi.encode(DOMAIN_TYPEHASH, chainId, safe)) |
    keccak(abi.encode(SAFE_TX_TYPEHASH, to, value, keccak(data), operation, 0, 0, 0, 0, 0, nonce)))."""
    proposal = _proposal(value=value, operation=operation, nonce=nonce)
    domain = keccak(encode(["bytes32", "uint256", "address"], [DOMAIN_SEPARATOR_TYPEHASH, 31337, SAFE]))
    struct = keccak(encode(["bytes32", "address", "uint256", "bytes32", "uint8", "uint256", "uint256", "uint256",
                            "address", "address", "uint256"],
                           [SAFE_TX_TYPEHASH, TARGET, value, keccak(proposal.data), operation, 0, 0, 0, ZERO, ZERO,
                            nonce]))
    assert proposal.hash() == keccak(b"\x19\x01" + domain + struct)
    type_string = "SafeTx(" + ",".join(f"{kind} {name}" for name, kind in SAFE_TX_FIELDS) + ")"
    assert keccak(text=type_string) == SAFE_TX_TYPEHASH
    assert keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)") == DOMAIN_SEPARATOR_TYPEHASH


def test_each_owner_signs_the_hash_itself_and_signatures_pack_by_ascending_owner() -> None:
    owners = _owners()
    proposal = _proposal()
    for owner in reversed(owners):
        proposal = proposal.signed_by(owner)
    proposal.check_signatures()
    packed = proposal.packed_signatures()
    assert len(packed) == 3 * 65
    chunks = [packed[i:i + 65] for i in range(0, len(packed), 65)]
    signers = [Account._recover_hash(proposal.hash(), signature=chunk) for chunk in chunks]  # the raw hash: EIP-712
    assert signers == sorted((o.address for o in owners), key=lambda a: int(a, 16))
    assert all(chunk[64] in (27, 28) for chunk in chunks)  # ECDSA over the hash, not eth_sign's v + 4


def test_a_request_becomes_a_call_proposal() -> None:
    proposal = SafeProposal.of_request(SAFE, 1, TxRequest(TARGET, b"\x01\x02", "schedule x", 5), nonce=3)
    assert (proposal.to, proposal.data, proposal.value, proposal.operation, proposal.nonce, proposal.label) == (
        SafeProposal(SAFE, 1, TARGET, b"\x01\x02", 3).to, b"\x01\x02", 5, CALL, 3, "schedule x")
    with pytest.raises(InputError, match="cannot create"):
        SafeProposal.of_request(SAFE, 1, TxRequest(None, b"\x60", "deploy"), nonce=0)


def test_the_file_round_trips_one_owner_at_a_time(tmp_path) -> None:
    first, second, _ = _owners()
    path = tmp_path / "proposal.json"
    path.write_bytes(_proposal().to_json())
    path.write_bytes(parse_safe_proposal(path.read_bytes()).signed_by(first).to_json())
    path.write_bytes(parse_safe_proposal(path.read_bytes()).signed_by(second).to_json())
    loaded = parse_safe_proposal(path.read_bytes())
    assert loaded == _proposal().signed_by(first).signed_by(second)
    assert set(loaded.signatures) == {first.address, second.address}


def _tampered(change) -> str:
    data = json.loads(_proposal().signed_by(_owners()[0]).to_json())
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(nonce="5"), "safe_tx_hash does not match"),
    (lambda d: d.update(nonce="5", safe_tx_hash=json.loads(_proposal(nonce=5).to_json())["safe_tx_hash"]),
     "was made by"),
    (lambda d: d["signatures"].update({_owners()[1].address: d["signatures"][_owners()[0].address]}), "was made by"),
    (lambda d: d["signatures"].update({_owners()[0].address: "0x" + "00" * 64}), "not 65 bytes"),
    (lambda d: d["signatures"].update({"bob": "0x" + "00" * 65}), "not an address"),
    (lambda d: d.update(value=12), "decimal string"),
    (lambda d: d.update(nonce=4), "decimal string"),
    (lambda d: d.update(chain_id=0), "chain_id must be an integer in"),
    (lambda d: d.update(operation=2), "operation must be 0"),
    (lambda d: d.update(data="beef"), "0x-prefixed"),
    (lambda d: d.pop("to"), "missing field 'to'"),
    (lambda d: d.update(extra=1), "unexpected field"),
    (lambda d: d.update(type="fabmesh/attestation"), "not a fabmesh/safe-proposal"),
    (lambda d: d.update(version=2), "unsupported version"),
    (lambda d: d.update(signatures=[]), "signatures must be an object"),
])
def test_a_bad_file_is_one_line(change, message) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_safe_proposal(_tampered(change))
    assert "\n" not in str(caught.value)


def test_a_malformed_signature_is_refused() -> None:
    proposal = _proposal(signatures={_owners()[0].address: b"\x00" * 64 + b"\x1b"})
    with pytest.raises(InputError, match="is malformed"):
        proposal.check_signatures()
