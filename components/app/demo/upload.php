<?php
// POST a file (field "file") to store it in the shared uploads dir, which
// lsyncd copies to every other app server; GET lists the files. Add
// ?format=json (or Accept: application/json) for JSON answers.
declare(strict_types=1);

require __DIR__ . '/lib.php';

$cfg = app_config();
$dir = $cfg['uploads_dir'];
$json = ($_GET['format'] ?? '') === 'json' || str_contains((string) ($_SERVER['HTTP_ACCEPT'] ?? ''), 'application/json');

/** Ends the request with an error in the caller's preferred format. */
function upload_fail(bool $json, int $status, string $message): never
{
    if ($json) {
        app_json(['error' => $message], $status);
    }
    http_response_code($status);
    header('Content-Type: text/plain; charset=utf-8');
    echo $message, "\n";
    exit;
}

if (($_SERVER['REQUEST_METHOD'] ?? 'GET') === 'POST') {
    $f = $_FILES['file'] ?? null;
    if (!is_array($f) || !isset($f['error']) || !is_int($f['error'])) {
        upload_fail($json, 400, 'no file (form field "file") or request too large');
    }
    if ($f['error'] === UPLOAD_ERR_INI_SIZE || $f['error'] === UPLOAD_ERR_FORM_SIZE) {
        upload_fail($json, 413, 'file too large');
    }
    if ($f['error'] !== UPLOAD_ERR_OK) {
        upload_fail($json, 400, 'upload failed (code ' . $f['error'] . ')');
    }
    $name = app_safe_upload_name((string) $f['name']);
    // Land under a dot-name first, then rename: lsyncd and nginx ignore
    // dotfiles, so peers and readers only ever see the complete file.
    $tmp = $dir . '/.upload-' . bin2hex(random_bytes(8));
    if (!move_uploaded_file((string) $f['tmp_name'], $tmp)) {
        upload_fail($json, 500, 'cannot store file');
    }
    chmod($tmp, 0664);
    if (!rename($tmp, "$dir/$name")) {
        @unlink($tmp);
        upload_fail($json, 500, 'cannot store file');
    }
    if ($json) {
        app_json(['saved' => $name, 'size' => (int) $f['size'], 'host' => gethostname()], 201);
    }
    header('Location: /upload.php', true, 303);
    exit;
}

$files = app_list_uploads($dir);
if ($json) {
    app_json(['host' => gethostname(), 'region' => $cfg['region'], 'files' => $files]);
}

header('Content-Type: text/html; charset=utf-8');
header('Cache-Control: no-store');
?>
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dns-rr-ha uploads</title>
</head>
<body>
<h1>Uploads on <?= h(gethostname()) ?> (<?= h($cfg['region']) ?>)</h1>
<form method="post" enctype="multipart/form-data" action="/upload.php">
  <input type="file" name="file" required>
  <button type="submit">Upload</button>
</form>
<ul id="files">
<?php foreach ($files as $file): ?>
  <li><a href="/uploads/<?= h(rawurlencode($file['name'])) ?>"><?= h($file['name']) ?></a> (<?= h($file['size']) ?> bytes)</li>
<?php endforeach; ?>
</ul>
<p><a href="/">home</a></p>
</body>
</html>
