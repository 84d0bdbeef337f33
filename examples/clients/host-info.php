<?php
// A signed host-info call the way the original service's PHP clients make it:
// gmdate(DATE_RSS) with "+0000" replaced by "UTC", a random nonce (random_bytes), hash_hmac and curl.
// Usage: PANTHERA_URL=http://127.0.0.1:8080 PANTHERA_API_KEY=... PANTHERA_API_SECRET=... php host-info.php

$url = getenv('PANTHERA_URL') ?: 'http://127.0.0.1:8080';
$api_key = getenv('PANTHERA_API_KEY');
$api_secret = getenv('PANTHERA_API_SECRET');

function call($url, $method, $api_key, $api_secret, $params, $multipart) {
    $timestamp = str_replace('+0000', 'UTC', gmdate(DATE_RSS));
    $nonce = bin2hex(random_bytes(8));
    $access_key = hash_hmac('sha1', $timestamp . $api_key . $nonce, $api_secret);
    $fields = array_merge(array(
        'api_key' => $api_key,
        'access_key' => $access_key,
        'timestamp' => $timestamp,
        'nonce' => $nonce,
        'algo' => 'sha1',
    ), $params);
    $ch = curl_init($url . '/' . $method);
    curl_setopt($ch, CURLOPT_POST, true);
    curl_setopt($ch, CURLOPT_HTTPHEADER, array('Accept-Version: 1.0'));
    curl_setopt($ch, CURLOPT_USERAGENT, 'my-php-app/1.0');
    // an array is sent as multipart/form-data, a string as urlencoded
    curl_setopt($ch, CURLOPT_POSTFIELDS, $multipart ? $fields : http_build_query($fields));
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    $body = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_HTTP_CODE);
    curl_close($ch);
    return array($status, $body);
}

list($status, $body) = call($url, 'host-info', $api_key, $api_secret, array(), false);
echo $body, "\n";
list($status2, $body2) = call($url, 'get-method-info', $api_key, $api_secret,
    array('method' => 'host-info', 'content_type' => 'application/json'), true);
echo $body2, "\n";
exit(($status == 200 && $status2 == 200) ? 0 : 1);
