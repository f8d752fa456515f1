export * from "./dnsFailover";
export { DEFAULT_TIMING, FailoverTiming } from "./agentFiles";
