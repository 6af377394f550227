<?php
// Test script: a session of Symfony's HttpFoundation through its native session storage
// (PHP's own session handler, which it wraps), from Debian's php-symfony-http-foundation,
// run as a process of the image runs PHP: a new session, or the one whose id is in
// SESSION_ID. Prints one JSON line.
require_once 'Symfony/Component/HttpFoundation/autoload.php';

use Symfony\Component\HttpFoundation\Session\Session;
use Symfony\Component\HttpFoundation\Session\Storage\NativeSessionStorage;

$session = new Session(new NativeSessionStorage());
if (getenv('SESSION_ID') !== false) {
    $session->setId(getenv('SESSION_ID'));
}
$session->start();
$session->set('visits', $session->get('visits', 0) + 1);
$visits = $session->get('visits');
$session->save();
echo json_encode([
    'session_id' => $session->getId(),
    'visits' => $visits,
    'save_handler' => ini_get('session.save_handler'),
    'strict_mode' => ini_get('session.use_strict_mode'),
]), "\n";
