export * from "./firewallMatrix";
export * from "./firewalls";
