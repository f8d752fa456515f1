export * from "./cloudConfig";
