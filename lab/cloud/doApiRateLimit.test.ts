import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { RATE_WINDOW_MS, RateLimiter, rateLimitHeaders } from "./doApiRateLimit";

describe("RateLimiter", () => {
  test("allows `limit` requests per sliding 60 s window, refuses the next, and frees slots as they age out", () => {
    const rl = new RateLimiter(3);
    const t0 = 1_700_000_000_000;
    assert.deepEqual([0, 10, 20].map((dt) => rl.take("k", t0 + dt).remaining), [2, 1, 0]);
    const refused = rl.take("k", t0 + 30);
    assert.equal(refused.allowed, false);
    assert.equal(refused.resetEpochSec, Math.ceil((t0 + RATE_WINDOW_MS) / 1000));
    // Refusals are not counted: once the first request ages out exactly one slot is free.
    assert.equal(rl.take("k", t0 + RATE_WINDOW_MS + 1).allowed, true);
    assert.equal(rl.take("k", t0 + RATE_WINDOW_MS + 2).allowed, false);
    assert.equal(rl.take("other", t0 + 30).allowed, true, "keys are independent");
  });

  test("headers: ratelimit-* always, retry-after only when refused", () => {
    const now = 1_700_000_000_000;
    const ok = rateLimitHeaders({ allowed: true, limit: 250, remaining: 7, resetEpochSec: now / 1000 + 60 }, now);
    assert.deepEqual(ok, { "ratelimit-limit": "250", "ratelimit-remaining": "7", "ratelimit-reset": String(now / 1000 + 60) });
    const no = rateLimitHeaders({ allowed: false, limit: 250, remaining: 0, resetEpochSec: now / 1000 + 12 }, now);
    assert.equal(no["retry-after"], "12");
  });

  test("rejects a non-positive limit", () => {
    assert.throws(() => new RateLimiter(0), /positive/);
  });
});
