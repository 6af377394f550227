<?php
// Test driver: opens a session, adds one visit, and reports what a user would check. It
// never prints session.save_path (it holds the password).
// SESSION_ID is the session cookie a client sends back (strict mode checks it);
// NEW_SESSION_ID starts a new session under an id the server picks, the way PHP's manual
// does it for custom ids: strict mode is off for that one start, since it refuses ids it
// does not know yet.
if (getenv('NEW_SESSION_ID') !== false) {
    ini_set('session.use_strict_mode', '0');
    session_id(getenv('NEW_SESSION_ID'));
} elseif (getenv('SESSION_ID') !== false) {
    session_id(getenv('SESSION_ID'));
}
$started = session_start();
if ($started) {
    $_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
    $visits = $_SESSION['visits'];
    $closed = session_write_close();
} else {
    $visits = null;
    $closed = false;
}
echo json_encode([
    'started' => $started,
    'closed' => $closed,
    'session_id' => session_id(),
    'visits' => $visits,
    'save_handler' => ini_get('session.save_handler'),
    'locking' => ini_get('redis.session.locking_enabled'),
    'redis' => phpversion('redis'),
]), "\n";
