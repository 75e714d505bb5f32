/*
 * The Lua scripts of the Redis session records (docs/scaling.md §5). A script runs alone in Redis,
 * so each check-and-write below is one atomic step: this is what fences a node that lost a session
 * (its epoch is stale) from writing to it, and what lets only one of two racing nodes take it.
 *
 * A session is two keys: a hash `{prefix}:s:{id}` (kh: the resume key's SHA-256, idn: identity,
 * user, epoch, owner: the node holding it or '' when parked, received, next, acked, rooms, fanout)
 * and a list `{prefix}:q:{id}` (the replay: the JSON of each message numbered acked+1 … next-1).
 */

/** Appends ARGV[from…to] to the list KEYS[2] in chunks (Lua's stack bounds one call's arguments). */
const APPEND = `
local function append(from, to)
  for i = from, to, 1000 do
    redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, to)))
  end
end`;

/**
 * Writes a whole state: a new session, or one handed over or parked (owner ''). Refused (0) when
 * the record exists with another epoch: a node that lost the session must not overwrite it.
 * ARGV: epoch, owner, kh, idn, user, received, next, acked, rooms, fanout, ttl ms, entries…
 */
export const PUT = `${APPEND}
local e = redis.call('HGET', KEYS[1], 'epoch')
if e and e ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'owner', ARGV[2], 'kh', ARGV[3], 'idn', ARGV[4], 'user', ARGV[5],
  'received', ARGV[6], 'next', ARGV[7], 'acked', ARGV[8], 'rooms', ARGV[9], 'fanout', ARGV[10])
append(12, #ARGV)
redis.call('PEXPIRE', KEYS[1], ARGV[11])
if #ARGV > 11 then redis.call('PEXPIRE', KEYS[2], ARGV[11]) end
return 1`;

/**
 * One batch of a live session: the new messages (numbered from the stored `next` on), the new
 * positions, the replay trimmed to the client's ack, and the broadcasts and room messages its
 * handlers published (into the fan-out log KEYS[3], and onto their channels, as FANOUT does); in
 * one step, and only by the epoch's owner. Returns 1, 0 (fenced: another node took it; nothing is
 * published, the batch runs again there) or -1 (no record: expired, or Redis lost it).
 * ARGV: epoch, received, next, acked, rooms ('' unchanged), fanout position, ttl ms, n, log
 * length, n replay entries…, then (channel, entry) pairs.
 */
export const COMMIT = `${APPEND}
local h = redis.call('HMGET', KEYS[1], 'epoch', 'acked')
if h[1] and h[1] ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[8])
for i = 10 + n, #ARGV, 2 do
  local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'm', ARGV[i + 1])
  redis.call('SPUBLISH', ARGV[i], id .. ' ' .. ARGV[i + 1])
end
if not h[1] then return -1 end
append(10, 9 + n)
local drop = tonumber(ARGV[4]) - tonumber(h[2])
if drop > 0 then redis.call('LTRIM', KEYS[2], drop, -1) end
redis.call('HSET', KEYS[1], 'received', ARGV[2], 'next', ARGV[3], 'acked', ARGV[4], 'fanout', ARGV[6])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'rooms', ARGV[5]) end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return 1`;

/**
 * Takes a session over: only for its key hash and identity; a session some node holds (owner set)
 * only with `force` (its owner did not answer). Bumps the epoch, so the old owner's writes are
 * refused from now on, and gives the record the session TTL again: what is left of the parking or
 * hand-over TTL may run out before the new owner's first write (a keep-alive, a third of the TTL
 * away for a quiet session), and a record gone while its owner lives is a session a `kill -9` loses.
 * Returns false (no such session), 'busy', or the record, the replay, and the id of the fan-out
 * log's (KEYS[3]) last entry now ('' without one): no session's place in the log can be after it.
 * ARGV: kh, idn, this node, force ('1' or '0'), ttl ms.
 */
export const CLAIM = `
local h = redis.call('HMGET', KEYS[1], 'kh', 'idn', 'owner', 'user', 'received', 'next', 'acked', 'rooms', 'fanout')
if not h[1] or h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then return false end
if h[3] ~= '' and ARGV[4] ~= '1' then return 'busy' end
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
return {tostring(epoch), h[4], h[5], h[6], h[7], h[8], h[9], redis.call('LRANGE', KEYS[2], 0, -1), last and last[1] or ''}`;

/** The session ended for good: its record goes, if the epoch is still the caller's. */
export const DROP = `
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then return redis.call('DEL', KEYS[1], KEYS[2]) end
return 0`;
