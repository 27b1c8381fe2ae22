// @cascade/arweave: metadata blocks on Arweave (issue 61 item 4). `storeOnArweave` and
// `fetchFromArweave` use the `arweave` client; `startStandInGateway` is a small local gateway that
// speaks the client's HTTP API, for tests (arlocal does not install here).
export { ArweaveError, fetchFromArweave, newWallet, readWallet, storeOnArweave, type ArweaveErrorKind, type Fetched, type JWKInterface, type Stored } from './src/blocks.ts';
export { startStandInGateway, type StandInGateway } from './src/stand-in-gateway.ts';
