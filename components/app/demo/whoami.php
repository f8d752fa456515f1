<?php
// GET /whoami.json: which server answered, the session counter and the database
// it used. Query options: write=0 (no visits row), key=K&value=V (write a kv
// row), read=K (read kv rows back; used to check cross-region replication).
declare(strict_types=1);

require __DIR__ . '/lib.php';

$cfg = app_config();
$count = app_count_hit();
$out = [
    'host' => gethostname(),
    'region' => $cfg['region'],
    'client_ip' => $_SERVER['REMOTE_ADDR'] ?? null,
    'session_id' => session_id() !== '' ? session_id() : null,
    'count' => $count,
];

$write = ($_GET['write'] ?? '1') !== '0';
try {
    [$pdo, $dbHost] = app_db();
    $db = ['host' => $dbHost, 'insert_id' => null, 'rows' => []];
    if ($write) {
        $db['insert_id'] = app_record_visit($pdo, $count);
    }
    $db['rows'] = app_recent_visits($pdo);
    if (isset($_GET['key']) && is_string($_GET['key'])) {
        $value = $_GET['value'] ?? '';
        $db['kv'] = app_kv_write($pdo, $_GET['key'], is_string($value) ? $value : '');
    }
    if (isset($_GET['read']) && is_string($_GET['read'])) {
        $db['read'] = app_kv_read($pdo, $_GET['read']);
    }
    $out['db'] = $db;
} catch (Throwable $e) {
    $out['db'] = ['error' => $e->getMessage()];
}

app_json($out);
