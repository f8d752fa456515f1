<?php
// POST /db-op.json: the writes real applications make, for the lab and the bench to race
// against each other from several regions (op=get also as GET). Every answer names the database
// node it used. Writes must be POSTed: the LBs replay a GET that failed (a 503, a timeout) on
// another server, and a write whose outcome was unknown (its connection lost at COMMIT) would
// then count twice. A write sent as GET gets 405 before any database is touched.
//   op=incr&name=N                     counter +1; {"ok":true,"n":<value after>}
//   op=claim&value=V                   UNIQUE insert; 409 "duplicate" when V is taken
//   op=cas&name=N&expect=E&value=V     compare-and-set: writes V when the cell's version is E
//                                      (0 creates it); {"ok":true,"version":E+1}, else 409
//   op=get&name=N                      {"value":..,"version":..} (version 0: no such cell)
// A certification conflict is retried once (app_write); a second one answers 503 "conflict".
declare(strict_types=1);

require __DIR__ . '/lib.php';

/** The ops that change data: POST only. */
const DB_OP_WRITES = ['incr', 'claim', 'cas'];

/** A request parameter as a string (GET or POST), or null. */
function db_op_param(string $name): ?string
{
    $v = $_POST[$name] ?? $_GET[$name] ?? null;
    return is_string($v) ? $v : null;
}

/** A name or value: 1..191 UTF-8 characters (the indexed columns). */
function db_op_text(string $name): string
{
    $v = db_op_param($name);
    if ($v === null || preg_match('/^.{1,191}$/su', $v) !== 1) {
        throw new InvalidArgumentException("{$name} must be 1..191 UTF-8 characters");
    }
    return $v;
}

/**
 * Runs one operation.
 *
 * @return array{0: int, 1: array<string, mixed>} HTTP status and answer
 */
function db_op_run(PDO $pdo, string $op): array
{
    $region = app_config()['region'];
    switch ($op) {
        case 'incr':
            $name = db_op_text('name');
            $n = app_with_schema($pdo, static fn (): int => app_write($pdo, static function () use ($pdo, $name): int {
                $pdo->prepare('INSERT INTO counters (name, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1')->execute([$name]);
                $st = $pdo->prepare('SELECT n FROM counters WHERE name = ?');
                $st->execute([$name]);
                return (int) $st->fetchColumn();
            }));
            return [200, ['ok' => true, 'n' => $n]];
        case 'claim':
            $value = db_op_text('value');
            try {
                $id = app_with_schema($pdo, static fn (): int => app_write($pdo, static function () use ($pdo, $value, $region): int {
                    $pdo->prepare('INSERT INTO claims (value, host, region) VALUES (?, ?, ?)')->execute([$value, gethostname(), $region]);
                    return (int) $pdo->lastInsertId();
                }));
            } catch (PDOException $e) {
                if ((int) ($e->errorInfo[1] ?? 0) === 1062) {
                    return [409, ['ok' => false, 'error' => 'duplicate']];
                }
                throw $e;
            }
            return [200, ['ok' => true, 'id' => $id]];
        case 'cas':
            $name = db_op_text('name');
            $value = db_op_text('value');
            $expect = db_op_param('expect');
            if ($expect === null || preg_match('/^\d{1,18}$/', $expect) !== 1) {
                throw new InvalidArgumentException('expect must be the version the value is expected to have (0: no cell yet)');
            }
            $expected = (int) $expect;
            [$ok, $version] = app_with_schema($pdo, static fn (): array => app_write($pdo, static function () use ($pdo, $name, $value, $expected): array {
                if ($expected === 0) {
                    // INSERT IGNORE: a cell created concurrently elsewhere makes this a mismatch, not an overwrite.
                    $st = $pdo->prepare('INSERT IGNORE INTO cells (name, value, version) VALUES (?, ?, 1)');
                } else {
                    $st = $pdo->prepare('UPDATE cells SET value = ?, version = version + 1 WHERE name = ? AND version = ?');
                }
                $st->execute($expected === 0 ? [$name, $value] : [$value, $name, $expected]);
                if ($st->rowCount() === 1) {
                    return [true, $expected + 1];
                }
                $cur = $pdo->prepare('SELECT version FROM cells WHERE name = ?');
                $cur->execute([$name]);
                return [false, (int) ($cur->fetchColumn() ?: 0)];
            }));
            return $ok ? [200, ['ok' => true, 'version' => $version]] : [409, ['ok' => false, 'error' => 'version mismatch', 'version' => $version]];
        case 'get':
            $name = db_op_text('name');
            $row = app_with_schema($pdo, static function () use ($pdo, $name): array {
                $st = $pdo->prepare('SELECT value, version FROM cells WHERE name = ?');
                $st->execute([$name]);
                $r = $st->fetch();
                return is_array($r) ? ['value' => $r['value'], 'version' => (int) $r['version']] : ['value' => null, 'version' => 0];
            });
            return [200, ['ok' => true] + $row];
        default:
            throw new InvalidArgumentException('op must be incr, claim, cas or get');
    }
}

$cfg = app_config();
$out = ['region' => $cfg['region'], 'host' => gethostname(), 'db' => null];
$op = db_op_param('op') ?? '';
if (in_array($op, DB_OP_WRITES, true) && ($_SERVER['REQUEST_METHOD'] ?? 'GET') !== 'POST') {
    header('Allow: POST');
    app_json($out + ['ok' => false, 'error' => "op={$op} changes data: send it as POST (a GET may be replayed by the load balancer)"], 405);
}
try {
    [$pdo, $dbHost] = app_db();
    $out['db'] = $dbHost;
    [$status, $answer] = db_op_run($pdo, $op);
} catch (InvalidArgumentException $e) {
    [$status, $answer] = [400, ['ok' => false, 'error' => $e->getMessage()]];
} catch (PDOException $e) {
    $code = (int) ($e->errorInfo[1] ?? 0);
    $status = 503;
    $answer = ['ok' => false, 'error' => $code === APP_DB_CONFLICT ? 'conflict' : $e->getMessage(), 'code' => $code];
} catch (Throwable $e) {
    [$status, $answer] = [503, ['ok' => false, 'error' => $e->getMessage()]];
}
app_json($out + $answer, $status);
