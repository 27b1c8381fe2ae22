// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Base} from "./Base.sol";
import {ReenteringToken, FeeToken, ReenteringSeller, RefusingBuyer, PlainToken, Owners} from "./Attackers.sol";
import {CascadeMarket, IRegistryOwner} from "../../contracts/CascadeMarket.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// The market contract: sales in a token and in ether with exact balances (fuzzed prices and
/// royalties), refunds, double spends, reentrancy, and every bad input refused with its error.
contract CascadeMarketTest is Base {
    CascadeMarket market;
    PlainToken token;
    Owners registry;
    address seller = address(0x5E11);
    address buyer = address(0xB0B);
    address owner = address(0x0A4E);
    bytes20 constant IH = bytes20(hex"1111111111111111111111111111111111111111");
    bytes32 constant COMMIT = keccak256("commitment");
    bytes32 constant KEY = keccak256("buyer x25519 key");

    function setUp() public {
        registry = new Owners();
        market = new CascadeMarket(IRegistryOwner(address(registry)));
        token = new PlainToken(address(this), 10 ** 30);
        registry.set(IH, owner);
    }

    function envelope() internal pure returns (bytes memory e) {
        e = new bytes(80);
        e[0] = 0x01;
    }

    function listAs(address who, address tok, uint256 price, uint16 bps, uint32 secs) internal returns (uint256 id) {
        vm.prank(who);
        id = market.list(IH, COMMIT, tok, price, bps, secs, '{"name":"x"}');
    }

    function buyToken(address who, uint256 id, uint256 price) internal returns (uint256 orderId) {
        token.transfer(who, price);
        vm.startPrank(who);
        token.approve(address(market), price);
        orderId = market.buy(id, address(token), price, KEY);
        vm.stopPrank();
    }

    function testFuzz_tokenSalePaysSellerAndRoyaltyExactly(uint256 price, uint16 bps) public {
        price = bound(price, 1, 10 ** 27);
        bps = uint16(bound(bps, 0, market.MAX_ROYALTY_BPS()));
        uint256 id = listAs(seller, address(token), price, bps, 3600);
        uint256 orderId = buyToken(buyer, id, price);
        assertEq(token.balanceOf(address(market)), price, "escrow holds the price");
        assertEq(token.balanceOf(buyer), 0, "buyer paid");
        vm.prank(seller);
        market.deliver(orderId, envelope());
        uint256 royalty = (price * bps) / 10_000;
        assertEq(token.balanceOf(seller), price - royalty, "seller gets price - royalty");
        assertEq(token.balanceOf(owner), royalty, "owner gets the royalty");
        assertEq(token.balanceOf(address(market)), 0, "escrow empty");
        assertEq(market.listingOf(id).sales, 1, "one sale");
        assertTrue(market.orderOf(orderId).state == CascadeMarket.State.Delivered, "delivered");
        assertTrue(market.orderOf(orderId).envelopeHash == keccak256(envelope()), "envelope hash kept");
    }

    function testFuzz_etherSaleAndRefund(uint96 price, uint16 bps, uint32 secs) public {
        vm.assume(price > 0);
        bps = uint16(bound(bps, 0, market.MAX_ROYALTY_BPS()));
        secs = uint32(bound(secs, 1, market.MAX_DELIVERY_SECONDS()));
        uint256 id = listAs(seller, address(0), price, bps, secs);
        vm.deal(buyer, uint256(price) * 2);
        vm.startPrank(buyer);
        uint256 first = market.buy{value: price}(id, address(0), price, KEY);
        uint256 second = market.buy{value: price}(id, address(0), price, KEY);
        vm.stopPrank();
        vm.prank(seller);
        market.deliver(first, envelope());
        uint256 royalty = (uint256(price) * bps) / 10_000;
        assertEq(seller.balance, price - royalty, "seller");
        assertEq(owner.balance, royalty, "owner");
        // The second is not delivered: refundable only after its deadline, by anyone, to the buyer.
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.DeadlineNotPassed.selector, second, uint64(block.timestamp + secs)));
        market.refund(second);
        vm.warp(block.timestamp + secs + 1);
        vm.prank(seller);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.DeadlinePassed.selector, second, uint64(block.timestamp - 1)));
        market.deliver(second, envelope());
        market.refund(second);
        assertEq(buyer.balance, price, "buyer refunded");
        assertEq(address(market).balance, 0, "escrow empty");
    }

    function test_noDoubleSpend() public {
        uint256 id = listAs(seller, address(token), 1000, 0, 60);
        uint256 orderId = buyToken(buyer, id, 1000);
        vm.startPrank(seller);
        market.deliver(orderId, envelope());
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NotPaid.selector, orderId, CascadeMarket.State.Delivered));
        market.deliver(orderId, envelope());
        vm.stopPrank();
        vm.warp(block.timestamp + 61);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NotPaid.selector, orderId, CascadeMarket.State.Delivered));
        market.refund(orderId);
        uint256 other = buyToken(buyer, id, 1000);
        vm.warp(block.timestamp + 61);
        market.refund(other);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NotPaid.selector, other, CascadeMarket.State.Refunded));
        market.refund(other);
        assertEq(token.balanceOf(buyer), 1000, "refunded once");
        assertEq(token.balanceOf(seller), 1000, "paid once");
    }

    function test_reentrantSellerIsPaidOnceAndItsEtherWaits() public {
        ReenteringSeller evil = new ReenteringSeller(market);
        vm.prank(address(evil));
        uint256 id = market.list(IH, COMMIT, address(0), 1 ether, 0, 60, "");
        vm.deal(buyer, 2 ether);
        vm.startPrank(buyer);
        uint256 a = market.buy{value: 1 ether}(id, address(0), 1 ether, KEY);
        uint256 b = market.buy{value: 1 ether}(id, address(0), 1 ether, KEY);
        vm.stopPrank();
        // Its receive() tries to deliver b again from inside a's payment: the guard stops it, so the
        // push fails and the ether is owed to it instead; b stays paid and undelivered.
        evil.arm(b);
        evil.deliver(a);
        assertEq(address(evil).balance, 0, "nothing pushed");
        assertEq(market.owed(address(evil)), 1 ether, "owed once");
        assertTrue(market.orderOf(b).state == CascadeMarket.State.Paid, "b untouched");
        evil.disarm();
        evil.withdraw();
        assertEq(address(evil).balance, 1 ether, "withdrawn");
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NothingOwed.selector, address(evil)));
        evil.withdraw();
    }

    function test_reentrantTokenCannotBuyTwiceOrRefundInside() public {
        ReenteringToken evil = new ReenteringToken(market);
        uint256 id = listAs(seller, address(evil), 100, 0, 60);
        evil.mint(buyer, 1000);
        evil.arm(id);
        vm.prank(buyer);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        market.buy(id, address(evil), 100, KEY);
        assertEq(market.orderCount(), 0, "no order");
        assertEq(evil.balanceOf(address(market)), 0, "nothing held");
    }

    function test_feeOnTransferTokenRefused() public {
        FeeToken fee = new FeeToken();
        uint256 id = listAs(seller, address(fee), 100, 0, 60);
        fee.mint(buyer, 1000);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.WrongValue.selector, 100, 99));
        market.buy(id, address(fee), 100, KEY);
    }

    function test_refusingBuyerGetsItsRefundOwed() public {
        RefusingBuyer rb = new RefusingBuyer(market);
        uint256 id = listAs(seller, address(0), 5, 0, 60);
        vm.deal(address(rb), 5);
        uint256 orderId = rb.buy(id, 5, KEY);
        vm.warp(block.timestamp + 61);
        market.refund(orderId);
        assertEq(market.owed(address(rb)), 5, "owed to the buyer");
    }

    function test_badInputsChangeNothing() public {
        vm.startPrank(seller);
        vm.expectRevert(CascadeMarket.ZeroPrice.selector);
        market.list(IH, COMMIT, address(token), 0, 0, 60, "");
        vm.expectRevert(CascadeMarket.EmptyInfoHash.selector);
        market.list(bytes20(0), COMMIT, address(token), 1, 0, 60, "");
        vm.expectRevert(CascadeMarket.EmptyCommitment.selector);
        market.list(IH, bytes32(0), address(token), 1, 0, 60, "");
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.BadDeliveryTime.selector, 0));
        market.list(IH, COMMIT, address(token), 1, 0, 0, "");
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.BadRoyalty.selector, 5001, 0));
        market.list(IH, COMMIT, address(token), 1, 5001, 60, "");
        vm.stopPrank();
        assertEq(market.listingCount(), 0, "no listing made");

        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.UnknownListing.selector, 7));
        market.buy(7, address(token), 1, KEY);
        uint256 id = listAs(seller, address(token), 10, 0, 60);
        token.transfer(buyer, 10);
        vm.startPrank(buyer);
        token.approve(address(market), 10);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.WrongToken.selector, address(token), address(0)));
        market.buy(id, address(0), 10, KEY);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.WrongPrice.selector, 10, 9));
        market.buy(id, address(token), 9, KEY);
        vm.expectRevert(CascadeMarket.BadBuyerKey.selector);
        market.buy(id, address(token), 10, bytes32(0));
        vm.deal(buyer, 1);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.WrongValue.selector, 0, 1));
        market.buy{value: 1}(id, address(token), 10, KEY);
        uint256 orderId = market.buy(id, address(token), 10, KEY);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NotSeller.selector, id, buyer));
        market.deliver(orderId, envelope());
        vm.stopPrank();
        vm.startPrank(seller);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.BadEnvelope.selector, 79));
        market.deliver(orderId, new bytes(79));
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.UnknownOrder.selector, 9));
        market.deliver(9, envelope());
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.UnknownOrder.selector, 9));
        market.refund(9);
        assertEq(market.orderCount(), 1, "one order");
        assertEq(token.balanceOf(address(market)), 10, "escrow holds one price");
    }

    function test_priceChangeDelistAndOwnersRoyalty() public {
        uint256 id = listAs(seller, address(token), 10, 0, 60);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NotSeller.selector, id, buyer));
        vm.prank(buyer);
        market.setPrice(id, 1);
        vm.prank(seller);
        market.setPrice(id, 20);
        assertEq(market.listingOf(id).price, 20, "new price");
        vm.prank(seller);
        vm.expectRevert(CascadeMarket.ZeroPrice.selector);
        market.setPrice(id, 0);
        // A buyer who saw the old price is refused, not charged the new one.
        token.transfer(buyer, 20);
        vm.startPrank(buyer);
        token.approve(address(market), 20);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.WrongPrice.selector, 20, 10));
        market.buy(id, address(token), 10, KEY);
        vm.stopPrank();
        vm.prank(seller);
        market.delist(id);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NotListed.selector, id));
        market.buy(id, address(token), 20, KEY);
        vm.prank(seller);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NotListed.selector, id));
        market.delist(id);

        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.NotOwner.selector, IH, seller));
        vm.prank(seller);
        market.setRoyalty(IH, 1000);
        vm.prank(owner);
        market.setRoyalty(IH, 1000);
        vm.expectRevert(abi.encodeWithSelector(CascadeMarket.BadRoyalty.selector, 500, 1000));
        listAs(seller, address(token), 10, 500, 60);
        listAs(seller, address(token), 10, 1000, 60);
    }

    function test_sellerWhoOwnsTheShareKeepsAll() public {
        vm.prank(owner);
        uint256 id = market.list(IH, COMMIT, address(token), 1000, 2500, 60, "");
        uint256 orderId = buyToken(buyer, id, 1000);
        assertEq(market.orderOf(orderId).royalty, 0, "no royalty to oneself");
        vm.prank(owner);
        market.deliver(orderId, envelope());
        assertEq(token.balanceOf(owner), 1000, "all to the owner-seller");
    }
}
