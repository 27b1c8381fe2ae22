// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {CascadeMarket} from "../../contracts/CascadeMarket.sol";

bytes32 constant KEY = keccak256("buyer x25519 key");

/// A plain ERC-20 (the SEED token's shape) and the registry's ownerOf: the tests compile neither
/// CascadeToken nor ContentRegistry (its EIP-712 and ECDSA), so forge compiles less.
contract PlainToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("Seed", "SEED") {
        _mint(holder, supply);
    }
}

contract Owners {
    mapping(bytes20 => address) public ownerOf;

    function set(bytes20 infoHash, address owner) external {
        ownerOf[infoHash] = owner;
    }
}

/// An ERC-20 whose transferFrom tries to buy again from inside the market's buy.
contract ReenteringToken is ERC20 {
    CascadeMarket immutable market;
    uint256 listing;

    constructor(CascadeMarket m) ERC20("Evil", "EVIL") {
        market = m;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(uint256 listingId) external {
        listing = listingId;
    }

    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        if (listing != 0) market.buy(listing, address(this), 100, KEY);
        return super.transferFrom(from, to, amount);
    }

    function approve(address, uint256) public pure override returns (bool) {
        return true;
    }

    function allowance(address, address) public pure override returns (uint256) {
        return type(uint256).max;
    }
}

/// An ERC-20 that keeps 1% of every transfer: the escrow would hold less than the price.
contract FeeToken is ERC20 {
    constructor() ERC20("Fee", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function allowance(address, address) public pure override returns (uint256) {
        return type(uint256).max;
    }

    function _spendAllowance(address, address, uint256) internal pure override {}

    function _update(address from, address to, uint256 amount) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = amount / 100;
            super._update(from, address(0), fee);
            amount -= fee;
        }
        super._update(from, to, amount);
    }
}

/// A seller contract whose receive() delivers another order from inside its payment.
contract ReenteringSeller {
    CascadeMarket immutable market;
    uint256 target;

    constructor(CascadeMarket m) {
        market = m;
    }

    function arm(uint256 orderId) external {
        target = orderId;
    }

    function disarm() external {
        target = 0;
    }

    function deliver(uint256 orderId) external {
        market.deliver(orderId, new bytes(80));
    }

    function withdraw() external {
        market.withdraw();
    }

    receive() external payable {
        if (target != 0) market.deliver(target, new bytes(80));
    }
}

/// A buyer contract that takes no ether back.
contract RefusingBuyer {
    CascadeMarket immutable market;

    constructor(CascadeMarket m) {
        market = m;
    }

    function buy(uint256 listingId, uint256 price, bytes32 key) external returns (uint256) {
        return market.buy{value: price}(listingId, address(0), price, key);
    }
}
