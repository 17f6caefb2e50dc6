// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Attestation} from "../Types.sol";

/// @title EIP-712 signed quality attestations, relayed by anyone.
/// @notice Type `Attestation(uint256 orderId,address inspector,bytes32 reportCid,bytes32 reportHash,bool passed,
/// uint256 nonce,uint256 deadline)`; `nonce` is the inspector's sequential nonce (`nonces`), signatures are
/// ECDSA or ERC-1271.
interface IAttestationVerifier {
    /// @notice Thrown when relaying a signed attestation after its deadline.
    error SignatureExpired(uint256 deadline);
    /// @notice Thrown when an attestation signature is not the inspector's.
    error InvalidSignature(address inspector);

    /// @notice EIP-712 digest an inspector signs for `att`.
    /// @param att The attestation.
    /// @return The digest.
    function attestationDigest(Attestation calldata att) external view returns (bytes32);
}
