// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

interface IContentRegistry {
    function ownerOf(bytes20 infoHash) external view returns (address);
}

/// Pays seeders against receipts signed by downloaders. A receipt states the cumulative bytes the
/// downloader received from the seeder, in pieces that passed the hash, for one torrent; the pool
/// pays (cumulative - already paid) x rewardPerByte, so the same or an older receipt pays nothing
/// twice. Each downloader's receipts pay for at most capBytesPerEpoch bytes per epoch (what is
/// over waits for the next epoch, while the receipt lasts), and only registered torrents earn.
/// See docs/receipts.md for what this does and does not prevent.
contract RewardPool is EIP712, Ownable {
    using SafeERC20 for IERC20;

    struct Receipt {
        uint256 chainId;
        address pool;
        bytes20 infoHash;
        address seeder;
        address downloader;
        uint256 cumulativeBytes;
        uint256 expiry;
    }

    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(uint256 chainId,address pool,bytes20 infoHash,address seeder,address downloader,uint256 cumulativeBytes,uint256 expiry)"
    );

    IERC20 public immutable token;
    IContentRegistry public immutable registry;
    /// Token units paid per byte.
    uint256 public rewardPerByte;
    /// Bytes one downloader's receipts may pay for in one epoch.
    uint256 public capBytesPerEpoch;
    uint256 public immutable epochSeconds;

    /// keccak256(infoHash, seeder, downloader) => bytes paid for so far.
    mapping(bytes32 => uint256) public paidBytes;
    /// downloader => epoch => bytes paid for in it.
    mapping(address => mapping(uint256 => uint256)) public epochBytes;

    event Paid(bytes20 indexed infoHash, address indexed seeder, address indexed downloader, uint256 bytesPaid, uint256 cumulativeBytes, uint256 amount);
    event RateChanged(uint256 rewardPerByte, uint256 capBytesPerEpoch);

    error WrongChain(uint256 chainId);
    error WrongPool(address pool);
    error ReceiptExpired(uint256 expiry);
    error SelfDealing(address account);
    error WrongSigner(address signer, address downloader);
    error NothingNew(uint256 cumulativeBytes, uint256 paid);
    error CapReached(address downloader, uint256 epoch);
    error NotRegistered(bytes20 infoHash);
    error LengthMismatch(uint256 receipts, uint256 signatures);

    constructor(IERC20 token_, IContentRegistry registry_, uint256 rewardPerByte_, uint256 capBytesPerEpoch_, uint256 epochSeconds_, address owner_)
        EIP712("Cascade RewardPool", "1")
        Ownable(owner_)
    {
        token = token_;
        registry = registry_;
        rewardPerByte = rewardPerByte_;
        capBytesPerEpoch = capBytesPerEpoch_;
        epochSeconds = epochSeconds_ == 0 ? 1 days : epochSeconds_;
    }

    function setRate(uint256 rewardPerByte_, uint256 capBytesPerEpoch_) external onlyOwner {
        rewardPerByte = rewardPerByte_;
        capBytesPerEpoch = capBytesPerEpoch_;
        emit RateChanged(rewardPerByte_, capBytesPerEpoch_);
    }

    function currentEpoch() public view returns (uint256) {
        return block.timestamp / epochSeconds;
    }

    function receiptKey(bytes20 infoHash, address seeder, address downloader) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(infoHash, seeder, downloader));
    }

    /// The EIP-712 digest the downloader signs.
    function receiptDigest(Receipt calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(RECEIPT_TYPEHASH, r.chainId, r.pool, r.infoHash, r.seeder, r.downloader, r.cumulativeBytes, r.expiry))
        );
    }

    /// Pays the seeder for what the receipt adds; anyone may submit it. Returns the bytes paid for.
    function claim(Receipt calldata r, bytes calldata signature) external returns (uint256) {
        return _claim(r, signature);
    }

    /// Claims several receipts in one transaction; returns the bytes paid for in all. All or none:
    /// any receipt the pool refuses reverts the batch with that receipt's error, so a submitter
    /// checks them first (as a node does) and leaves out what would be refused.
    function claimBatch(Receipt[] calldata rs, bytes[] calldata signatures) external returns (uint256 total) {
        if (rs.length != signatures.length) revert LengthMismatch(rs.length, signatures.length);
        for (uint256 i = 0; i < rs.length; i++) total += _claim(rs[i], signatures[i]);
    }

    function _claim(Receipt calldata r, bytes calldata signature) internal returns (uint256) {
        if (r.chainId != block.chainid) revert WrongChain(r.chainId);
        if (r.pool != address(this)) revert WrongPool(r.pool);
        if (block.timestamp > r.expiry) revert ReceiptExpired(r.expiry);
        if (r.seeder == r.downloader) revert SelfDealing(r.seeder);
        address signer = ECDSA.recover(receiptDigest(r), signature);
        if (signer != r.downloader) revert WrongSigner(signer, r.downloader);
        if (registry.ownerOf(r.infoHash) == address(0)) revert NotRegistered(r.infoHash);

        bytes32 key = receiptKey(r.infoHash, r.seeder, r.downloader);
        uint256 paid = paidBytes[key];
        if (r.cumulativeBytes <= paid) revert NothingNew(r.cumulativeBytes, paid);
        uint256 epoch = currentEpoch();
        uint256 used = epochBytes[r.downloader][epoch];
        if (used >= capBytesPerEpoch) revert CapReached(r.downloader, epoch);
        uint256 fresh = r.cumulativeBytes - paid;
        uint256 room = capBytesPerEpoch - used;
        uint256 pay = fresh < room ? fresh : room;

        paidBytes[key] = paid + pay;
        epochBytes[r.downloader][epoch] = used + pay;
        uint256 amount = pay * rewardPerByte;
        token.safeTransfer(r.seeder, amount);
        emit Paid(r.infoHash, r.seeder, r.downloader, pay, r.cumulativeBytes, amount);
        return pay;
    }
}
