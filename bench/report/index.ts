/**
 * Pure report machinery: per-request records in, per-second series, overall figures,
 * a Markdown report and an SVG timeline out.
 */
export * from "./records";
export * from "./stats";
export * from "./timeline";
export * from "./escape";
export * from "./format";
export * from "./scale";
export * from "./markdown";
export * from "./svg";
