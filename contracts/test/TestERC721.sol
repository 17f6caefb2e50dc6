// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @notice Test-only OpenZeppelin ERC-721 with a public mint: gas baseline for "one token per order".
contract TestERC721 is ERC721 {
    uint256 private _next;

    constructor() ERC721("Test Part", "PART") {}

    /// @notice Mints the next token id to `to` (anyone may call: test only).
    function mint(address to) external returns (uint256 tokenId) {
        tokenId = ++_next;
        _mint(to, tokenId);
    }
}
