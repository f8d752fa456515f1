<?php
// GET /db-health: is this region's database node serving? 200 when it is Synced in the cluster's
// primary component, ready, and the cluster has all its members (DB_CLUSTER_SIZE); else 503 with
// the reasons. Only the local node (the first of DB_HOSTS) is asked: an uptime check per region
// probes this through the region's entry point, so a broken node or a split cluster alerts even
// while the app still serves from the other region. Installed with every app (the demo or yours).
declare(strict_types=1);

// lib.php is the demo app's, installed beside this file by the wiring (appTier.ts).
require __DIR__ . '/lib.php';

$cfg = app_config();
$out = ['ok' => false, 'region' => $cfg['region'], 'host' => gethostname(), 'db' => null, 'problems' => []];
[$host, $port] = $cfg['db_hosts'][0] ?? [null, null];
if ($host === null) {
    $out['problems'][] = 'DB_HOSTS is empty' . ($cfg['error'] !== null ? " ({$cfg['error']})" : '');
    app_json($out, 503);
}
$out['db'] = "{$host}:{$port}";
try {
    // 1 s, not the app's 2: the uptime check's own deadline must see our 503, not its timeout.
    [$reason, $status, $galera] = app_db_node_state(app_db_connect($host, (int) $port, APP_DB_HEALTH_CONNECT_TIMEOUT));
    $out['status'] = $status;
    $out['galera'] = $galera;
    if ($reason !== null) {
        $out['problems'][] = $reason;
    }
    // A plain MariaDB (wsrep off, tests) reports wsrep_cluster_size=0: there is no cluster to count.
    $size = (int) ($status['wsrep_cluster_size'] ?? '0');
    if ($galera && $cfg['db_cluster_size'] > 0 && $size < $cfg['db_cluster_size']) {
        $out['problems'][] = "the cluster has {$size} of {$cfg['db_cluster_size']} members";
    }
} catch (Throwable $e) {
    $out['problems'][] = "{$host}:{$port}: " . $e->getMessage();
}
$out['ok'] = $out['problems'] === [];
app_json($out, $out['ok'] ? 200 : 503);
