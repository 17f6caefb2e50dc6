// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {Attestation} from "../Types.sol";

/// @title AttestationVerifier
/// @notice Verifies EIP-712 signed attestations (modelled on EAS's `EIP1271Verifier`): deadline, signer
/// authorization, sequential nonce, then an ECDSA or ERC-1271 signature (OpenZeppelin `SignatureChecker`).
abstract contract AttestationVerifier is IAttestationVerifier, EIP712, Nonces {
    /// @notice EIP-712 type hash of `Attestation`.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(uint256 orderId,address inspector,bytes32 reportCid,bytes32 reportHash,bool passed,"
        "uint256 nonce,uint256 deadline)"
    );

    /// @notice Sets the EIP-712 domain (chain id and address are added by OpenZeppelin `EIP712`).
    /// @param name EIP-712 domain name.
    /// @param version EIP-712 domain version.
    constructor(string memory name, string memory version) EIP712(name, version) {}

    /// @inheritdoc IAttestationVerifier
    function attestationDigest(Attestation calldata att) external view returns (bytes32) {
        return _attestationDigest(att);
    }

    /// @dev Reverts unless `signature` is `att.inspector`'s, unexpired, with its current nonce (consumed)
    /// and `att.inspector` passes `_checkSigner`.
    function _verifyAttestation(Attestation calldata att, bytes calldata signature) internal {
        if (block.timestamp > att.deadline) revert SignatureExpired(att.deadline);
        _checkSigner(att.inspector);
        _useCheckedNonce(att.inspector, att.nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(att.inspector, _attestationDigest(att), signature)) {
            revert InvalidSignature(att.inspector);
        }
    }

    /// @dev Reverts unless `signer` may sign attestations.
    function _checkSigner(address signer) internal view virtual;

    function _attestationDigest(Attestation calldata att) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH,
                    att.orderId,
                    att.inspector,
                    att.reportCid,
                    att.reportHash,
                    att.passed,
                    att.nonce,
                    att.deadline
                )
            )
        );
    }
}
