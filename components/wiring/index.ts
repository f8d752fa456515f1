export * from "./wiringScript";
export * from "./hostWiring";
