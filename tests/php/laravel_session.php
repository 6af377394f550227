<?php
// Test driver: starts a session of Laravel's session component (Debian's
// php-illuminate-session) with its file driver, the default of the Laravel versions
// Debian packages, writes to it, and prints what PHP's own session module saw.
require_once 'Illuminate/Session/autoload.php';
require_once 'Illuminate/Config/autoload.php';
require_once 'Illuminate/Container/autoload.php';
require_once 'Illuminate/Filesystem/autoload.php';

$dir = getenv('LARAVEL_SESSION_DIR');
$app = new Illuminate\Container\Container();
$app['config'] = new Illuminate\Config\Repository(['session' => [
    'driver' => 'file',
    'files' => $dir,
    'lifetime' => 120,
    'cookie' => 'laravel_session',
    'encrypt' => false,
    'lottery' => [0, 100],
]]);
$app['files'] = new Illuminate\Filesystem\Filesystem();
$store = (new Illuminate\Session\SessionManager($app))->driver();
$store->start();
$store->put('visits', 1);
$store->save();
echo json_encode([
    'php_session_status' => session_status(),
    'save_handler' => ini_get('session.save_handler'),
    'laravel_session_id' => $store->getId(),
    'files' => count(glob("$dir/*")),
]), "\n";
