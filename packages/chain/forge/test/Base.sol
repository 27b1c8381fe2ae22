// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The few forge cheatcodes these tests use (forge-std's Vm, vendored: forge cannot fetch forge-std here).
interface Vm {
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address who, uint256 amount) external;
    function warp(uint256 timestamp) external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 selector) external;
    function expectRevert() external;
    function assume(bool condition) external;
    function label(address account, string calldata name) external;
}

/// A tiny forge-std Test: the cheatcode handle, assertions that revert with what differed, bound().
abstract contract Base {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error Unequal(string what, uint256 got, uint256 want);
    error UnequalAddress(string what, address got, address want);
    error NotTrue(string what);

    function assertEq(uint256 got, uint256 want, string memory what) internal pure {
        if (got != want) revert Unequal(what, got, want);
    }

    function assertEq(address got, address want, string memory what) internal pure {
        if (got != want) revert UnequalAddress(what, got, want);
    }

    function assertTrue(bool ok, string memory what) internal pure {
        if (!ok) revert NotTrue(what);
    }

    /// x mapped into [lo, hi] (forge-std's bound, without its logging).
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (hi <= lo) return lo;
        return lo + (x % (hi - lo + 1));
    }
}
