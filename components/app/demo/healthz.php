<?php
// Liveness for HAProxy: answers whenever nginx can reach a php-fpm worker.
// Deliberately touches neither the database nor memcached: one region's DB or a
// session node being down must not take every app server out of rotation.
declare(strict_types=1);

header('Content-Type: text/plain; charset=utf-8');
header('Cache-Control: no-store');
echo "ok\n";
