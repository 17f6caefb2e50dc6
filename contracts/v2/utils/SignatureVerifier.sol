// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {NoncesKeyed} from "@openzeppelin/contracts/utils/NoncesKeyed.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {ISignatureVerifier} from "../interfaces/ISignatureVerifier.sol";
import {Attestation, Quote, Settlement} from "../Types.sol";

/// @title SignatureVerifier
/// @notice EIP-712 quotes, attestations and settlements, signed by ECDSA or ERC-1271 (OpenZeppelin
/// `SignatureChecker`). A quote is single-use by what it binds: it names its terms, the terms name one order
/// id, and an order is awarded once. Its nonce is a cancellation handle in a Permit2-style bitmap (bit
/// `nonce & 255` of word `nonce >> 8`) that an award reads but never writes; nonce 0 is not cancellable.
/// Attestation nonces are OpenZeppelin `NoncesKeyed` with key = order id: a stale signature on one order
/// never blocks another's, and can be cancelled.
abstract contract SignatureVerifier is ISignatureVerifier, EIP712, NoncesKeyed {
    /// @notice EIP-712 type hash of `Quote`.
    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(bytes32 termsHash,address partner,address payee,uint96 price,uint96 bond,uint32 leadTime,"
        "uint40 expiry,uint256 nonce)"
    );
    /// @notice EIP-712 type hash of `Attestation`.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(uint256 orderId,address inspector,bytes32 reportCid,bytes32 reportHash,bool passed,"
        "uint64 nonce,uint40 deadline)"
    );
    /// @notice EIP-712 type hash of `Settlement`.
    bytes32 public constant SETTLEMENT_TYPEHASH =
        keccak256("Settlement(uint256 orderId,uint96 buyerShare,bool bondToBuyer,uint40 deadline)");

    mapping(address partner => mapping(uint256 wordPos => uint256 bits)) private _quoteNonces;

    /// @notice Sets the EIP-712 domain (chain id and address are added by OpenZeppelin `EIP712`).
    /// @param name EIP-712 domain name.
    /// @param version EIP-712 domain version.
    constructor(string memory name, string memory version) EIP712(name, version) {}

    /// @inheritdoc ISignatureVerifier
    function invalidateQuoteNonces(uint256 wordPos, uint256 mask) external {
        _quoteNonces[msg.sender][wordPos] |= mask;
        emit QuoteNoncesInvalidated(msg.sender, wordPos, mask);
    }

    /// @inheritdoc ISignatureVerifier
    function cancelAttestation(uint256 orderId, uint64 nonce) external {
        _useCheckedNonce(msg.sender, _nonceKey(orderId), nonce);
        emit AttestationCancelled(msg.sender, orderId, nonce);
    }

    /// @inheritdoc ISignatureVerifier
    function quoteNonceBitmap(address partner, uint256 wordPos) external view returns (uint256) {
        return _quoteNonces[partner][wordPos];
    }

    /// @inheritdoc ISignatureVerifier
    function quoteDigest(Quote calldata quote) external view returns (bytes32) {
        return _hashTypedDataV4(_quoteStructHash(quote)); // decoded: a dirty word reverts
    }

    /// @inheritdoc ISignatureVerifier
    function attestationDigest(Attestation calldata att) external view returns (bytes32) {
        return _hashTypedDataV4(_attestationStructHash(att));
    }

    /// @inheritdoc ISignatureVerifier
    function settlementDigest(Settlement calldata settlement) external view returns (bytes32) {
        return _hashTypedDataV4(_settlementStructHash(settlement));
    }

    /// @dev Reverts unless quote `q` is unexpired, its nonce not cancelled and `signature` is `q.partner`'s;
    /// returns the quote's EIP-712 struct hash (the award's evidence). Nothing is written: the caller awards
    /// the one order the quote's terms name, which happens once (contracts/v2/README.md, gas).
    /// `q` is clean (unpacked by OrderHashes.unpackQuote, its termsHash the awarded order's).
    function _useQuote(Quote memory q, bytes calldata signature) internal view returns (bytes32 structHash) {
        if (block.timestamp > q.expiry) revert SignatureExpired(q.expiry);
        address partner = q.partner;
        uint256 nonce = q.nonce;
        // Nonce 0 opts out of cancellation (the quote lives until its expiry) and skips the cold bitmap read.
        if (nonce != 0 && _quoteNonces[partner][nonce >> 8] & (1 << (nonce & 0xff)) != 0) {
            revert QuoteNonceUsed(partner, nonce);
        }
        structHash = _quoteStructHash(q);
        _checkSignature(partner, _hashTypedDataV4(structHash), signature);
    }

    /// @dev Reverts unless `att` is unexpired, carries `att.inspector`'s current nonce for its order (then
    /// used) and `signature` is the inspector's.
    function _useAttestation(Attestation calldata att, bytes calldata signature) internal {
        if (block.timestamp > att.deadline) revert SignatureExpired(att.deadline);
        _useCheckedNonce(att.inspector, _nonceKey(att.orderId), att.nonce);
        _checkSignature(att.inspector, _hashTypedDataV4(_attestationStructHash(att)), signature);
    }

    /// @dev Reverts unless `settlement` is unexpired and `signature` is `signer`'s. No nonce: a settlement
    /// names its order, which it resolves.
    function _checkSettlement(Settlement calldata settlement, address signer, bytes calldata signature)
        internal
        view
    {
        if (block.timestamp > settlement.deadline) revert SignatureExpired(settlement.deadline);
        _checkSignature(signer, _hashTypedDataV4(_settlementStructHash(settlement)), signature);
    }

    /// @dev ECDSA first, ERC-1271 only when it does not recover the signer: SignatureChecker's code-size test
    /// comes first and costs a cold account access (2,600 gas) on every EOA's signature. A recovered ECDSA
    /// signer is the key holder whether or not the address has code (EIP-7702).
    function _checkSignature(address signer, bytes32 digest, bytes calldata signature) private view {
        // slither-disable-next-line unused-return — the error argument only details a failure we fall through
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (!SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature)) {
            revert InvalidSignature(signer);
        }
    }

    function _nonceKey(uint256 orderId) private pure returns (uint192) {
        if (orderId > type(uint192).max) revert OrderIdTooLarge(orderId);
        return uint192(orderId);
    }

    /// @dev keccak256(abi.encode(QUOTE_TYPEHASH, quote)) of a memory quote (its 8 fields as clean words, which is
    /// their ABI encoding).
    function _quoteStructHash(Quote memory q) private pure returns (bytes32 result) {
        bytes32 typeHash = QUOTE_TYPEHASH;
        // Assembly: hashes at the free memory pointer (scratch, not allocated) without re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            mcopy(add(ptr, 0x20), q, 0x100)
            result := keccak256(ptr, 0x120)
        }
    }

    function _attestationStructHash(Attestation calldata a) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH, a.orderId, a.inspector, a.reportCid, a.reportHash, a.passed, a.nonce, a.deadline
            )
        );
    }

    function _settlementStructHash(Settlement calldata s) private pure returns (bytes32) {
        return keccak256(abi.encode(SETTLEMENT_TYPEHASH, s.orderId, s.buyerShare, s.bondToBuyer, s.deadline));
    }
}
