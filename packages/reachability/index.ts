// How a node is reached: STUN messages and probes, NAT type, TURN credentials (and, beside them,
// port mapping on the gateway). Depends on none of Cascade's packages.
export {
  MAGIC_COOKIE, BINDING_REQUEST, BINDING_SUCCESS, BINDING_ERROR, ATTR,
  isStunMessage, decodeStun, encodeStun, newTransactionId, bindingRequest, bindingSuccess, bindingError,
  readBindingAnswer, type StunAddress, type StunMessage, type BindingAnswer,
} from './src/ice/stun-message.ts';
export { stunProbe, parseStunUrl, type StunServer, type ProbeOptions } from './src/ice/stun-probe.ts';
export { probeNat, routeSource, type NatKind, type NatProbeResult, type NatProbeOptions } from './src/ice/nat-type.ts';
export { mintTurnCredentials, type TurnCredentials } from './src/ice/turn-credentials.ts';
export { startPortMapping, PORT_MAPPING_MODES, type PortMappingMode, type PortMappingStatus, type PortMappingOptions, type PortMapper } from './src/mapping/port-mapping.ts';
export { defaultRoute, ssdpSearch, type DefaultRoute, type SsdpAnswer } from './src/mapping/gateway.ts';
