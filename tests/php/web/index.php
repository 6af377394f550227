<?php
// Test page: counts a visit in the session (?hold_ms=N keeps the session open that long).
session_start();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
usleep(max(0, min(5000, (int) ($_GET['hold_ms'] ?? 0))) * 1000);
header('Content-Type: application/json');
echo json_encode([
    'session_id' => session_id(),
    'visits' => $_SESSION['visits'],
    'save_handler' => ini_get('session.save_handler'),
    'prepended' => defined('APP_PREPENDED'),
]), "\n";
