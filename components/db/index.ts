/** Database tier: MariaDB config/SQL renderers and droplet scripts (no Pulumi resources here). */
export * from "./sqlString";
export * from "./mariaDbHost";
export * from "./myCnf";
export * from "./replicationSql";
export * from "./dbScripts";
export * from "./wiringFiles";
