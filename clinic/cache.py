"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's RedisCacheClient builds a new redis.Redis object for every cache call; each build fills a table of
~170 response callbacks, which costs more than the round trip to Redis itself. Every signed-in request makes
several cache calls (the session, small shared values), so the client is built once and reused. redis-py
clients are safe to share between threads; Django already keeps one cache object per thread."""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _ReusedClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClient
