<?php
// Shared helpers of the dns-rr-ha demo app. Include-only (nginx returns 404 for it).
declare(strict_types=1);

const APP_DEFAULT_ENV_PATH = '/etc/dns-rr-ha/app.env';
const APP_DEFAULT_UPLOADS_DIR = '/var/www/dns-rr-ha/shared/uploads';
/** Connect timeout per database host, seconds: a dead region must not stall the page for long. */
const APP_DB_CONNECT_TIMEOUT = 2;
/** Connect timeout of /db-health, seconds: an uptime check must get its answer well within its own deadline. */
const APP_DB_HEALTH_CONNECT_TIMEOUT = 1;
/** Read timeout, seconds: a host that accepts TCP but hangs must not hold a PHP worker for a minute. */
const APP_DB_READ_TIMEOUT = 5;
/**
 * TCP pre-check of a remote database host, seconds. PDO's connect timeout is whole seconds, so a
 * blackholed remote region would cost 2 s a request; this costs at most 0.3 s.
 */
const APP_DB_REMOTE_PRECHECK = 0.3;
/**
 * Certification conflict: another node committed a change to the same row first (a Galera node
 * outside the primary component answers 1047 instead, which app_db() avoids by asking first).
 */
const APP_DB_CONFLICT = 1213;
/** Tries of a session read-modify-write that hit a dying memcached node (app_count_hit), and the pause step, µs. */
const APP_SESSION_ATTEMPTS = 3;
const APP_SESSION_RETRY_PAUSE_US = 50_000;

/** HTML-escapes any scalar for element content and quoted attributes. */
function h(mixed $v): string
{
    return htmlspecialchars((string) $v, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}

/** Path of the env file: env DNS_RR_HA_APP_ENV (tests, other layouts) or the default. */
function app_env_path(): string
{
    $p = getenv('DNS_RR_HA_APP_ENV');
    return is_string($p) && $p !== '' ? $p : APP_DEFAULT_ENV_PATH;
}

/**
 * Parses KEY=value lines. Everything after the first "=" is the value; one pair
 * of matching surrounding quotes is stripped, with no escape processing, so
 * passwords containing quotes, "$", "#" or ";" survive (see appEnv.ts).
 *
 * @return array<string, string>
 */
function app_parse_env(string $text): array
{
    $vars = [];
    foreach (preg_split('/\r?\n/', $text) ?: [] as $line) {
        if (trim($line) === '' || str_starts_with(ltrim($line), '#')) {
            continue;
        }
        $eq = strpos($line, '=');
        if ($eq === false) {
            continue;
        }
        $key = trim(substr($line, 0, $eq));
        $val = substr($line, $eq + 1);
        $len = strlen($val);
        if ($len >= 2 && ($val[0] === "'" || $val[0] === '"') && $val[$len - 1] === $val[0]) {
            $val = substr($val, 1, -1);
        }
        $vars[$key] = $val;
    }
    return $vars;
}

/**
 * The app's configuration, read once per request. A missing file is not fatal:
 * the page still renders (and /healthz never reads it).
 *
 * @return array{region: string, db_hosts: list<array{0: string, 1: int}>, db_name: string,
 *               db_user: string, db_password: string, db_ssl_ca: string, db_cluster_size: int,
 *               uploads_dir: string, error: ?string}
 */
function app_config(): array
{
    static $cfg = null;
    if ($cfg !== null) {
        return $cfg;
    }
    $path = app_env_path();
    $text = is_readable($path) ? file_get_contents($path) : false;
    $env = $text === false ? [] : app_parse_env($text);
    $port = (int) ($env['DB_PORT'] ?? '3306');
    $hosts = [];
    foreach (explode(',', $env['DB_HOSTS'] ?? '') as $entry) {
        $entry = trim($entry);
        if ($entry === '') {
            continue;
        }
        // "host" or "host:port" (IPv4/hostnames only).
        $parts = explode(':', $entry, 2);
        $hosts[] = [$parts[0], isset($parts[1]) ? (int) $parts[1] : $port];
    }
    $cfg = [
        'region' => $env['REGION'] ?? 'unknown',
        'db_hosts' => $hosts,
        'db_name' => $env['DB_NAME'] ?? '',
        'db_user' => $env['DB_USER'] ?? '',
        'db_password' => $env['DB_PASSWORD'] ?? '',
        'db_ssl_ca' => $env['DB_SSL_CA'] ?? '',
        'db_cluster_size' => (int) ($env['DB_CLUSTER_SIZE'] ?? '0'),
        'uploads_dir' => rtrim($env['UPLOADS_DIR'] ?? APP_DEFAULT_UPLOADS_DIR, '/'),
        'error' => $text === false ? "cannot read $path" : null,
    ];
    return $cfg;
}

/**
 * Starts the session with session-fixation protection done here rather than by
 * session.use_strict_mode (which defeats memcached replica failover, see
 * phpSessionIni.ts): a session without our marker is new, and if its id came
 * from the client (a made-up or expired id) it is replaced by a fresh random
 * one. A session found on a replica keeps its marker and its id.
 */
function app_session_start(): bool
{
    if (session_status() === PHP_SESSION_ACTIVE) {
        return true;
    }
    if (!session_start()) {
        return false;
    }
    if (!isset($_SESSION['_created'])) {
        $data = isset($_COOKIE[session_name()]) ? app_session_recover(session_id()) : null;
        if ($data === null || !session_decode($data) || !isset($_SESSION['_created'])) {
            $_SESSION = [];
            if (isset($_COOKIE[session_name()])) {
                session_regenerate_id(true);
            }
            $_SESSION['_created'] = time();
        }
    }
    return true;
}

/**
 * Looks for a session's data on every memcached node. php-memcached only reads
 * the primary copy; when that node restarted empty its replicas still hold the
 * session, and saving it again (at session close) re-replicates it.
 */
function app_session_recover(string $id): ?string
{
    if (ini_get('session.save_handler') !== 'memcached' || !class_exists('Memcached')
        || preg_match('/^[A-Za-z0-9,-]{16,256}$/', $id) !== 1) {
        return null;
    }
    $prefix = (string) ini_get('memcached.sess_prefix');
    $timeoutMs = (int) ini_get('memcached.sess_connect_timeout');
    foreach (explode(',', (string) ini_get('session.save_path')) as $server) {
        $parts = explode(':', trim($server));
        $m = new Memcached();
        $m->setOption(Memcached::OPT_BINARY_PROTOCOL, true);
        $m->setOption(Memcached::OPT_CONNECT_TIMEOUT, $timeoutMs > 0 ? $timeoutMs : 300);
        $m->addServer($parts[0], (int) ($parts[1] ?? 11211));
        $data = $m->get($prefix . $id);
        if (is_string($data) && $data !== '') {
            return $data;
        }
    }
    return null;
}

/**
 * Counts this request in the session and releases the session lock at once, so
 * parallel requests of one browser are not serialised behind the DB work.
 * Returns null when the session store is unavailable (the page still works).
 *
 * A request in flight when a memcached node dies can lose its read (the node
 * disconnects mid-get: session_start() fails) or its write (every attempt
 * php-memcached makes still goes to the dying node). Measured in the lab: about
 * one such request per kill under 4 live sessions, and that session's count was
 * lost. A fresh attempt opens new connections, finds the node dead at once and
 * uses the replica, so the whole read-modify-write is tried again.
 * A write reported failed may still have landed on the replica (the replica copy
 * is sent before the dying primary's answer is read; measured: the count then
 * skipped one), so each hit carries an id and a retry that finds its own id
 * already stored does not count twice.
 * session_write_close() returns true even when the write failed (PHP 8.2); the
 * failure shows only as PHP's warning, so that is what is checked.
 */
function app_count_hit(): ?int
{
    $hit = bin2hex(random_bytes(8));
    for ($attempt = 1; $attempt <= APP_SESSION_ATTEMPTS; $attempt++) {
        if ($attempt > 1) {
            usleep(APP_SESSION_RETRY_PAUSE_US * ($attempt - 1));
        }
        if (!app_session_start()) {
            continue;
        }
        if (($_SESSION['_hit'] ?? null) !== $hit) {
            $_SESSION['count'] = (int) ($_SESSION['count'] ?? 0) + 1;
            $_SESSION['_hit'] = $hit;
        }
        $count = (int) $_SESSION['count'];
        error_clear_last();
        session_write_close();
        $last = error_get_last();
        if ($last === null || !str_contains($last['message'], 'Failed to write session data')) {
            return $count;
        }
    }
    return null;
}

/**
 * PDO options of the database connection. With a CA file (DB_SSL_CA) the connection uses TLS and
 * verifies the server: its certificate must chain to that CA and name the address connected to.
 *
 * @return array<int, mixed>
 */
function app_db_options(string $sslCa, int $connectTimeout = APP_DB_CONNECT_TIMEOUT): array
{
    $options = [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_TIMEOUT => $connectTimeout,
        PDO::ATTR_EMULATE_PREPARES => false,
        PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
    ];
    if ($sslCa !== '') {
        $options[PDO::MYSQL_ATTR_SSL_CA] = $sslCa;
        $options[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] = true;
    }
    return $options;
}

/**
 * The Galera state of the node behind $pdo: null when it serves (Synced, in the primary component,
 * ready), else why not. A server without wsrep (a plain MariaDB, as in some tests) serves: there is
 * no cluster to be out of. Such a server does not lack the rows, though: Debian's mariadbd without
 * a provider reports wsrep_cluster_status=Disconnected, wsrep_ready=OFF and wsrep_cluster_size=0,
 * so "is wsrep on" is asked as well, and only when the status does not already say Primary.
 *
 * @return array{0: ?string, 1: array<string, string>, 2: bool} the reason (or null), the status
 *         values, and whether the server runs Galera (wsrep_on) at all
 */
function app_db_node_state(PDO $pdo): array
{
    $rows = $pdo->query("SHOW GLOBAL STATUS WHERE Variable_name IN
        ('wsrep_cluster_status', 'wsrep_local_state', 'wsrep_local_state_comment', 'wsrep_ready', 'wsrep_cluster_size')")->fetchAll();
    $status = [];
    foreach ($rows as $row) {
        $status[(string) $row['Variable_name']] = (string) $row['Value'];
    }
    if (($status['wsrep_cluster_status'] ?? '') !== 'Primary') {
        // Only then the second question (the healthy path costs one round trip): is wsrep on at all?
        $on = $pdo->query("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'")->fetch();
        if (!is_array($on) || $on['Value'] !== 'ON') {
            return [null, $status, false];
        }
        return ['non-primary (wsrep_cluster_status=' . ($status['wsrep_cluster_status'] ?? '?') . '): this side of a partition has no quorum', $status, true];
    }
    if (($status['wsrep_local_state'] ?? '') !== '4' || ($status['wsrep_ready'] ?? '') !== 'ON') {
        return ['not synced (' . ($status['wsrep_local_state_comment'] ?? '?') . ', ready=' . ($status['wsrep_ready'] ?? '?') . ')', $status, true];
    }
    return [null, $status, true];
}

/**
 * Whether a node that is not Synced may still take the app's queries when no Synced node does: a
 * donor (Donor/Desynced) or a member catching up (Joined), in the primary component and ready. Either
 * holds the whole state and certifies like any member: a write through it that conflicts with one
 * committed elsewhere since its snapshot fails certification, so nothing it acknowledges is lost or
 * overwritten. Only its reads may trail the others' commits (a donor is exempt from flow control
 * while mariabackup copies it); app_db makes such a session wait for causality (wsrep_sync_wait).
 * With two data nodes the donor is the only one left while the other is rebuilt: refusing it would
 * take the site's database away for the whole SST.
 *
 * @param array<string, string> $status what app_db_node_state read
 */
function app_db_donor_serves(array $status): bool
{
    return ($status['wsrep_cluster_status'] ?? '') === 'Primary'
        && in_array($status['wsrep_local_state'] ?? '', ['2', '3'], true)
        && ($status['wsrep_ready'] ?? '') === 'ON';
}

/** Opens a connection to one database host (TLS and verification when DB_SSL_CA is set). */
function app_db_connect(string $host, int $port, int $connectTimeout = APP_DB_CONNECT_TIMEOUT): PDO
{
    $cfg = app_config();
    ini_set('mysqlnd.net_read_timeout', (string) APP_DB_READ_TIMEOUT);
    return new PDO(
        "mysql:host={$host};port={$port};dbname={$cfg['db_name']};charset=utf8mb4",
        $cfg['db_user'],
        $cfg['db_password'],
        app_db_options($cfg['db_ssl_ca'], $connectTimeout)
    );
}

/**
 * Connects to the first database of DB_HOSTS (local region first) that serves: reachable, and
 * Synced in the cluster's primary component; failing that, the first donor or Joined member in it
 * (see app_db_donor_serves). A node that answers but does not serve (cut off without quorum,
 * joining) is skipped at once; a remote host that does not accept TCP
 * within APP_DB_REMOTE_PRECHECK is skipped too, so a request never waits seconds per dead host.
 *
 * @return array{0: PDO, 1: string} the connection and "host:port" it went to
 */
function app_db(): array
{
    static $conn = null;
    if ($conn !== null) {
        return $conn;
    }
    $cfg = app_config();
    if ($cfg['db_hosts'] === []) {
        throw new RuntimeException('DB_HOSTS is empty' . ($cfg['error'] !== null ? " ({$cfg['error']})" : ''));
    }
    $errors = [];
    // A donor or a Joined member is used only when no node of DB_HOSTS is Synced (app_db_donor_serves).
    $donor = null;
    foreach ($cfg['db_hosts'] as $i => [$host, $port]) {
        if ($i > 0) {
            $probe = @fsockopen($host, $port, $errno, $errstr, APP_DB_REMOTE_PRECHECK);
            if ($probe === false) {
                $errors[] = "{$host}:{$port}: unreachable within " . (int) (APP_DB_REMOTE_PRECHECK * 1000) . ' ms';
                continue;
            }
            fclose($probe);
        }
        try {
            $pdo = app_db_connect($host, $port);
            [$reason, $status] = app_db_node_state($pdo);
            if ($reason !== null) {
                if ($donor === null && app_db_donor_serves($status)) {
                    $donor = [$pdo, "{$host}:{$port}"];
                }
                $errors[] = "{$host}:{$port}: {$reason}";
                continue;
            }
            return $conn = [$pdo, "{$host}:{$port}"];
        } catch (PDOException $e) {
            $errors[] = "{$host}:{$port}: " . $e->getMessage();
        }
    }
    if ($donor !== null) {
        // Its reads wait until it has applied what the cluster committed before them.
        $donor[0]->exec('SET SESSION wsrep_sync_wait = 1');
        return $conn = $donor;
    }
    throw new RuntimeException('no database reachable: ' . implode('; ', $errors));
}

/**
 * Runs $fn in a transaction and commits. A certification conflict (1213: another region committed
 * a change to the same row first) rolls back and runs $fn once more on the new state; a second
 * conflict reaches the caller. $fn must do all its reads and writes through $pdo.
 *
 * @template T
 * @param callable(): T $fn
 * @return T
 */
function app_write(PDO $pdo, callable $fn): mixed
{
    for ($attempt = 1; ; $attempt++) {
        try {
            $pdo->beginTransaction();
            $result = $fn();
            // When another region's write-set aborted ours (a brute-force abort), the server has
            // rolled it back already and says so in its status flags; commit() then refuses
            // instead of sending a COMMIT the server would answer OK outside any transaction.
            $pdo->commit();
            return $result;
        } catch (Throwable $e) {
            // Whatever failed, nothing of this attempt may stay open (or be committed by a later
            // statement of the request): roll back before deciding.
            if ($pdo->inTransaction()) {
                try {
                    $pdo->rollBack();
                } catch (PDOException) {
                    // The connection itself failed: the original error says more.
                }
            }
            if (!$e instanceof PDOException) {
                throw $e;
            }
            $aborted = !$pdo->inTransaction() && str_contains($e->getMessage(), 'no active transaction');
            if ($aborted) {
                $e = new PDOException('our transaction was aborted by a conflicting one from another node', 0, $e);
                $e->errorInfo = ['40001', APP_DB_CONFLICT, 'aborted by a conflicting write-set'];
            }
            if ($attempt >= 2 || (int) ($e->errorInfo[1] ?? 0) !== APP_DB_CONFLICT) {
                throw $e;
            }
        }
    }
}

/**
 * Creates the demo tables. Idempotent, so several servers may race on it: CREATE TABLE IF NOT
 * EXISTS is DDL, which the cluster applies in one total order (TOI), and a second one is a no-op.
 */
function app_ensure_schema(PDO $pdo): void
{
    $pdo->exec('CREATE TABLE IF NOT EXISTS visits (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        host VARCHAR(255),
        region VARCHAR(64),
        session_hits INT,
        created_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
    $pdo->exec('CREATE TABLE IF NOT EXISTS kv (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        k VARCHAR(191) NOT NULL,
        v TEXT,
        host VARCHAR(255),
        region VARCHAR(64),
        created_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6),
        KEY k_created (k, created_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
    $pdo->exec('CREATE TABLE IF NOT EXISTS counters (
        name VARCHAR(191) PRIMARY KEY,
        n BIGINT NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
    $pdo->exec('CREATE TABLE IF NOT EXISTS claims (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        value VARCHAR(191) NOT NULL UNIQUE,
        host VARCHAR(255),
        region VARCHAR(64),
        created_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
    $pdo->exec('CREATE TABLE IF NOT EXISTS cells (
        name VARCHAR(191) PRIMARY KEY,
        value TEXT,
        version BIGINT NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
}

/**
 * Runs $fn, creating the schema and retrying once if a table is missing (error
 * 1146). Cheaper than CREATE TABLE IF NOT EXISTS on every page view.
 *
 * @template T
 * @param callable(): T $fn
 * @return T
 */
function app_with_schema(PDO $pdo, callable $fn): mixed
{
    try {
        return $fn();
    } catch (PDOException $e) {
        if ((int) ($e->errorInfo[1] ?? 0) !== 1146) {
            throw $e;
        }
        app_ensure_schema($pdo);
        return $fn();
    }
}

/** Inserts a visit row and returns its id. */
function app_record_visit(PDO $pdo, ?int $sessionHits): int
{
    return app_with_schema($pdo, static fn (): int => app_write($pdo, static function () use ($pdo, $sessionHits): int {
        $st = $pdo->prepare('INSERT INTO visits (host, region, session_hits) VALUES (?, ?, ?)');
        $st->execute([gethostname(), app_config()['region'], $sessionHits]);
        return (int) $pdo->lastInsertId();
    }));
}

/**
 * Latest visits. Ordered by time, not id: with per-region auto-increment
 * offsets, ids from different regions do not follow insertion order.
 *
 * @return list<array<string, mixed>>
 */
function app_recent_visits(PDO $pdo, int $limit = 5): array
{
    return app_with_schema($pdo, static function () use ($pdo, $limit): array {
        $st = $pdo->prepare('SELECT id, host, region, session_hits, created_at FROM visits
                             ORDER BY created_at DESC, id DESC LIMIT ?');
        $st->bindValue(1, $limit, PDO::PARAM_INT);
        $st->execute();
        return $st->fetchAll();
    });
}

/** Checks a kv key: 1..191 UTF-8 characters (the indexed column). pcre, not mbstring: not installed. */
function app_kv_key_error(string $key): ?string
{
    if (preg_match('/^.{1,191}$/su', $key) !== 1) {
        return 'key must be 1..191 UTF-8 characters';
    }
    return null;
}

/**
 * Writes a kv row (tests use it to check cross-region replication).
 *
 * @return array<string, mixed>
 */
function app_kv_write(PDO $pdo, string $key, string $value): array
{
    if (($err = app_kv_key_error($key)) !== null) {
        return ['error' => $err];
    }
    if (strlen($value) > 65535 || preg_match('//u', $value) !== 1) {
        return ['error' => 'value must be UTF-8, at most 65535 bytes'];
    }
    $id = app_with_schema($pdo, static fn (): int => app_write($pdo, static function () use ($pdo, $key, $value): int {
        $st = $pdo->prepare('INSERT INTO kv (k, v, host, region) VALUES (?, ?, ?, ?)');
        $st->execute([$key, $value, gethostname(), app_config()['region']]);
        return (int) $pdo->lastInsertId();
    }));
    return ['key' => $key, 'value' => $value, 'id' => $id];
}

/**
 * Reads the rows of a kv key, newest first; `value` is the newest one's.
 *
 * @return array<string, mixed>
 */
function app_kv_read(PDO $pdo, string $key): array
{
    if (($err = app_kv_key_error($key)) !== null) {
        return ['error' => $err];
    }
    $rows = app_with_schema($pdo, static function () use ($pdo, $key): array {
        $st = $pdo->prepare('SELECT id, k, v, host, region, created_at FROM kv
                             WHERE k = ? ORDER BY created_at DESC, id DESC LIMIT 20');
        $st->execute([$key]);
        return $st->fetchAll();
    });
    return [
        'key' => $key,
        'found' => $rows !== [],
        'value' => $rows[0]['v'] ?? null,
        'rows' => $rows,
    ];
}

/**
 * A file name safe to store and serve: no directories, no leading dot (dotfiles
 * are temp files, hidden by nginx and skipped by lsyncd), only [A-Za-z0-9._-].
 */
function app_safe_upload_name(string $raw): string
{
    $base = basename(str_replace('\\', '/', $raw));
    $clean = preg_replace('/[^A-Za-z0-9._-]+/', '_', $base) ?? '';
    $clean = substr(ltrim($clean, '.'), 0, 120);
    return $clean === '' ? 'upload-' . bin2hex(random_bytes(4)) : $clean;
}

/**
 * Files in the uploads dir (dotfiles skipped), newest first.
 *
 * @return list<array{name: string, size: int, mtime: int}>
 */
function app_list_uploads(string $dir): array
{
    $files = [];
    foreach (is_dir($dir) ? (scandir($dir) ?: []) : [] as $name) {
        $path = "$dir/$name";
        if ($name[0] === '.' || !is_file($path)) {
            continue;
        }
        $files[] = ['name' => $name, 'size' => (int) filesize($path), 'mtime' => (int) filemtime($path)];
    }
    usort($files, static fn (array $a, array $b): int => [$b['mtime'], $a['name']] <=> [$a['mtime'], $b['name']]);
    return $files;
}

/** Sends a JSON response and ends the request. */
function app_json(mixed $data, int $status = 200): never
{
    http_response_code($status);
    header('Content-Type: application/json; charset=utf-8');
    header('Cache-Control: no-store');
    echo json_encode($data, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    exit;
}
