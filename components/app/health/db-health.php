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
    [$reason, $status] = app_db_node_state(app_db_connect($host, (int) $port));
    $out['status'] = $status;
    if ($reason !== null) {
        $out['problems'][] = $reason;
    }
    $size = (int) ($status['wsrep_cluster_size'] ?? '0');
    if ($cfg['db_cluster_size'] > 0 && isset($status['wsrep_cluster_size']) && $size < $cfg['db_cluster_size']) {
        $out['problems'][] = "the cluster has {$size} of {$cfg['db_cluster_size']} members";
    }
} catch (Throwable $e) {
    $out['problems'][] = $e->getMessage();
}
$out['ok'] = $out['problems'] === [];
app_json($out, $out['ok'] ? 200 : 503);
