<?php
// Test driver: adds one visit to each of SESSION_COUNT sessions whose ids end in
// -SESSION_PREFIX, and prints the visit counts as JSON (null for a session that did not
// start). The ids start with varied characters, as PHP's random ids do: phpredis picks a
// shard from the first four bytes of the id. With NEW_SESSIONS set, they are new sessions
// whose ids the server picks (strict mode off for them, as PHP's manual does for custom
// ids); otherwise the ids are sent back as cookies are, and strict mode checks them.
if (getenv('NEW_SESSIONS') !== false) {
    ini_set('session.use_strict_mode', '0');
}
$prefix = getenv('SESSION_PREFIX');
$visits = [];
for ($i = 0; $i < (int) getenv('SESSION_COUNT'); $i++) {
    session_id(substr(md5("$prefix-$i"), 0, 16) . "-$prefix");
    if (!@session_start()) {
        $visits[] = null;
        continue;
    }
    $_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
    $visits[] = $_SESSION['visits'];
    session_write_close();
}
echo json_encode(['save_handler' => ini_get('session.save_handler'), 'visits' => $visits]), "\n";
