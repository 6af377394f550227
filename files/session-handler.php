<?php
// PHP Redis Sessions buildpack: its own session handler, for PHP_REDIS_SESSIONS_HANDLER=buildpack.
// Loaded before the app's code (auto_prepend_file, set by the buildpack's ini only in that
// mode), it registers itself as PHP's session handler and then runs the app's own
// auto_prepend_file, if the build found one.
//
// Why: phpredis' own handler needs about seven round trips to Redis for a locked request
// and reads the password from session.save_path, which PHP quotes in its warnings. This
// one does a locked request in two (lock + read in one script, check + write + unlock in
// another, the login pipelined with the first), keeps the data and lock keys of a session
// in one hash slot ({id}), so that it can lock on shards with a key prefix and on a Redis
// Cluster, and reads its configuration, password included, from the environment that boot
// set: session.save_path holds nothing secret.
//
// Nothing here is secret: the configuration comes from PHP_REDIS_SESSIONS_HANDLER_CONFIG.

namespace PhpRedisSessions;

final class Handler implements \SessionHandlerInterface, \SessionUpdateTimestampHandlerInterface
{
    // Takes the lock (unless locking is off) and reads the data, in one round trip. With
    // must_exist, an unknown id is refused first (strict mode). Returns {status, data}:
    // 0 unknown id, 1 locked and read, 2 someone else holds the lock. A lock this request
    // already holds counts as taken (a try again after a reply that got lost).
    private const LOCK_AND_READ = <<<'LUA'
        if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then
            return {0, false}
        end
        if ARGV[3] == '1' and not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
            and redis.call('GET', KEYS[2]) ~= ARGV[1] then
            return {2, false}
        end
        return {1, redis.call('GET', KEYS[1])}
        LUA;

    // Writes (or, with an empty data argument and refresh set, only refreshes the expiry),
    // then unlocks, if the lock is still this request's: 1 done, 0 lock lost.
    private const WRITE_AND_UNLOCK = <<<'LUA'
        if ARGV[4] == '1' and redis.call('GET', KEYS[2]) ~= ARGV[1] then
            return 0
        end
        if ARGV[5] == '1' then
            redis.call('EXPIRE', KEYS[1], ARGV[3])
        else
            redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
        end
        if ARGV[4] == '1' then
            redis.call('DEL', KEYS[2])
        end
        return 1
        LUA;

    // Unlocks (if the lock is this request's) and, with destroy, deletes the data.
    private const UNLOCK = <<<'LUA'
        if ARGV[2] == '1' then
            redis.call('DEL', KEYS[1])
        end
        if redis.call('GET', KEYS[2]) == ARGV[1] then
            redis.call('DEL', KEYS[2])
        end
        return 1
        LUA;

    private array $config;
    /** @var array<string, \Redis|\RedisCluster> connections of this request, by server */
    private array $connections = [];
    /** The session this request holds the lock of, and the server it is on. */
    private ?string $lockedId = null;
    private string $token;
    /** What validateId() read, for read() to return without asking again. */
    private ?string $validatedId = null;
    private string|int|null $validatedData = null;

    /** What lockAndRead() answers for an id that strict mode refuses. */
    private const UNKNOWN = 0;

    public function __construct(array $config)
    {
        $this->config = $config;
        $this->token = gethostname() . '|' . getmypid() . '|' . bin2hex(random_bytes(8));
    }

    public function open(string $path, string $name): bool
    {
        return true;
    }

    public function close(): bool
    {
        if ($this->lockedId !== null) {
            $this->unlock($this->lockedId, false);
        }
        $this->validatedId = null;
        return true;
    }

    public function validateId(string $id): bool
    {
        // Strict mode asks first whether the id is known: answer from the same script that
        // locks and reads, so that read() costs nothing more. When Redis cannot answer,
        // the id is not refused (that would start a new, empty session in its place):
        // read() fails instead, and so does session_start().
        $data = $this->lockAndRead($id, true);
        if ($data === self::UNKNOWN) {
            return false;
        }
        $this->validatedId = $id;
        $this->validatedData = $data;
        return true;
    }

    public function read(string $id): string|false
    {
        if ($this->validatedId === $id) {
            $this->validatedId = null;
            $data = $this->validatedData;
        } else {
            $data = $this->lockAndRead($id, false);
        }
        return is_string($data) ? $data : false;
    }

    public function write(string $id, string $data): bool
    {
        return $this->writeAndUnlock($id, $data, false);
    }

    public function updateTimestamp(string $id, string $data): bool
    {
        return $this->writeAndUnlock($id, $data, true);
    }

    public function destroy(string $id): bool
    {
        $done = $this->call($id, self::UNLOCK, [$this->token, '1']) !== null;
        if ($this->lockedId === $id) {
            $this->lockedId = null;
        }
        return $done;
    }

    public function gc(int $max_lifetime): int|false
    {
        return 0; // Redis expires sessions itself.
    }

    /**
     * The session's data ('' for none); self::UNKNOWN for an unknown id (must_exist); null
     * when it failed: Redis could not be reached, or the lock not taken in time.
     */
    private function lockAndRead(string $id, bool $mustExist): string|int|null
    {
        $lock = $this->config['lock'];
        $tries = $lock['enabled'] ? max(1, $lock['retries']) : 1;
        for ($try = 0; $try < $tries; $try++) {
            if ($try > 0) {
                usleep($lock['wait_us']);
            }
            $reply = $this->call($id, self::LOCK_AND_READ, [
                $this->token,
                (string) ($lock['expire'] * 1000),
                $lock['enabled'] ? '1' : '0',
                $mustExist ? '1' : '0',
            ]);
            if (!is_array($reply)) {
                return null;
            }
            switch ((int) $reply[0]) {
                case 0:
                    return self::UNKNOWN;
                case 1:
                    if ($lock['enabled']) {
                        $this->lockedId = $id;
                    }
                    return is_string($reply[1]) ? $reply[1] : '';
            }
        }
        trigger_error('php-redis-sessions: the session lock could not be taken in time', E_USER_WARNING);
        return null;
    }

    private function writeAndUnlock(string $id, string $data, bool $refresh): bool
    {
        $locking = $this->config['lock']['enabled'] && $this->lockedId === $id;
        $reply = $this->call($id, self::WRITE_AND_UNLOCK, [
            $this->token,
            $refresh ? '' : $data,
            (string) max(1, (int) ini_get('session.gc_maxlifetime')),
            $locking ? '1' : '0',
            $refresh ? '1' : '0',
        ]);
        if ($locking) {
            $this->lockedId = null;
        }
        if ($reply === 0) {
            trigger_error('php-redis-sessions: the session lock expired before the write; the write was dropped', E_USER_WARNING);
        }
        return $reply === 1;
    }

    private function unlock(string $id, bool $destroy): void
    {
        $this->lockedId = null;
        $this->call($id, self::UNLOCK, [$this->token, $destroy ? '1' : '0']);
    }

    /**
     * Runs a script on the session's keys, on the server that holds them: the reply, or
     * null when Redis could not be reached. A kept (persistent) connection that fails
     * after connecting may have died since an earlier request (Redis restarted, or went
     * silent): it is replaced once. A connection that cannot be made is not tried again,
     * so an outage costs one connect timeout.
     */
    private function call(string $id, string $script, array $args): mixed
    {
        $prefix = $this->config['prefix'];
        $keys = [$prefix . '{' . $id . '}', $prefix . '{' . $id . '}:lock'];
        $server = $this->server($id);
        $why = 'no connection could be made';
        for ($try = 0; $try < 2; $try++) {
            $redis = $this->connection($server, $why);
            if ($redis === null) {
                break;
            }
            try {
                $reply = $this->run($redis, $server, $script, $keys, $args);
                if ($reply !== null) {
                    return $reply;
                }
                $why = 'Redis refused the login, the database or the script';
            } catch (\Throwable $error) {
                $why = $error->getMessage();
            }
            // Dropped, not closed: phpredis has closed a connection that failed (and
            // close() on one left in pipeline mode would wait out another timeout).
            unset($this->connections[$server]);
            $redis = null;
            if (!$this->config['persistent']) {
                break;
            }
        }
        // phpredis' messages name the host and port at most, never the password.
        trigger_error("php-redis-sessions: Redis could not be reached for the session ($why)", E_USER_WARNING);
        return null;
    }

    /** Sends the login (new or kept connection alike) and the script in one round trip. */
    private function run(\Redis|\RedisCluster $redis, string $server, string $script, array $keys, array $args): mixed
    {
        if ($redis instanceof \RedisCluster) {
            $reply = $redis->eval($script, array_merge($keys, $args), count($keys));
            return $reply === false && $redis->getLastError() !== null ? null : $reply;
        }
        $target = $this->config['servers'][(int) $server];
        $redis->multi(\Redis::PIPELINE);
        $login = $this->login($target);
        if ($login !== null) {
            $redis->auth($login);
        }
        // Always: phpredis 5.3 pools persistent connections by host and port alone, so
        // a connection an app's own pconnect() left in another database can come here.
        $redis->select($target['database'] ?? 0);
        $redis->eval($script, array_merge($keys, $args), count($keys));
        $replies = $redis->exec();
        if (!is_array($replies) || count($replies) === 0) {
            return null;
        }
        foreach (array_slice($replies, 0, -1) as $answer) {
            if ($answer !== true) {
                return null; // the login or the database was refused
            }
        }
        $reply = end($replies);
        return $reply === false && $redis->getLastError() !== null ? null : $reply;
    }

    /** The server (its index, or 'cluster') for a session id. */
    private function server(string $id): string
    {
        if ($this->config['cluster']) {
            return 'cluster';
        }
        $servers = $this->config['servers'];
        if (count($servers) === 1) {
            return '0';
        }
        $total = array_sum(array_column($servers, 'weight'));
        $point = crc32($id) % $total;
        foreach ($servers as $index => $server) {
            $point -= $server['weight'];
            if ($point < 0) {
                return (string) $index;
            }
        }
        return '0';
    }

    /** This request's connection to a server (or the cluster), or null if none can be made. */
    private function connection(string $server, string &$why): \Redis|\RedisCluster|null
    {
        if (isset($this->connections[$server])) {
            return $this->connections[$server];
        }
        $config = $this->config;
        try {
            if ($server === 'cluster') {
                $seeds = array_map(fn ($s) => $s['host'] . ':' . $s['port'], $config['servers']);
                $args = [null, $seeds, $config['timeout'], $config['read_timeout'], $config['persistent'], $this->login($config['servers'][0])];
                if ($config['tls']) {
                    $args[] = $this->tlsOptions(); // RedisCluster takes the SSL options themselves
                }
                return $this->connections[$server] = new \RedisCluster(...$args);
            }
            $target = $config['servers'][(int) $server];
            $redis = new \Redis();
            $host = ($config['tls'] ? 'tls://' : '') . $target['host'];
            $context = $config['tls'] ? ['stream' => $this->tlsOptions()] : [];
            // An id of this handler's own: an app's own pconnect() to the same Redis, or
            // phpredis' session handler, never hands it a connection in another database.
            if ($config['persistent']) {
                // phpredis checks a kept connection with a round trip (ECHO) unless told
                // not to; this handler does without (it replaces a connection that fails
                // once), for its own connections only: the app's keep the ini's setting.
                $echo = ini_set('redis.pconnect.echo_check_liveness', '0');
                try {
                    $connected = $redis->pconnect($host, $target['port'], $config['timeout'], 'php-redis-sessions-handler', 0, $config['read_timeout'], $context);
                } finally {
                    if ($echo !== false) {
                        ini_set('redis.pconnect.echo_check_liveness', $echo);
                    }
                }
            } else {
                $connected = $redis->connect($host, $target['port'], $config['timeout'], null, 0, $config['read_timeout'], $context);
            }
            return $connected ? $this->connections[$server] = $redis : null;
        } catch (\Throwable $error) {
            $why = $error->getMessage();
            return null;
        }
    }

    /** The password alone, an ACL user and password, or null for no login. */
    private function login(array $server): string|array|null
    {
        if ($server['password'] === null) {
            return null;
        }
        $password = hex2bin($server['password']);
        return $server['user'] === null ? $password : [hex2bin($server['user']), $password];
    }

    private function tlsOptions(): array
    {
        $tls = $this->config['tls_options'];
        $options = ['verify_peer' => $tls['verify'], 'verify_peer_name' => $tls['verify']];
        if ($tls['verify'] && $tls['cafile'] !== null) {
            $options['cafile'] = $tls['cafile'];
        }
        return $options;
    }
}

(static function (): void {
    $config = json_decode((string) getenv('PHP_REDIS_SESSIONS_HANDLER_CONFIG'), true);
    if (is_array($config) && extension_loaded('redis')) {
        session_set_save_handler(new Handler($config), true);
    }
})();

// The app's own auto_prepend_file, which the buildpack's ini took the place of (not
// for `php-redis-sessions doctor`, which runs no app code).
if (($app = getenv('PHP_REDIS_SESSIONS_APP_PREPEND_FILE')) !== false && $app !== '' && !defined('PHP_REDIS_SESSIONS_DOCTOR')) {
    require $app;
}
