// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// The seeding reward token: a fixed supply minted once to `holder` (who funds the reward pool).
/// OpenZeppelin's ERC-20, nothing of our own.
contract CascadeToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("Cascade Seed", "SEED") {
        _mint(holder, supply);
    }
}
