export * from "./roundRobinDns";
