import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRedactor } from './redact.ts';
import { secretName } from './secret-rules.ts';

const r = compileRedactor(['ssn', 'customer_id']);
const R = '[REDACTED]';

test('fields named like secrets, and configured ones, are redacted at any depth', () => {
  const value = {
    user: 'alice',
    password: 'p',
    nested: [{ API_KEY: 'k', clientSecret: 's', 'x-auth-token': 't', Authorization: 'a', SSN: '1', customerId: '2' }],
    max_tokens: 100,
    _meta: { progressToken: 7 },
    empty: { token: '' },
  };
  assert.deepEqual(r.value(value), {
    user: 'alice',
    password: R,
    nested: [{ API_KEY: R, clientSecret: R, 'x-auth-token': R, Authorization: R, SSN: R, customerId: R }],
    max_tokens: 100,
    _meta: { progressToken: 7 },
    empty: { token: '' },
  });
});

test('secret field names are recognised in any case and spelling; names that only look alike are not (pass/secret/token/apiKey were missed in some spellings)', () => {
  const secret = [
    'password', 'PASSWORD', 'userPassword', 'db_password', 'passwd', 'passphrase', 'pass', 'dbPass', 'DB_PASS', 'db-pass', 'db.pass', 'pwd', 'DB_PWD', 'pw',
    'secret', 'client_secret', 'clientSecret', 'CLIENT_SECRET', 'Client-Secret', 'secretKey', 'aws_secret_access_key', 'webhookSecret',
    'token', 'ADMIN_TOKEN', 'accessToken', 'access-token', 'id_token', 'refresh.token', 'githubtoken', 'X-Auth-Token',
    'apiKey', 'api_key', 'API-KEY', 'x-api-key', 'APIKEY', 'apikeys', 'privateKey', 'private_key', 'accessKey', 'storageAccountKey', 'signing_key',
    'authorization', 'Proxy-Authorization', 'auth', 'basic_auth', 'proxyAuth', 'credentials', 'cookie', 'Set-Cookie', 'passcode',
  ];
  const notSecret = [
    'progressToken', 'nextToken', 'pageToken', 'max_tokens', 'maxTokens', 'total_tokens', 'tokenCount', 'token_type', 'tokenizer',
    'bypass', 'compass', 'passenger', 'author', 'authority', 'authorization_endpoint', 'oauth', 'key', 'primaryKey', 'publicKey', 'keyName',
    'user', 'username', 'id', 'name', 'description', 'cursor', 'hash', 'sha256',
  ];
  for (const name of secret) assert.equal(secretName(name), true, `${name} holds a secret`);
  for (const name of notSecret) assert.equal(secretName(name), false, `${name} does not`);
});

/** Text in, text out: what payload redaction makes of each, as a value inside a payload and as cut text. */
const TABLE: Array<[what: string, input: string, expected: string]> = [
  // JSON written into text content (a tool result's text), plain and escaped once more.
  ['JSON inside text', 'config: {"password": "hunter2", "ADMIN_TOKEN": "tok-9f2", "user": "bob"}', `config: {"password": "${R}", "ADMIN_TOKEN": "${R}", "user": "bob"}`],
  ['escaped JSON inside text', String.raw`{\"password\": \"hunter2\", \"port\": 5432}`, String.raw`{\"password\": \"${R}\", \"port\": 5432}`],
  ['single-quoted (Python repr)', "{'apiKey': 'k-123', 'api-key': 'k-456', 'region': 'eu'}", `{'apiKey': '${R}', 'api-key': '${R}', 'region': 'eu'}`],
  ['numbers too', '{"pin_password": 1234, "retries": 3}', `{"pin_password": ${R}, "retries": 3}`],
  ['null and flags are kept', '{"password": null, "token": true, "secret": ""}', '{"password": null, "token": true, "secret": ""}'],
  // env files, YAML, query strings, command lines
  ['env file', 'DB_HOST=db\nDB_PASSWORD=s3cr3t\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', `DB_HOST=db\nDB_PASSWORD=${R}\nexport AWS_SECRET_ACCESS_KEY=${R}`],
  ['YAML', 'database:\n  user: app\n  pass: hunter2\n  db-pass: "x y"', `database:\n  user: app\n  pass: ${R}\n  db-pass: "${R}"`],
  ['client_secret in a form body', 'client_id=abc&client_secret=xyz123&grant_type=client_credentials', `client_id=abc&client_secret=${R}&grant_type=client_credentials`],
  ['a flag with =', 'run --password=hunter2 --user=bob', `run --password=${R} --user=bob`],
  ['password= and token:', 'password=hunter2&user=bob token: abc', `password=${R}&user=bob token: ${R}`],
  // URLs
  ['password in a URL', 'postgres://app:s3cr3t@db.internal:5432/app', `postgres://app:${R}@db.internal:5432/app`],
  ['password in a URL inside text', 'clone https://bob:ghpw0rd@git.example.com/repo.git please', `clone https://bob:${R}@git.example.com/repo.git please`],
  ['password in a URL under an ordinary name, no user', '{"url": "redis://:topsecret@cache:6379/0"}', `{"url": "redis://:${R}@cache:6379/0"}`],
  // Provider keys by their prefixes
  ['sk_live_ keys', 'charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc now', `charge with ${R} now`],
  ['rk_test_ keys', 'rk_test_51Habcdefghijklmnop', R],
  ['sk- keys', 'key=sk-ant-api03-abcdefghijklmnop', `key=${R}`],
  ['sk-proj- keys in text', 'use sk-proj-Abc123Def456Ghi789Jkl0 here', `use ${R} here`],
  ['Gatehouse API keys', 'gh_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd', R],
  ['GitHub tokens', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a and more', `${R} and more`],
  ['GitLab tokens', 'glpat-xxxxxxxxxxxxxxxxxxxx1', R],
  ['AWS access key ids', 'AKIAIOSFODNN7EXAMPLE', R],
  ['Google API keys', 'AIzaSyA-1234567890abcdefghijklmnopqrstu', R],
  ['Slack tokens', 'xoxb-123456789012-1234567890123-abcdefghijABCD', R],
  ['Slack webhooks', 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX', `https://${R}`],
  ['npm tokens', 'npm_abcdefghijklmnopqrstuvwxyz0123456789', R],
  ['SendGrid keys', 'SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', R],
  ['JWTs', 'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature', `jwt ${R}`],
  ['Vault tokens', 'VAULT: hvs.CAESIabcdefghijklmnopqrstuvwxyz', `VAULT: ${R}`],
  // HTTP credentials
  ['Authorization header', 'Authorization: Bearer abc.def-ghi_jkl', `Authorization: ${R}`],
  ['a bearer token in text', 'use Bearer 0123456789abcdef please', `use Bearer ${R} please`],
  ['Basic credentials', 'curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA=="', `curl -H "Authorization: ${R}"`],
  // PEM private keys
  ['a PEM private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4UbaDzY\nabc==\n-----END RSA PRIVATE KEY-----\nthat was the key', `${R}\nthat was the key`],
  ['an OpenSSH key cut before its end', String.raw`key: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA`, `key: ${R}`],
  ['a PKCS#8 key in JSON', '{"pem": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n"}', `{"pem": "${R}\\n"}`],
  // What must stay as it is
  ['ordinary text', 'an ordinary sentence about tokens, passwords and keys', 'an ordinary sentence about tokens, passwords and keys'],
  ['prose after Basic and Bearer', 'Basic information is free. Bearer of news.', 'Basic information is free. Bearer of news.'],
  ['hashes and ids', 'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 commit 95d313bd9d706c69b513fba2e36b071b4ac3d380 id 123e4567-e89b-12d3-a456-426614174000 req_01HZX', 'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 commit 95d313bd9d706c69b513fba2e36b071b4ac3d380 id 123e4567-e89b-12d3-a456-426614174000 req_01HZX'],
  ['URLs without a password', 'https://user@example.com/x and http://host:8080/path?q=1 and mailto:bob@example.com', 'https://user@example.com/x and http://host:8080/path?q=1 and mailto:bob@example.com'],
  ['token counts and cursors', '{"max_tokens": 100, "tokenCount": 12, "progressToken": 5, "nextCursor": "abc"}', '{"max_tokens": 100, "tokenCount": 12, "progressToken": 5, "nextCursor": "abc"}'],
  ['publishable keys', 'pk_live_4eC39HqLyjWDarjtT1zdp7dc', 'pk_live_4eC39HqLyjWDarjtT1zdp7dc'],
  ['names that only look like secrets', 'bypass: yes compass=north author: ann', 'bypass: yes compass=north author: ann'],
  ['a public key', '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ\n-----END PUBLIC KEY-----', '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ\n-----END PUBLIC KEY-----'],
  ['configured names, in text too', 'ssn=123-45-6789 Customer-Id: 42', `ssn=${R} Customer-Id: ${R}`],
];

test('secrets in text are redacted, and what is not a secret stays (a table of inputs and outputs)', () => {
  for (const [what, input, expected] of TABLE) {
    assert.equal(r.text(input), expected, what);
    assert.deepEqual(r.value({ text: input }), { text: expected }, `${what} (as a value)`);
  }
});

test('text that is not JSON any more (cut) is redacted by member and by value', () => {
  const cut = '{"jsonrpc":"2.0","id":3,"result":{"password" : "x\\"y","note":"Bearer abcdefghijkl1","ssn":"1-2-3","tail":"unfinis';
  assert.equal(r.text(cut), `{"jsonrpc":"2.0","id":3,"result":{"password" : "${R}","note":"Bearer ${R}","ssn":"${R}","tail":"unfinis`);
  assert.equal(r.text('{"result":{"token":"abc12345'), `{"result":{"token":"${R}`, 'a secret value cut before its closing quote');
});

test('a redacted payload is still the JSON it was: JSON text inside a string stays parseable', () => {
  const inner = JSON.stringify({ password: 'hunter2', url: 'https://u:pw@h/x', list: [1, 2] });
  const out = r.value({ content: [{ type: 'text', text: inner }] }) as { content: Array<{ text: string }> };
  assert.deepEqual(JSON.parse(out.content[0]!.text), { password: R, url: `https://u:${R}@h/x`, list: [1, 2] });
});
