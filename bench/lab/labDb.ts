/**
 * What the lab scenarios ask the databases: which acknowledged keys a node holds, table
 * checksums, and the Galera cluster's health (the stack's own dns-rr-ha-db-health, through
 * lab/testing/dbCluster.ts, which the lab's status and e2e tests share).
 */
import { LabState } from "../../lab/labState";
import { sql } from "../../lab/testing/dbCluster";

export { appChecksums as checksums, dbHealth, dbHealthAsync, dbNodes, sql, waitChecksumsEqual, waitClusterHealthy } from "../../lab/testing/dbCluster";

/** The kv keys with `prefix` a node holds. */
export function keysPresent(state: LabState, host: string, prefix: string): Set<string> {
    return new Set(sql(state, host, `SELECT k FROM app.kv WHERE k LIKE '${prefix.replace(/[^\w.-]/g, "")}-%'`));
}
