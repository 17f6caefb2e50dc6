// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @notice Test-only re-implementation of OpenZeppelin 4's `Escrow` (removed in OZ 5), as a gas baseline.
contract OZ4Escrow is Ownable {
    using Address for address payable;

    event Deposited(address indexed payee, uint256 weiAmount);
    event Withdrawn(address indexed payee, uint256 weiAmount);

    mapping(address => uint256) private _deposits;

    constructor() Ownable(msg.sender) {}

    function depositsOf(address payee) external view returns (uint256) {
        return _deposits[payee];
    }

    function deposit(address payee) external payable onlyOwner {
        _deposits[payee] += msg.value;
        emit Deposited(payee, msg.value);
    }

    function withdraw(address payable payee) external onlyOwner {
        uint256 payment = _deposits[payee];
        _deposits[payee] = 0;
        payee.sendValue(payment);
        emit Withdrawn(payee, payment);
    }
}
