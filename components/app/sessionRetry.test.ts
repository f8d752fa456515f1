/**
 * app_count_hit (demo lib.php) under a session store that fails the way a dying memcached node
 * does, scripted in a PHP save handler: the count of one hit is stored exactly once.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { DEMO_APP_DIR } from "./demoApp";
import { assertRunOk, run } from "./testing/processes";

/**
 * Runs app_count_hit twice against a store seeded with count 2, the first hit's store calls
 * failing as `script` says: "read" fails the first read, "write" fails the first write without
 * storing, "write-landed" fails the first write after storing it (the replica got it).
 */
function countTwice(script: "none" | "read" | "write" | "write-landed"): { counts: (number | null)[]; stored: number; reads: number } {
    const php = `
require '${DEMO_APP_DIR}/lib.php';
final class Scripted implements SessionHandlerInterface {
    public array $data = [];
    public int $reads = 0;
    private int $writes = 0;
    public function __construct(private string $script) {}
    public function open(string $p, string $n): bool { return true; }
    public function close(): bool { return true; }
    public function read(string $id): string|false {
        $this->reads++;
        if ($this->script === 'read' && $this->reads === 1) { return false; }
        return $this->data[$id] ?? '';
    }
    public function write(string $id, string $d): bool {
        $this->writes++;
        if ($this->writes === 1 && $this->script === 'write') { return false; }
        $this->data[$id] = $d;
        return !($this->writes === 1 && $this->script === 'write-landed');
    }
    public function destroy(string $id): bool { unset($this->data[$id]); return true; }
    public function gc(int $m): int|false { return 0; }
}
ini_set('session.use_strict_mode', '0');
$h = new Scripted($argv[1]);
session_set_save_handler($h, false);
// As in a request: the id comes from the browser's cookie on every attempt.
$_COOKIE[session_name()] = 'scriptedsession0001';
$h->data['scriptedsession0001'] = 'count|i:2;_created|i:1;';
$counts = [@app_count_hit(), @app_count_hit()];
session_start();
echo json_encode(['counts' => $counts, 'stored' => $_SESSION['count'], 'reads' => $h->reads]);
`;
    const r = run("php", ["-r", php, "--", script]);
    assertRunOk(r, `php app_count_hit (${script})`);
    return JSON.parse(r.stdout) as { counts: (number | null)[]; stored: number; reads: number };
}

describe("app_count_hit when the session store fails under a hit", () => {
    test("no failure: 3 then 4, one read per hit", () => {
        assert.deepEqual(countTwice("none"), { counts: [3, 4], stored: 4, reads: 3 });
    });

    test("a failed read is tried again: the hit still counts once", () => {
        assert.deepEqual(countTwice("read"), { counts: [3, 4], stored: 4, reads: 4 });
    });

    test("a failed write that stored nothing is tried again: the hit counts once", () => {
        assert.deepEqual(countTwice("write"), { counts: [3, 4], stored: 4, reads: 4 });
    });

    test("a failed write that did land is not counted twice", () => {
        assert.deepEqual(countTwice("write-landed"), { counts: [3, 4], stored: 4, reads: 4 });
    });
});
