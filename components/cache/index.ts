export * from "./memcachedConfig";
export * from "./sessionCache";
