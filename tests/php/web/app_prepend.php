<?php
// Test file: an app's own auto_prepend_file, which marks that it ran.
define('APP_PREPENDED', true);
