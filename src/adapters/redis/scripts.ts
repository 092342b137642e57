import { LuaScript } from "./lua-script.js";

/**
 * Compare-and-set: writes the record only if its stored version is still ARGV[1] ("0": no
 * record), counts a new record, and publishes the invalidation in the same atomic step.
 * KEYS: record, count. ARGV: expected version, new version, adapter bytes, channel, message.
 * Returns 1 when written, 0 when another writer got there first.
 */
export const WRITE_IF_VERSION = new LuaScript(
  `
local stored = redis.call('HGET', KEYS[1], 'version') or '0'
if stored ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('INCR', KEYS[2]) end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'adapter', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`,
  2,
);

/**
 * Removes the record, uncounts it and publishes the invalidation, atomically.
 * KEYS: record, count. ARGV: channel, message. Returns 1 when a record was removed, else 0.
 */
export const DELETE_RECORD = new LuaScript(
  `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('DECR', KEYS[2])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`,
  2,
);

/**
 * Compare-and-set over a record that cannot be decoded: writes only if the record still reads as
 * ARGV[1] (its `version` field, "" when it has none, or "type:<type>" when it is no hash), so a
 * writer that repaired it meanwhile wins. The damaged record is removed first (it stays counted),
 * and the invalidation is published in the same atomic step.
 * KEYS: record. ARGV: what the record read as, new version, adapter bytes, channel, message.
 * Returns 1 when written, 0 when the record changed.
 */
export const REPLACE_DAMAGED = new LuaScript(
  `
local kind = redis.call('TYPE', KEYS[1])['ok']
local seen
if kind == 'hash' then seen = redis.call('HGET', KEYS[1], 'version') or ''
else seen = 'type:' .. kind end
if kind == 'none' or seen ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'adapter', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`,
  1,
);
