export * from "./haStack";
export * from "./validateStackSettings";
