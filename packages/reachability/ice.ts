// @cascade/reachability/ice — the NAT probe and STUN URLs without port mapping: what a node that maps
// no port (a `cascade download`) loads to find how it is reached.
export { parseStunUrl, type StunServer } from './src/ice/stun-probe.ts';
export { probeNat, routeSource, type NatKind, type NatProbeResult, type NatProbeOptions } from './src/ice/nat-type.ts';
