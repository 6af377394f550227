<?php
// Test page: what a request sees of its session's lock: whether session_start() succeeded,
// the visits it found, and whether session_write_close() reported the write
// (?hold_ms=N holds the session that long first, up to 5 s).
$started = session_start();
$found = $_SESSION['visits'] ?? 0;
$_SESSION['visits'] = $found + 1;
usleep(max(0, min(5000, (int) ($_GET['hold_ms'] ?? 0))) * 1000);
$closed = session_write_close();
header('Content-Type: application/json');
echo json_encode(['started' => $started, 'found' => $found, 'closed' => $closed]), "\n";
