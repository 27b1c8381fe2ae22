// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

interface IRegistryOwner {
    function ownerOf(bytes20 infoHash) external view returns (address);
}

/// Sells access to a private share (issue 62, docs/market.md). A listing names the share (its
/// infohash and a commitment to its content key), the price in one token (an ERC-20, or ether as
/// address 0), an optional royalty to the share's registered owner in the ContentRegistry and how
/// long the seller has to deliver. `buy` holds the price in escrow with the buyer's X25519 key;
/// `deliver` (the seller) posts the key's envelope sealed to that key and releases the escrow to
/// the seller and the royalty holder; after the deadline with nothing delivered, `refund` returns
/// the price to the buyer. The contract cannot check that an envelope opens the share: see the doc.
contract CascadeMarket is ReentrancyGuard {
    using SafeERC20 for IERC20;

    enum State {
        None,
        Paid,
        Delivered,
        Refunded
    }

    struct Listing {
        address seller;
        uint16 royaltyBps;
        uint32 deliverySeconds;
        bool active;
        address token;
        uint64 sales;
        bytes20 infoHash;
        uint256 price;
        bytes32 keyCommitment;
    }

    struct Order {
        uint256 listingId;
        address buyer;
        uint64 deadline;
        State state;
        address token;
        address royaltyTo;
        uint256 price;
        uint256 royalty;
        bytes32 buyerKey;
        bytes32 envelopeHash;
    }

    /// An HPKE envelope of a 32-byte content key (private shares' ENVELOPE_BYTES).
    uint256 public constant ENVELOPE_BYTES = 80;
    uint256 public constant MAX_DELIVERY_SECONDS = 30 days;
    uint16 public constant MAX_ROYALTY_BPS = 5000;

    IRegistryOwner public immutable registry;
    /// The block this contract was deployed in: where a reader of its events starts (public RPCs
    /// refuse eth_getLogs from block 0; nodes read the logs in bounded ranges from here).
    uint256 public immutable deployedAt;
    uint256 public listingCount;
    uint256 public orderCount;
    mapping(uint256 => Listing) private _listings;
    mapping(uint256 => Order) private _orders;
    /// The least royalty the registered owner of an infohash asks of every listing of it.
    mapping(bytes20 => uint16) public royaltyOf;
    /// Ether a recipient refused when it was pushed (a contract without a payable receive): theirs to withdraw.
    mapping(address => uint256) public owed;

    event Listed(uint256 indexed listingId, bytes20 indexed infoHash, address indexed seller, address token, uint256 price, uint16 royaltyBps, uint32 deliverySeconds, bytes32 keyCommitment, string details);
    event PriceChanged(uint256 indexed listingId, uint256 price);
    event Delisted(uint256 indexed listingId);
    event Bought(uint256 indexed orderId, uint256 indexed listingId, address indexed buyer, bytes32 buyerKey, uint256 price, uint256 royalty, address royaltyTo, uint64 deadline);
    event Delivered(uint256 indexed orderId, uint256 indexed listingId, address indexed buyer, bytes envelope);
    event Refunded(uint256 indexed orderId, uint256 indexed listingId, address indexed buyer, uint256 amount);
    event RoyaltySet(bytes20 indexed infoHash, address indexed owner, uint16 royaltyBps);
    event Owed(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    error UnknownListing(uint256 listingId);
    error UnknownOrder(uint256 orderId);
    error NotSeller(uint256 listingId, address caller);
    error NotOwner(bytes20 infoHash, address caller);
    error NotListed(uint256 listingId);
    error EmptyInfoHash();
    error EmptyCommitment();
    error ZeroPrice();
    error BadRoyalty(uint16 royaltyBps, uint16 least);
    error BadDeliveryTime(uint32 deliverySeconds);
    error WrongToken(address listed, address given);
    error WrongPrice(uint256 listed, uint256 given);
    error WrongValue(uint256 expected, uint256 sent);
    error BadBuyerKey();
    error BadEnvelope(uint256 length);
    error NotPaid(uint256 orderId, State state);
    error DeadlinePassed(uint256 orderId, uint64 deadline);
    error DeadlineNotPassed(uint256 orderId, uint64 deadline);
    error NothingOwed(address account);
    error EtherFailed(address to);

    constructor(IRegistryOwner registry_) {
        registry = registry_;
        deployedAt = block.number;
    }

    /// Lists a share for sale; `details` (name, size, magnet: JSON) is only in the event. Returns the listing id (from 1).
    function list(bytes20 infoHash, bytes32 keyCommitment, address token, uint256 price, uint16 royaltyBps, uint32 deliverySeconds, string calldata details)
        external
        returns (uint256 listingId)
    {
        if (infoHash == bytes20(0)) revert EmptyInfoHash();
        if (keyCommitment == bytes32(0)) revert EmptyCommitment();
        if (price == 0) revert ZeroPrice();
        uint16 least = royaltyOf[infoHash];
        if (royaltyBps > MAX_ROYALTY_BPS || royaltyBps < least) revert BadRoyalty(royaltyBps, least);
        if (deliverySeconds == 0 || deliverySeconds > MAX_DELIVERY_SECONDS) revert BadDeliveryTime(deliverySeconds);
        listingId = ++listingCount;
        _listings[listingId] = Listing({
            seller: msg.sender,
            royaltyBps: royaltyBps,
            deliverySeconds: deliverySeconds,
            active: true,
            token: token,
            sales: 0,
            infoHash: infoHash,
            price: price,
            keyCommitment: keyCommitment
        });
        _emitListed(listingId, details);
    }

    function setPrice(uint256 listingId, uint256 price) external {
        Listing storage l = _sellersListing(listingId);
        if (!l.active) revert NotListed(listingId);
        if (price == 0) revert ZeroPrice();
        l.price = price;
        emit PriceChanged(listingId, price);
    }

    /// Ends the listing: no new purchase; open orders are still delivered or refunded.
    function delist(uint256 listingId) external {
        Listing storage l = _sellersListing(listingId);
        if (!l.active) revert NotListed(listingId);
        l.active = false;
        emit Delisted(listingId);
    }

    /// The registered owner of `infoHash` asks at least `royaltyBps` of every listing made from now on.
    function setRoyalty(bytes20 infoHash, uint16 royaltyBps) external {
        if (address(registry) == address(0) || registry.ownerOf(infoHash) != msg.sender) revert NotOwner(infoHash, msg.sender);
        if (royaltyBps > MAX_ROYALTY_BPS) revert BadRoyalty(royaltyBps, 0);
        royaltyOf[infoHash] = royaltyBps;
        emit RoyaltySet(infoHash, msg.sender, royaltyBps);
    }

    /// Pays `price` of `token` into escrow (ether: msg.value; an ERC-20: approved beforehand) for the
    /// key to be sealed to `buyerKey` (X25519). Token and price are the buyer's word: a listing
    /// changed meanwhile is refused, not bought on other terms. Returns the order id (from 1).
    function buy(uint256 listingId, address token, uint256 price, bytes32 buyerKey) external payable nonReentrant returns (uint256 orderId) {
        Listing storage l = _listings[listingId];
        if (l.seller == address(0)) revert UnknownListing(listingId);
        if (!l.active) revert NotListed(listingId);
        if (token != l.token) revert WrongToken(l.token, token);
        if (price != l.price) revert WrongPrice(l.price, price);
        if (buyerKey == bytes32(0)) revert BadBuyerKey();
        uint256 value = token == address(0) ? price : 0;
        if (msg.value != value) revert WrongValue(value, msg.value);

        address royaltyTo = address(0);
        uint256 royalty = 0;
        if (l.royaltyBps > 0 && address(registry) != address(0)) {
            royaltyTo = registry.ownerOf(l.infoHash);
            // No registered owner, or the seller is the owner: all of it is the seller's.
            if (royaltyTo != address(0) && royaltyTo != l.seller) royalty = (price * l.royaltyBps) / 10_000;
            else royaltyTo = address(0);
        }
        uint64 deadline = uint64(block.timestamp) + l.deliverySeconds;
        orderId = ++orderCount;
        _orders[orderId] = Order({
            listingId: listingId,
            buyer: msg.sender,
            deadline: deadline,
            state: State.Paid,
            token: token,
            royaltyTo: royaltyTo,
            price: price,
            royalty: royalty,
            buyerKey: buyerKey,
            envelopeHash: bytes32(0)
        });
        emit Bought(orderId, listingId, msg.sender, buyerKey, price, royalty, royaltyTo, deadline);
        if (token != address(0)) _pullExact(IERC20(token), msg.sender, price);
    }

    /// The seller posts the key's envelope for the buyer before the deadline; the escrow goes to the
    /// seller (price - royalty) and the royalty holder.
    function deliver(uint256 orderId, bytes calldata envelope) external nonReentrant {
        Order storage o = _orders[orderId];
        if (o.state == State.None) revert UnknownOrder(orderId);
        Listing storage l = _listings[o.listingId];
        if (l.seller != msg.sender) revert NotSeller(o.listingId, msg.sender);
        if (o.state != State.Paid) revert NotPaid(orderId, o.state);
        if (block.timestamp > o.deadline) revert DeadlinePassed(orderId, o.deadline);
        if (envelope.length != ENVELOPE_BYTES) revert BadEnvelope(envelope.length);
        o.state = State.Delivered;
        o.envelopeHash = keccak256(envelope);
        l.sales += 1;
        emit Delivered(orderId, o.listingId, o.buyer, envelope);
        _pay(o.token, l.seller, o.price - o.royalty);
        _pay(o.token, o.royaltyTo, o.royalty);
    }

    /// Anyone may return an undelivered order's price to its buyer once the deadline passed.
    function refund(uint256 orderId) external nonReentrant {
        Order storage o = _orders[orderId];
        if (o.state == State.None) revert UnknownOrder(orderId);
        if (o.state != State.Paid) revert NotPaid(orderId, o.state);
        if (block.timestamp <= o.deadline) revert DeadlineNotPassed(orderId, o.deadline);
        o.state = State.Refunded;
        emit Refunded(orderId, o.listingId, o.buyer, o.price);
        _pay(o.token, o.buyer, o.price);
    }

    /// Ether that could not be pushed to the caller.
    function withdraw() external nonReentrant {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert NothingOwed(msg.sender);
        owed[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert EtherFailed(msg.sender);
    }

    function listingOf(uint256 listingId) external view returns (Listing memory) {
        return _listings[listingId];
    }

    function orderOf(uint256 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// Read back from storage: fewer values on the stack (the contract compiles without via-IR too, as forge's tests do).
    function _emitListed(uint256 listingId, string calldata details) private {
        Listing storage l = _listings[listingId];
        emit Listed(listingId, l.infoHash, l.seller, l.token, l.price, l.royaltyBps, l.deliverySeconds, l.keyCommitment, details);
    }

    function _sellersListing(uint256 listingId) private view returns (Listing storage l) {
        l = _listings[listingId];
        if (l.seller == address(0)) revert UnknownListing(listingId);
        if (l.seller != msg.sender) revert NotSeller(listingId, msg.sender);
    }

    /// A token that takes a fee on transfer would leave the escrow short: refused.
    function _pullExact(IERC20 token, address from, uint256 amount) private {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        if (token.balanceOf(address(this)) - before != amount) revert WrongValue(amount, token.balanceOf(address(this)) - before);
    }

    /// Ether a recipient refuses stays owed to it (withdraw), so nobody can block a delivery or a refund.
    function _pay(address token, address to, uint256 amount) private {
        if (amount == 0) return;
        if (token != address(0)) return IERC20(token).safeTransfer(to, amount);
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) {
            owed[to] += amount;
            emit Owed(to, amount);
        }
    }
}
