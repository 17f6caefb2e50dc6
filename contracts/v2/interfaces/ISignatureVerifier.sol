// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Attestation, Quote, Settlement} from "../Types.sol";

/// @title ISignatureVerifier
/// @notice EIP-712 signed quotes (unordered nonce bitmap), attestations (nonces keyed per order) and
/// settlements, by ECDSA or ERC-1271.
interface ISignatureVerifier {
    /// @notice Emitted when `partner` cancelled the quote nonces in `mask` of word `wordPos`.
    event QuoteNoncesInvalidated(address indexed partner, uint256 indexed wordPos, uint256 mask);
    /// @notice Emitted when `inspector` used its attestation nonce `nonce` of order `orderId` unsigned.
    event AttestationCancelled(address indexed inspector, uint256 indexed orderId, uint64 nonce);

    /// @notice Thrown when a signature is not the named signer's.
    error InvalidSignature(address signer);
    /// @notice Thrown when a signed message is past its expiry or deadline.
    error SignatureExpired(uint256 deadline);
    /// @notice Thrown when a quote's nonce was cancelled (an award reads the bitmap, never writes it).
    error QuoteNonceUsed(address partner, uint256 nonce);
    /// @notice Thrown when an order id does not fit a NoncesKeyed key.
    error OrderIdTooLarge(uint256 orderId);

    /// @notice Cancels the caller's quote nonces `wordPos * 256 + i` for every bit `i` set in `mask` (nonce 0
    /// is never cancelled: a quote with nonce 0 lives until its expiry).
    /// @param wordPos The bitmap word.
    /// @param mask The bits to set.
    function invalidateQuoteNonces(uint256 wordPos, uint256 mask) external;

    /// @notice Uses the caller's attestation nonce `nonce` of order `orderId`, so a signature carrying it can
    /// never be relayed.
    /// @param orderId The order (the nonce key).
    /// @param nonce The caller's current nonce for that order.
    function cancelAttestation(uint256 orderId, uint64 nonce) external;

    /// @notice Bitmap word `wordPos` of `partner`'s cancelled quote nonces.
    /// @return The word.
    function quoteNonceBitmap(address partner, uint256 wordPos) external view returns (uint256);

    /// @notice EIP-712 digest a partner signs for `quote`.
    /// @return The digest.
    function quoteDigest(Quote calldata quote) external view returns (bytes32);

    /// @notice EIP-712 digest an inspector signs for `att`.
    /// @return The digest.
    function attestationDigest(Attestation calldata att) external view returns (bytes32);

    /// @notice EIP-712 digest a party signs for `settlement`.
    /// @return The digest.
    function settlementDigest(Settlement calldata settlement) external view returns (bytes32);
}
