<?php
// Test page: the app's own phpredis connection to the same Redis, persistent, switched to
// database 3 and left there, as apps that keep a cache in another database do.
$redis = new Redis();
// APP_REDIS_HOST as the app writes it: `tcp://HOST` (or `tls://HOST`) is the string the
// session handler's own connections are pooled under.
$redis->pconnect(getenv('APP_REDIS_HOST'), (int) getenv('APP_REDIS_PORT'), (float) (getenv('APP_REDIS_TIMEOUT') ?: 0));
if (getenv('APP_REDIS_PASSWORD') !== false) {
    $redis->auth(getenv('APP_REDIS_PASSWORD'));
}
$redis->select(3);
$redis->set('app-cache', 'x');
echo "ok\n";
