<?php
// Test page: counts a visit in a session of Symfony's HttpFoundation, through its native
// session storage (PHP's own session handler, as Symfony's default handler_id: null has
// it), from Debian's php-symfony-http-foundation. Served, the session comes from the
// cookie; run from the CLI (as a CNB process), from SESSION_ID, or a new one.
require_once 'Symfony/Component/HttpFoundation/autoload.php';

use Symfony\Component\HttpFoundation\Session\Session;
use Symfony\Component\HttpFoundation\Session\Storage\NativeSessionStorage;

$session = new Session(new NativeSessionStorage());
if (PHP_SAPI === 'cli' && getenv('SESSION_ID') !== false) {
    $session->setId(getenv('SESSION_ID'));
}
$session->start();
$session->set('visits', $session->get('visits', 0) + 1);
$visits = $session->get('visits');
$session->save();
header('Content-Type: application/json');
echo json_encode([
    'session_id' => $session->getId(),
    'visits' => $visits,
    'save_handler' => ini_get('session.save_handler'),
    'strict_mode' => ini_get('session.use_strict_mode'),
]), "\n";
