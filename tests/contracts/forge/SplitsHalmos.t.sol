// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Splits} from "contracts/v2/libraries/Splits.sol";

/// @notice Symbolic proof of the settlement split (halmos runs `check_` functions over every input; forge
/// ignores them): every split that completes conserves value. Paths that revert move no value; that the
/// split does not revert on in-range input is fuzzed by SplitsProof. The rounding and ruling-share
/// properties, nonlinear, time out in the solvers and are fuzzed there too.
contract SplitsHalmos {
    function check_split_conserves_value(uint96 price, uint96 buyerShare, uint16 feeBps) external pure {
        if (buyerShare > price || feeBps > Splits.BPS) return;
        (uint96 toBuyer, uint96 toPayee, uint96 fee) = Splits.split(price, buyerShare, feeBps);
        assert(uint256(toBuyer) + toPayee + fee == price);
        assert(toBuyer == buyerShare);
        assert(fee <= price - buyerShare);
    }
}
