"""Redis through the project's factory."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ytempire.clients import redis_client
from ytempire.errors import ServiceUnavailable

pytestmark = pytest.mark.services


def test_set_get_expire_and_hash(settings, redis_prefix):
    client = redis_client(check=True, settings=settings)
    client.set(f"{redis_prefix}k", "v", ex=60)
    client.hset(f"{redis_prefix}h", mapping={"a": "1", "b": "2"})
    assert client.get(f"{redis_prefix}k") == "v"
    assert 0 < client.ttl(f"{redis_prefix}k") <= 60
    assert client.hgetall(f"{redis_prefix}h") == {"a": "1", "b": "2"}


def test_lua_scripts_run_atomically(settings, redis_prefix):
    client = redis_client(settings=settings)
    incr_capped = client.register_script(
        "local v = redis.call('INCRBY', KEYS[1], ARGV[1]) "
        "if v > tonumber(ARGV[2]) then redis.call('DECRBY', KEYS[1], ARGV[1]) return -1 end "
        "return v"
    )
    results = [incr_capped(keys=[f"{redis_prefix}c"], args=[3, 10]) for _ in range(5)]
    assert results == [3, 6, 9, -1, -1]


def test_unreachable_redis_names_the_service(settings):
    with pytest.raises(ServiceUnavailable, match="Redis is down or unreachable"):
        redis_client(check=True, settings=replace(settings, redis_url="redis://127.0.0.1:1/0"))
