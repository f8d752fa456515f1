export * from "./roleDroplet";
export * from "./tier";
export * from "./sizes";
export * from "./dropletScripts";
