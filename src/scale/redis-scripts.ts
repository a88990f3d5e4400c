/**
 * The Lua scripts of the Redis backend: each runs atomically inside Redis, so concurrent joins of one room never
 * overfill it, and a seat is freed exactly once. Time is Redis's own (`TIME`), the same for every process.
 * ARGV[1] is always the key prefix. Keys (prefix P):
 *   P:proc:<id> hash, expires        P:procs zset load → id (ready)   P:allprocs set   P:proc:<id>:rooms set
 *   P:room:<id> hash                 P:rooms set                      P:open:<name> zset free seats → room id
 *   P:seats:<room> zset expiry → seat id          P:pres:<room> zset expiry → user   P:presd:<room> hash user → JSON
 * The keys are built inside the scripts, so the backend needs one Redis (or a primary with replicas), not a cluster.
 */

const COMMON = `
local P = ARGV[1]
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function sweep(rid, now)
  local s = P .. ':seats:' .. rid
  local n = redis.call('ZREMRANGEBYSCORE', s, '-inf', now)
  if n > 0 and redis.call('EXISTS', P .. ':room:' .. rid) == 1 then
    redis.call('HSET', P .. ':room:' .. rid, 'reserved', redis.call('ZCARD', s))
  end
  return n
end
local function reindex(rid)
  local h = redis.call('HMGET', P .. ':room:' .. rid, 'name', 'capacity', 'clients', 'reserved', 'locked', 'private', 'state')
  if not h[1] then return end
  local idx = P .. ':open:' .. h[1]
  local free = tonumber(h[2]) - tonumber(h[3]) - tonumber(h[4])
  if free > 0 and h[5] == '0' and h[6] == '0' and h[7] == 'open' then
    redis.call('ZADD', idx, free, rid)
  else
    redis.call('ZREM', idx, rid)
  end
end
local function hold(rid, seat, ttl, now)
  local s = P .. ':seats:' .. rid
  redis.call('ZADD', s, now + ttl, seat)
  redis.call('HSET', P .. ':room:' .. rid, 'reserved', redis.call('ZCARD', s))
  reindex(rid)
  return now + ttl
end
local function live(rid)
  local p = redis.call('HGET', P .. ':room:' .. rid, 'process')
  return p and redis.call('EXISTS', P .. ':proc:' .. p) == 1
end
local function removeRoom(rid)
  local h = redis.call('HMGET', P .. ':room:' .. rid, 'name', 'process')
  if h[1] then redis.call('ZREM', P .. ':open:' .. h[1], rid) end
  if h[2] then redis.call('SREM', P .. ':proc:' .. h[2] .. ':rooms', rid) end
  redis.call('DEL', P .. ':room:' .. rid, P .. ':seats:' .. rid, P .. ':pres:' .. rid, P .. ':presd:' .. rid)
  redis.call('SREM', P .. ':rooms', rid)
end
`;

/** ARGV: P, room id, seat id, ttl ms, force ('1'/'0'). Returns {status, expiresAt, swept}. */
const RESERVE_BY_ID = `${COMMON}
local rid, seat, ttl, force = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1'
local r = P .. ':room:' .. rid
if redis.call('EXISTS', r) == 0 or not live(rid) then return {'unknown', '0', 0} end
local h = redis.call('HMGET', r, 'capacity', 'clients', 'locked', 'state')
if not force and (h[3] == '1' or h[4] ~= 'open') then return {'locked', '0', 0} end
local now = nowms()
local swept = sweep(rid, now)
local reserved = redis.call('ZCARD', P .. ':seats:' .. rid)
if tonumber(h[1]) - tonumber(h[2]) - reserved <= 0 then
  reindex(rid)
  return {'full', '0', swept}
end
return {'ok', tostring(hold(rid, seat, ttl, now)), swept}
`;

/** ARGV: P, room name, seat id, ttl ms. Fill-first: the open room with the fewest free seats. {status, expiresAt, swept, room}. */
const RESERVE_BY_NAME = `${COMMON}
local idx = P .. ':open:' .. ARGV[2]
local seat, ttl = ARGV[3], tonumber(ARGV[4])
local now = nowms()
local swept = 0
for attempt = 1, 32 do
  local c = redis.call('ZRANGEBYSCORE', idx, 1, '+inf', 'LIMIT', 0, 1)
  if #c == 0 then return {'unknown', '0', swept, ''} end
  local rid = c[1]
  if not live(rid) then
    redis.call('ZREM', idx, rid)
  else
    swept = swept + sweep(rid, now)
    local h = redis.call('HMGET', P .. ':room:' .. rid, 'capacity', 'clients', 'reserved')
    if tonumber(h[1]) - tonumber(h[2]) - tonumber(h[3]) > 0 then
      return {'ok', tostring(hold(rid, seat, ttl, now)), swept, rid}
    end
    reindex(rid)
  end
end
return {'unknown', '0', swept, ''}
`;

/** ARGV: P, room id, seat id. The reservation becomes a client. {status, swept}. */
const CONSUME = `${COMMON}
local rid, seat = ARGV[2], ARGV[3]
local swept = sweep(rid, nowms())
if redis.call('ZREM', P .. ':seats:' .. rid, seat) == 0 then return {'expired', swept} end
local r = P .. ':room:' .. rid
redis.call('HSET', r, 'reserved', redis.call('ZCARD', P .. ':seats:' .. rid))
redis.call('HINCRBY', r, 'clients', 1)
reindex(rid)
return {'ok', swept}
`;

/** ARGV: P, room id, clients. The owner's count; sweeps expired seats. Returns swept. */
const SYNC = `${COMMON}
local rid = ARGV[2]
if redis.call('EXISTS', P .. ':room:' .. rid) == 0 then return 0 end
redis.call('HSET', P .. ':room:' .. rid, 'clients', ARGV[3])
local swept = sweep(rid, nowms())
reindex(rid)
return swept
`;

/** ARGV: P, room id, then field/value pairs (clients and reserved reset to 0). Creates or replaces a room. */
const PUT_ROOM = `${COMMON}
local rid = ARGV[2]
local r = P .. ':room:' .. rid
local old = redis.call('HMGET', r, 'process', 'name')
if old[2] then redis.call('ZREM', P .. ':open:' .. old[2], rid) end
if old[1] then redis.call('SREM', P .. ':proc:' .. old[1] .. ':rooms', rid) end
redis.call('DEL', r, P .. ':seats:' .. rid)
for i = 3, #ARGV, 2 do redis.call('HSET', r, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', r, 'clients', 0, 'reserved', 0)
redis.call('SADD', P .. ':rooms', rid)
redis.call('SADD', P .. ':proc:' .. redis.call('HGET', r, 'process') .. ':rooms', rid)
reindex(rid)
return 1
`;

/** ARGV: P, room id, then field/value pairs. */
const PATCH_ROOM = `${COMMON}
local rid = ARGV[2]
if redis.call('EXISTS', P .. ':room:' .. rid) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', P .. ':room:' .. rid, ARGV[i], ARGV[i + 1]) end
reindex(rid)
return 1
`;

/** ARGV: P, room id. */
const REMOVE_ROOM = `${COMMON}
removeRoom(ARGV[2])
return 1
`;

/** ARGV: P. Purges every registered process whose key expired. Returns {dead ids..., '#', rooms purged}. */
const PURGE = `${COMMON}
local dead = {}
local rooms = 0
for _, id in ipairs(redis.call('SMEMBERS', P .. ':allprocs')) do
  if redis.call('EXISTS', P .. ':proc:' .. id) == 0 then
    for _, rid in ipairs(redis.call('SMEMBERS', P .. ':proc:' .. id .. ':rooms')) do
      if redis.call('HGET', P .. ':room:' .. rid, 'process') == id then
        removeRoom(rid)
        rooms = rooms + 1
      end
    end
    redis.call('DEL', P .. ':proc:' .. id .. ':rooms')
    redis.call('SREM', P .. ':allprocs', id)
    redis.call('ZREM', P .. ':procs', id)
    table.insert(dead, id)
  end
end
table.insert(dead, '#')
table.insert(dead, tostring(rooms))
return dead
`;

/** ARGV: P, process id, ttl ms, load, ready ('1'/'0'), then field/value pairs. */
const PUT_PROCESS = `${COMMON}
local id = ARGV[2]
local k = P .. ':proc:' .. id
for i = 6, #ARGV, 2 do redis.call('HSET', k, ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', k, ARGV[3])
redis.call('SADD', P .. ':allprocs', id)
if ARGV[5] == '1' then redis.call('ZADD', P .. ':procs', ARGV[4], id) else redis.call('ZREM', P .. ':procs', id) end
return 1
`;

/** ARGV: P, process id. */
const REMOVE_PROCESS = `${COMMON}
local id = ARGV[2]
redis.call('DEL', P .. ':proc:' .. id)
redis.call('ZREM', P .. ':procs', id)
return 1
`;

/** ARGV: P, room id, ttl ms, then user/json pairs. */
const PUT_PRESENCE = `${COMMON}
local rid = ARGV[2]
if redis.call('EXISTS', P .. ':room:' .. rid) == 0 then return 0 end
local at = nowms() + tonumber(ARGV[3])
for i = 4, #ARGV, 2 do
  redis.call('ZADD', P .. ':pres:' .. rid, at, ARGV[i])
  redis.call('HSET', P .. ':presd:' .. rid, ARGV[i], ARGV[i + 1])
end
return 1
`;

/** ARGV: P, room id. Drops expired entries, returns the JSON of the others. */
const READ_PRESENCE = `${COMMON}
local rid = ARGV[2]
local z = P .. ':pres:' .. rid
local now = nowms()
local gone = redis.call('ZRANGEBYSCORE', z, '-inf', now)
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
  redis.call('HDEL', P .. ':presd:' .. rid, unpack(gone))
end
local users = redis.call('ZRANGEBYSCORE', z, now + 1, '+inf')
if #users == 0 then return {} end
return redis.call('HMGET', P .. ':presd:' .. rid, unpack(users))
`;

/** ARGV: P, room id, user id. */
const REMOVE_PRESENCE = `${COMMON}
redis.call('ZREM', P .. ':pres:' .. ARGV[2], ARGV[3])
redis.call('HDEL', P .. ':presd:' .. ARGV[2], ARGV[3])
return 1
`;

/** ARGV: P, lock name, token. Deletes the lock only while `token` holds it. */
const UNLOCK = `${COMMON}
local k = P .. ':lock:' .. ARGV[2]
if redis.call('GET', k) == ARGV[3] then redis.call('DEL', k) end
return 1
`;

/** The scripts by command name, as `defineCommand` takes them. */
export const REDIS_SCRIPTS = {
  ecsReserveById: RESERVE_BY_ID,
  ecsReserveByName: RESERVE_BY_NAME,
  ecsConsume: CONSUME,
  ecsSync: SYNC,
  ecsPutRoom: PUT_ROOM,
  ecsPatchRoom: PATCH_ROOM,
  ecsRemoveRoom: REMOVE_ROOM,
  ecsPurge: PURGE,
  ecsPutProcess: PUT_PROCESS,
  ecsRemoveProcess: REMOVE_PROCESS,
  ecsPutPresence: PUT_PRESENCE,
  ecsReadPresence: READ_PRESENCE,
  ecsRemovePresence: REMOVE_PRESENCE,
  ecsUnlock: UNLOCK,
} as const;

/** Name of one script command. */
export type RedisScriptName = keyof typeof REDIS_SCRIPTS;
