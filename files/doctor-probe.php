<?php
// Run by `php-redis-sessions doctor` (php -r, without this opening tag). It checks the
// servers boot chose and writes, reads and deletes a test session through PHP's session
// module, then prints one JSON line. The target comes from the environment
// (PHP_REDIS_SESSIONS_DOCTOR_TARGET), never from the command line; raw error messages
// go back to the doctor, which only classifies them and never prints them.
$target = json_decode((string) getenv('PHP_REDIS_SESSIONS_DOCTOR_TARGET'), true);
// `php -r` runs no auto_prepend_file: with the buildpack's own session handler, run it
// as a request would (without the app's own prepend file, which it would run next).
$handler = (string) getenv('PHP_REDIS_SESSIONS_INI_AUTO_PREPEND_FILE');
if ($handler !== '' && ini_get('auto_prepend_file') === $handler && is_file($handler)) {
    define('PHP_REDIS_SESSIONS_DOCTOR', true);
    require $handler;
}
$out = ['php' => PHP_VERSION, 'redis' => phpversion('redis') ?: null, 'extension' => extension_loaded('redis')];
// Where a warning of PHP's session module would go (it quotes session.save_path).
$out['logging'] = [
    'display_errors' => (string) ini_get('display_errors'),
    'log_errors' => (bool) ini_get('log_errors'),
    'error_log' => (string) ini_get('error_log'),
    'warnings' => (error_reporting() & E_WARNING) !== 0,
];
if (!$out['extension'] || !is_array($target)) {
    echo json_encode($out), "\n";
    exit(0);
}
$errors = [];
set_error_handler(function ($no, $message) use (&$errors) {
    $errors[] = $message;
    return true;
});
$ms = function ($start) {
    return round((hrtime(true) - $start) / 1e6, 2);
};
$context = $target['tls'] ? ['stream' => $target['stream']] : [];
$auth = function ($server) {
    $password = hex2bin($server['password']);
    if ($password === '') {
        return null;
    }
    return $server['user'] === null ? $password : [hex2bin($server['user']), $password];
};
$checks = [];
if ($target['cluster']) {
    $seeds = array_map(function ($s) { return $s['host'] . ':' . $s['port']; }, $target['servers']);
    $errors = [];
    $start = hrtime(true);
    try {
        $args = [null, $seeds, $target['timeout'], $target['read_timeout'], false, $auth($target['servers'][0])];
        if ($target['tls']) {
            // RedisCluster takes the SSL options themselves, not ['stream' => ...].
            $args[] = $target['stream'];
        }
        $cluster = new RedisCluster(...$args);
        foreach ($cluster->_masters() as $master) {
            $cluster->ping($master);
        }
        $checks[] = ['ok' => true, 'ms' => $ms($start)];
    } catch (Throwable $e) {
        $checks[] = ['ok' => false, 'ms' => $ms($start), 'error' => implode("\n", array_merge([$e->getMessage()], $errors))];
    }
} else {
    foreach ($target['servers'] as $server) {
        $errors = [];
        $start = hrtime(true);
        try {
            $redis = new Redis();
            $host = ($target['tls'] ? 'tls://' : '') . $server['host'];
            $redis->connect($host, $server['port'], $target['timeout'], null, 0, $target['read_timeout'], $context);
            $login = $auth($server);
            if ($login !== null && !$redis->auth($login)) {
                throw new RedisException('AUTH failed: ' . $redis->getLastError());
            }
            if ($server['database'] !== null) {
                $redis->select($server['database']);
            }
            $redis->ping();
            $checks[] = ['ok' => true, 'ms' => $ms($start)];
            $redis->close();
        } catch (Throwable $e) {
            // PHP's stream layer warns with the real reason (TLS, DNS) before phpredis throws.
            $checks[] = ['ok' => false, 'ms' => $ms($start), 'error' => implode("\n", array_merge([$e->getMessage()], $errors))];
            break;
        }
    }
}
$out['checks'] = $checks;
$reached = array_filter($checks, function ($check) { return $check['ok']; });
if (count($reached) === count($checks) && count($checks) === ($target['cluster'] ? 1 : count($target['servers']))) {
    $session = ['handler' => ini_get('session.save_handler')];
    if ($session['handler'] === 'user' && class_exists('PhpRedisSessions\\Handler', false)) {
        $session['handler'] = 'buildpack';
    }
    // A session whose id the doctor picks, the way PHP's manual does it for custom ids:
    // strict mode (on by default) refuses ids it does not know yet.
    ini_set('session.use_strict_mode', '0');
    $id = 'doctor' . bin2hex(random_bytes(12));
    $errors = [];
    $start = hrtime(true);
    session_id($id);
    $ok = session_start();
    if ($ok) {
        $_SESSION['doctor'] = 42;
        $ok = session_write_close();
    }
    $session['write_ms'] = $ms($start);
    if ($ok) {
        $start = hrtime(true);
        session_id($id);
        $ok = session_start() && ($_SESSION['doctor'] ?? null) === 42;
        $session['read_ms'] = $ms($start);
        $start = hrtime(true);
        $ok = $ok && session_destroy();
        $session['delete_ms'] = $ms($start);
    }
    $session['ok'] = $ok;
    $session['error'] = $ok ? null : (implode("\n", $errors) ?: 'the session did not round-trip');
    $out['session'] = $session;
}
echo json_encode($out), "\n";
