<?php
// Demo page: serving host, region, session counter, a visits row written to and
// read back from the region's database.
declare(strict_types=1);

require __DIR__ . '/lib.php';

$cfg = app_config();
$count = app_count_hit();
$dbHost = null;
$insertId = null;
$rows = [];
$dbError = null;
try {
    [$pdo, $dbHost] = app_db();
    $insertId = app_record_visit($pdo, $count);
    $rows = app_recent_visits($pdo);
} catch (Throwable $e) {
    $dbError = $e->getMessage();
}

header('Content-Type: text/html; charset=utf-8');
header('Cache-Control: no-store');
?>
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dns-rr-ha demo</title>
</head>
<body>
<h1>dns-rr-ha demo</h1>
<dl>
  <dt>Served by</dt><dd id="host"><?= h(gethostname()) ?></dd>
  <dt>Region</dt><dd id="region"><?= h($cfg['region']) ?></dd>
  <dt>Session counter</dt><dd id="count"><?= $count === null ? 'session store unavailable' : h($count) ?></dd>
  <dt>Database</dt><dd id="db"><?= $dbError === null ? h($dbHost) : 'error: ' . h($dbError) ?></dd>
  <dt>Inserted visit id</dt><dd id="insert-id"><?= h($insertId ?? '-') ?></dd>
</dl>
<h2>Last visits</h2>
<table id="visits">
<tr><th>id</th><th>host</th><th>region</th><th>session hits</th><th>at</th></tr>
<?php foreach ($rows as $r): ?>
<tr><td><?= h($r['id']) ?></td><td><?= h($r['host']) ?></td><td><?= h($r['region']) ?></td><td><?= h($r['session_hits'] ?? '') ?></td><td><?= h($r['created_at']) ?></td></tr>
<?php endforeach; ?>
</table>
<p><a href="/whoami.json">whoami.json</a> &middot; <a href="/upload.php">uploads</a></p>
</body>
</html>
