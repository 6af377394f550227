<?php
// The hand-written approach apps use today, for the benchmark's comparison: parse
// REDIS_URL in PHP and point phpredis' session handler at it. As usually pasted: no
// persistent connection, no locking, the password put in the save path as it is.
// The one change for TLS is the least that works with Heroku's self-signed certificate:
// tls:// and peer verification off (the tcp:// form cannot talk to a TLS-only Redis).
// Loaded with -d auto_prepend_file, which costs the same as the snippet at the top of
// the app's front controller.
$url = parse_url(getenv('REDIS_URL'));
if ($url['scheme'] === 'rediss') {
    $savePath = 'tls://' . $url['host'] . ':' . $url['port'] . '?auth=' . $url['pass']
        . '&stream[verify_peer]=0&stream[verify_peer_name]=0';
} else {
    $savePath = 'tcp://' . $url['host'] . ':' . $url['port'] . '?auth=' . $url['pass'];
}
ini_set('session.save_handler', 'redis');
ini_set('session.save_path', $savePath);
