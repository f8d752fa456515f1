/** Database tier: MariaDB config/SQL renderers and droplet scripts (no Pulumi resources here). */
export * from "./sqlString";
export * from "./mariaDbHost";
export * from "./myCnf";
export * from "./usersSql";
export * from "./arbitrator";
export * from "./dbScripts";
export * from "./wiringFiles";
