<?php
// Test page: reads the session and changes nothing in it.
session_start();
header('Content-Type: application/json');
echo json_encode(['session_id' => session_id(), 'visits' => $_SESSION['visits'] ?? null]), "\n";
