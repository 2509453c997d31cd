"""The Lua scripts of a distributed crawl's Redis state (:mod:`rfi_spider.archive.redis_state`):
each reads and writes its keys in one step, so that two nodes never both take an article
or both export it."""

# Renew a claim only if it is still ours; returns 1 when renewed.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Take a claim: free (SET NX PX), or already ours (the same token: a retry or a redirect
# of the request that claimed it). Returns 1 when taken.
CLAIM = """
local held = redis.call('GET', KEYS[1])
if held == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# Delete a claim only if it is still the given value.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# Begin an export: {-1} if the URL is exported already (and this is no revisit, or its
# content is not known); {-2, latest} if a revisit found the latest version's digest (the
# check's time is recorded); {0} if another node holds its claim; {1, latest or ""} when
# the claim (ours, or free) became "exporting:<node>" (no expiry) and the URL is in the
# node's exporting set. KEYS: exported, claim, exporting set, versions; ARGV: member,
# token, exporting value, url, revisit ("1"/"0"), content digest, fetch time.
BEGIN_EXPORT = """
local latest = false
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  if ARGV[5] ~= '1' then
    return {-1}
  end
  latest = redis.call('HGET', KEYS[4], ARGV[1])
  if latest == false then
    return {-1}
  end
  local number, digest, checked = string.match(latest, '^(%d+) (%x+) (%S+)$')
  if digest == ARGV[6] then
    if ARGV[7] > checked then
      redis.call('HSET', KEYS[4], ARGV[1], number .. ' ' .. digest .. ' ' .. ARGV[7])
    end
    return {-2, latest}
  end
end
local held = redis.call('GET', KEYS[2])
if held ~= false and held ~= ARGV[2] and held ~= ARGV[3] then
  return {0}
end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return {1, latest or ''}
"""
# Record a version unless a later one is recorded. KEYS: versions; ARGV: member, version,
# digest, fetch time.
SET_VERSION = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored ~= false then
  local number = tonumber(string.match(stored, '^(%d+) '))
  if number ~= nil and number >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4])
return 1
"""
