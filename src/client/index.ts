// The typed client SDK: the wire contract and a client that keeps room events in order.
export * from '../contract/dto';
export * from '../contract/events';
export { PantheonClient, type PantheonClientOptions, type ClientSocket } from './pantheon-client';
