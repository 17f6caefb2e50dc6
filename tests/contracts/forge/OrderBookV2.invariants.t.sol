// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

import {OrderBookV2} from "contracts/v2/OrderBookV2.sol";
import {PartnerRegistryV2} from "contracts/v2/PartnerRegistryV2.sol";
import {IPartnerRegistryV2} from "contracts/v2/interfaces/IPartnerRegistryV2.sol";
import {PartnerInfo, PartnerProfile} from "contracts/v2/Types.sol";
import {BrokenOrderBookV2} from "contracts/test/BrokenOrderBookV2.sol";
import {OrderBookV2Handler} from "./OrderBookV2Handler.sol";
import {CampaignToken} from "./utils/CampaignToken.sol";
import {Invariant} from "./utils/Invariant.sol";
import {TestArbitrator} from "./utils/TestArbitrator.sol";
import {VM, consoleLog} from "./utils/Vm.sol";

/// @notice The invariant campaign on OrderBookV2 + PartnerRegistryV2 (`make test-forge`): forge calls the
/// handler at random (runs x depth in foundry.toml) and checks `invariant_protocol` after every call.
abstract contract OrderBookV2Campaign is Invariant {
    uint64 internal constant GOVERNANCE = 1;
    uint64 internal constant GUARDIAN = 2;
    uint64 internal constant CERTIFIER = 3;
    uint32 internal constant GOVERNANCE_DELAY = 2 days;

    OrderBookV2Handler internal handler;
    OrderBookV2 internal book;
    PartnerRegistryV2 internal registry;
    CampaignToken internal token;

    function _deployBook(AccessManager manager, IPartnerRegistryV2 reg, address feeRecipient)
        internal
        virtual
        returns (OrderBookV2);

    function setUp() public {
        VM.warp(1_800_000_000);
        address gov = address(0x6000);
        address guardian = address(0x6001);
        address certifier = address(0x6002);
        AccessManager manager = new AccessManager(address(this));
        // the registry is bound to the book's address, the next CREATE after it
        address expectedBook = _createAddress(address(this), VM.getNonce(address(this)) + 1);
        registry = new PartnerRegistryV2(address(manager), expectedBook, 0.1 ether, 7 days);
        book = _deployBook(manager, registry, address(0xFEE0));
        require(address(book) == expectedBook, "book not at the address the registry expects");
        token = new CampaignToken();
        TestArbitrator arbitrator = new TestArbitrator();
        arbitrator.setCost(0.01 ether);

        _wire(manager, address(book), GOVERNANCE, _sels4(book.allowToken.selector, book.setFee.selector,
            book.setParameters.selector, book.unpause.selector));
        _wire(manager, address(book), GUARDIAN, _sels2(book.pause.selector, book.delistToken.selector));
        _wire(manager, address(registry), GOVERNANCE, _sels1(registry.reinstate.selector));
        _wire(manager, address(registry), GUARDIAN, _sels1(registry.suspend.selector));
        _wire(manager, address(registry), CERTIFIER, _sels4(registry.vet.selector, registry.unvet.selector,
            registry.accreditInspector.selector, registry.revokeInspector.selector));
        manager.grantRole(GOVERNANCE, address(this), 0);
        book.allowToken(address(token));
        manager.revokeRole(GOVERNANCE, address(this));
        manager.grantRole(GOVERNANCE, gov, GOVERNANCE_DELAY);
        manager.grantRole(GUARDIAN, guardian, 0);
        manager.grantRole(CERTIFIER, certifier, 0);

        handler = new OrderBookV2Handler(book, registry, manager, arbitrator, token, gov, guardian, certifier);
        uint256 n = handler.accountCount();
        for (uint256 i; i < n; ++i) {
            address a = handler.accounts(i);
            if (a.code.length == 0) VM.deal(a, 1_000_000 ether);
            token.mint(a, 1_000_000 ether);
            VM.prank(a);
            token.approve(address(book), type(uint256).max);
        }
        for (uint256 i; i < 3; ++i) {
            address p = handler.partner(i);
            PartnerProfile memory profile = PartnerProfile(0xFF, 0xFF, bytes8("u4pruyd"), 100, keccak256("profile"));
            VM.prank(p);
            registry.register{value: 5 ether}(profile, abi.encodePacked(bytes1(0x01), keccak256(abi.encode(p))));
            bytes32 seen = registry.profileHash(p);
            VM.prank(certifier);
            registry.vet(p, seen, keccak256("vetted"));
        }
        // inspector 0: named and accredited; 1: named only; 2: accredited only
        address[2] memory accredited = [handler.accounts(2), handler.accounts(8)];
        for (uint256 i; i < 2; ++i) {
            VM.prank(certifier);
            registry.accreditInspector(accredited[i], uint40(block.timestamp + 3650 days), keccak256("accredited"));
        }
        _target(address(handler));
    }

    /// @notice Everything the campaign checks after every call; each property reverts with its own name.
    function invariant_protocol() public view {
        if (handler.violations() != 0) revert(string.concat("handler: ", handler.firstViolation()));
        OrderBookV2Handler.Totals memory t = handler.totals();
        require(t.creditsMatchGhost, "a credit differs from the ghost ledger");
        // The book holds exactly every credit plus what live orders escrow: never less (solvency), never more
        // (nothing stranded); ERC-20 liability tracks the token balance.
        uint256[2] memory balances = [address(book).balance, token.balanceOf(address(book))];
        for (uint256 k; k < 2; ++k) {
            require(balances[k] >= t.credits[k] + t.escrow[k], "insolvent: balance below credits + escrow");
            require(balances[k] == t.credits[k] + t.escrow[k], "balance != credits + escrow (value stranded)");
        }
        require(balances[1] == book.liability(address(token)), "token balance != liability");
        require(handler.orderCount() == handler.successes("post") + handler.successes("postAwarded"),
            "orders differ from the model's posts");
        require(t.terminalOnce, "an order settled twice, or its settlement and status disagree");
        uint256 bonds;
        for (uint256 i; i < 3; ++i) {
            address p = handler.partner(i);
            PartnerInfo memory info = registry.partnerInfo(p);
            require(info.locked == handler.ghostLocked(p), "locked bond differs from the ghost");
            require(info.locked == t.lockedByOrders[i], "locked bond != sum over the partner's open orders");
            require(info.locked <= info.bond, "locked above the bond");
            uint256[5] memory g = handler.ghostReputation(p);
            require(info.completed == g[0] && info.onTime == g[1], "completions differ from the ghost");
            require(info.failedQa == g[2], "failed QA differs from the ghost (counted twice?)");
            require(info.disputesLost == g[3] && info.abandoned == g[4], "dispute/abandon counts differ");
            bonds += info.bond;
        }
        require(address(registry).balance == bonds, "registry balance != bonds");
    }

    function afterInvariant() public view {
        string[19] memory names = ["post", "postAwarded", "award", "cancel", "confirm", "dispute", "reject", "ship",
            "recordSerials", "payArbitrationFee", "finalize", "collectFees", "refund", "claimDefault", "rule",
            "executeRuling", "settleExpired", "settle", "attest"];
        string memory line = "";
        for (uint256 i; i < names.length; ++i) {
            line = string.concat(line, names[i], "=", VM.toString(handler.successes(bytes32(bytes(names[i])))), " ");
        }
        line = string.concat(line, "withdraw=", VM.toString(handler.successes("withdraw")), " execute=",
            VM.toString(handler.successes("execute")), " direct=", VM.toString(handler.successes("callRestricted")));
        consoleLog(line);
    }

    function _wire(AccessManager manager, address target, uint64 role, bytes4[] memory sels) internal {
        manager.setTargetFunctionRole(target, sels, role);
    }

    function _sels1(bytes4 a) internal pure returns (bytes4[] memory s) {
        s = new bytes4[](1);
        s[0] = a;
    }

    function _sels2(bytes4 a, bytes4 b) internal pure returns (bytes4[] memory s) {
        s = new bytes4[](2);
        (s[0], s[1]) = (a, b);
    }

    function _sels4(bytes4 a, bytes4 b, bytes4 c, bytes4 d) internal pure returns (bytes4[] memory s) {
        s = new bytes4[](4);
        (s[0], s[1], s[2], s[3]) = (a, b, c, d);
    }

    /// @dev CREATE address for nonces 1..127 (RLP of [sender, nonce]).
    function _createAddress(address sender, uint256 nonce) internal pure returns (address) {
        require(nonce > 0 && nonce < 128, "nonce out of range");
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes2(0xd694), sender, uint8(nonce))))));
    }
}

/// @notice The campaign on the real book: 0 violations expected.
contract OrderBookV2Invariants is OrderBookV2Campaign {
    function _deployBook(AccessManager manager, IPartnerRegistryV2 reg, address feeRecipient)
        internal
        override
        returns (OrderBookV2)
    {
        return new OrderBookV2(address(manager), reg, feeRecipient);
    }
}

/// @notice The same campaign on the deliberately broken book (tools/forge_campaign.py expects
/// forge to fail it).
contract BrokenOrderBookV2Invariants is OrderBookV2Campaign {
    function _deployBook(AccessManager manager, IPartnerRegistryV2 reg, address feeRecipient)
        internal
        override
        returns (OrderBookV2)
    {
        return new BrokenOrderBookV2(address(manager), reg, feeRecipient);
    }
}

/// @notice The handler's deep paths walked on purpose (the campaign reaches them only now and then): an
/// order disputed, the fee matched, ruled and executed; another shipped and finalized, then withdrawn. The
/// model must agree with the book at every step.
contract OrderBookV2HandlerPaths is OrderBookV2Invariants {
    function test_dispute_ruling_and_completion_paths() public {
        _until("post", 0);
        _until("award", 1);
        _until("ship", 2);
        _until("dispute", 3);
        _until("payArbitrationFee", 4);
        _until("rule", 5);
        _until("executeRuling", 6);
        _until("postAwarded", 7);
        _until("ship", 8);
        VM.warp(block.timestamp + 6 days);
        _until("finalize", 9);
        _until("collectFees", 11);
        _until("withdraw", 10);
        invariant_protocol();
    }

    /// @dev Calls the handler's `action` with fresh seeds until it succeeds once (a wrong actor or a refused
    /// quote is a legitimate failure), on the latest order.
    function _until(bytes32 action, uint256 salt) internal {
        uint256 before = handler.successes(action);
        for (uint256 i; i < 64 && handler.successes(action) == before; ++i) {
            uint256 seed = (uint256(keccak256(abi.encode(salt, i))) / 1024) * 1024 + handler.orderCount() - 1;
            if (handler.orderCount() == 0) seed = uint256(keccak256(abi.encode(salt, i)));
            if (action == "post") handler.post(seed, 1 ether, 0.5 ether, 0, false);
            else if (action == "postAwarded") handler.postAwarded(seed, 2 ether, 0.1 ether, 0, true, seed >> 3);
            else if (action == "award") handler.award(seed, seed >> 3);
            else if (action == "ship") handler.ship(seed);
            else if (action == "dispute") handler.dispute(seed, true);
            else if (action == "payArbitrationFee") handler.payArbitrationFee(seed);
            else if (action == "rule") handler.rule(seed, 71, false);
            else if (action == "executeRuling") handler.executeRuling(seed);
            else if (action == "finalize") handler.finalize(seed);
            else if (action == "collectFees") handler.collectFees(seed);
            else if (action == "withdraw") handler.withdraw(seed, false);
        }
        require(handler.successes(action) == before + 1, string.concat("never succeeded: ", string(abi.encode(action))));
        require(handler.violations() == 0, handler.firstViolation());
    }
}
