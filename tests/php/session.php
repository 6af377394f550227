<?php
// Test driver: opens the session named by SESSION_ID, adds one visit, and reports what a
// user would check. It never prints session.save_path (it holds the password).
if (getenv('SESSION_ID') !== false) {
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
