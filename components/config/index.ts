export * from "./settings";
export * from "./regions";
export * from "./cidr";
export { parseStackConfig, StackConfigError, ParseOptions, defaultVpcCidrs } from "./parse";
