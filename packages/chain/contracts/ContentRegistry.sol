// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// Who published a torrent: the first account to register its v1 infohash owns the record, with
/// its metadata CID (and room for a v2 root and a content id). The owner may hand it on. A user
/// without gas signs an EIP-712 Register message and any account (their node) submits it.
contract ContentRegistry is EIP712, Nonces {
    struct Record {
        address owner;
        uint64 registeredAt;
        uint64 blockNumber;
        bytes32 v2Root;
        string metadataCid;
        string contentId;
    }

    bytes32 public constant REGISTER_TYPEHASH = keccak256(
        "Register(bytes20 infoHash,bytes32 v2Root,string metadataCid,string contentId,address owner,uint256 nonce,uint256 deadline)"
    );

    mapping(bytes20 => Record) private _records;
    /// Where the record's metadata block is kept on Arweave (a transaction id), set by the owner after
    /// registering. Beside the records, not in them: Record, recordOf and Registered keep the shapes
    /// deployed registries and their readers know.
    mapping(bytes20 => string) private _arweaveTx;

    event Registered(bytes20 indexed infoHash, address indexed owner, bytes32 v2Root, string metadataCid, string contentId, address submitter);
    event Transferred(bytes20 indexed infoHash, address indexed from, address indexed to);
    event ArweaveStored(bytes20 indexed infoHash, string arweaveTx);

    error AlreadyRegistered(bytes20 infoHash, address owner);
    error NotRegistered(bytes20 infoHash);
    error NotOwner(bytes20 infoHash, address caller);
    error ZeroAddress();
    error EmptyInfoHash();
    error SignatureExpired(uint256 deadline);
    error WrongSigner(address signer, address owner);

    constructor() EIP712("Cascade ContentRegistry", "1") {}

    /// Registers `infoHash` for the caller.
    function register(bytes20 infoHash, bytes32 v2Root, string calldata metadataCid, string calldata contentId) external {
        _register(msg.sender, infoHash, v2Root, metadataCid, contentId);
    }

    /// Registers `infoHash` for `owner`, who signed a Register message; anyone may submit it. The
    /// nonce (nonces(owner)) makes each signature good once.
    function registerFor(
        address owner,
        bytes20 infoHash,
        bytes32 v2Root,
        string calldata metadataCid,
        string calldata contentId,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        bytes32 structHash = keccak256(
            abi.encode(
                REGISTER_TYPEHASH,
                infoHash,
                v2Root,
                keccak256(bytes(metadataCid)),
                keccak256(bytes(contentId)),
                owner,
                _useNonce(owner),
                deadline
            )
        );
        address signer = ECDSA.recover(_hashTypedDataV4(structHash), signature);
        if (signer != owner) revert WrongSigner(signer, owner);
        _register(owner, infoHash, v2Root, metadataCid, contentId);
    }

    /// Hands the record to `to`; only its owner may.
    function transfer(bytes20 infoHash, address to) external {
        Record storage r = _records[infoHash];
        if (r.owner == address(0)) revert NotRegistered(infoHash);
        if (r.owner != msg.sender) revert NotOwner(infoHash, msg.sender);
        if (to == address(0)) revert ZeroAddress();
        r.owner = to;
        emit Transferred(infoHash, msg.sender, to);
    }

    /// Records the Arweave transaction holding the metadata block of `infoHash`; only its owner may
    /// (again, to point at a new copy).
    function setArweaveTx(bytes20 infoHash, string calldata arweaveTx) external {
        Record storage r = _records[infoHash];
        if (r.owner == address(0)) revert NotRegistered(infoHash);
        if (r.owner != msg.sender) revert NotOwner(infoHash, msg.sender);
        _arweaveTx[infoHash] = arweaveTx;
        emit ArweaveStored(infoHash, arweaveTx);
    }

    /// The Arweave transaction recorded for `infoHash` ("": none).
    function arweaveTxOf(bytes20 infoHash) external view returns (string memory) {
        return _arweaveTx[infoHash];
    }

    /// The record of `infoHash` (owner 0: not registered).
    function recordOf(bytes20 infoHash) external view returns (Record memory) {
        return _records[infoHash];
    }

    function ownerOf(bytes20 infoHash) external view returns (address) {
        return _records[infoHash].owner;
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _register(address owner, bytes20 infoHash, bytes32 v2Root, string calldata metadataCid, string calldata contentId) private {
        if (infoHash == bytes20(0)) revert EmptyInfoHash();
        if (owner == address(0)) revert ZeroAddress();
        Record storage r = _records[infoHash];
        if (r.owner != address(0)) revert AlreadyRegistered(infoHash, r.owner);
        r.owner = owner;
        r.registeredAt = uint64(block.timestamp);
        r.blockNumber = uint64(block.number);
        r.v2Root = v2Root;
        r.metadataCid = metadataCid;
        r.contentId = contentId;
        emit Registered(infoHash, owner, v2Root, metadataCid, contentId, msg.sender);
    }
}
